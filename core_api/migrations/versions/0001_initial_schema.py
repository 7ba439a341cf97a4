"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


API_ROLE = "firmsync_api"
# Every table with firm_id gets FORCE row-level security (ADR 0002); firms is keyed by its own id.
FIRM_SCOPED = {
    "app.firms": "id",
    "app.memberships": "firm_id",
    "app.clients": "firm_id",
    "app.external_refs": "firm_id",
    "app.connections": "firm_id",
    "app.sync_requests": "firm_id",
    "app.sync_state": "firm_id",
    "warehouse.quickbooks_customers": "firm_id",
}


def upgrade() -> None:
    op.execute("create schema if not exists app")
    op.execute("create schema if not exists warehouse")
    op.create_table(
        "firms",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("timezone", sa.String(length=64), server_default=sa.text("'UTC'"), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default=sa.text("'USD'"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_firms")),
        sa.UniqueConstraint("slug", name=op.f("uq_firms_slug")),
        schema="app",
    )
    op.create_table(
        "users",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        schema="app",
    )
    op.create_table(
        "clients",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("address_line1", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=100), nullable=True),
        sa.Column(
            "status",
            sa.String(length=20),
            server_default=sa.text("'active'"),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["firm_id"],
            ["app.firms.id"],
            name=op.f("fk_clients_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
        schema="app",
    )
    op.create_index(
        op.f("ix_app_clients_firm_id"),
        "clients",
        ["firm_id"],
        unique=False,
        schema="app",
    )
    op.create_index(
        "ix_clients_firm_name",
        "clients",
        ["firm_id", "name"],
        unique=False,
        schema="app",
    )
    op.create_table(
        "connections",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("config", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("credentials_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column(
            "status",
            sa.String(length=20),
            server_default=sa.text("'active'"),
            nullable=False,
        ),
        sa.Column("status_detail", sa.Text(), nullable=True),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sync_status", sa.String(length=20), nullable=True),
        sa.Column("last_sync_records", sa.Integer(), nullable=True),
        sa.Column("last_sync_error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["firm_id"],
            ["app.firms.id"],
            name=op.f("fk_connections_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        schema="app",
    )
    op.create_index(
        op.f("ix_app_connections_firm_id"),
        "connections",
        ["firm_id"],
        unique=False,
        schema="app",
    )
    op.create_index(
        "uq_connections_account",
        "connections",
        ["firm_id", "provider", "account_id"],
        unique=True,
        schema="app",
        postgresql_where=sa.text("deleted_at is null"),
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "firm_admin",
                "partner",
                "manager",
                "staff",
                "billing",
                "readonly",
                name="role",
                schema="app",
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"],
            ["app.firms.id"],
            name=op.f("fk_memberships_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app.users.id"],
            name=op.f("fk_memberships_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint("firm_id", "user_id", name=op.f("uq_memberships_firm_id")),
        schema="app",
    )
    op.create_index(
        op.f("ix_app_memberships_firm_id"),
        "memberships",
        ["firm_id"],
        unique=False,
        schema="app",
    )
    op.create_index(
        op.f("ix_app_memberships_user_id"),
        "memberships",
        ["user_id"],
        unique=False,
        schema="app",
    )
    op.create_table(
        "external_refs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["app.connections.id"],
            name=op.f("fk_external_refs_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"],
            ["app.firms.id"],
            name=op.f("fk_external_refs_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_refs")),
        sa.UniqueConstraint(
            "connection_id", "entity", "external_id", name="uq_external_refs_source"
        ),
        schema="app",
    )
    op.create_index(
        op.f("ix_app_external_refs_firm_id"),
        "external_refs",
        ["firm_id"],
        unique=False,
        schema="app",
    )
    op.create_index(
        "ix_external_refs_entity",
        "external_refs",
        ["entity", "entity_id"],
        unique=False,
        schema="app",
    )
    op.create_table(
        "sync_requests",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("requested_by", sa.UUID(), nullable=True),
        sa.Column(
            "full_refresh",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.String(length=20),
            server_default=sa.text("'pending'"),
            nullable=False,
        ),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("records", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["app.connections.id"],
            name=op.f("fk_sync_requests_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"],
            ["app.firms.id"],
            name=op.f("fk_sync_requests_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_requests")),
        sa.UniqueConstraint("seq", name=op.f("uq_sync_requests_seq")),
        schema="app",
    )
    op.create_index(
        op.f("ix_app_sync_requests_firm_id"),
        "sync_requests",
        ["firm_id"],
        unique=False,
        schema="app",
    )
    op.create_table(
        "sync_state",
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("stream", sa.String(length=80), nullable=False),
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["app.connections.id"],
            name=op.f("fk_sync_state_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"],
            ["app.firms.id"],
            name=op.f("fk_sync_state_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "stream", name=op.f("pk_sync_state")),
        schema="app",
    )
    op.create_index(
        op.f("ix_app_sync_state_firm_id"),
        "sync_state",
        ["firm_id"],
        unique=False,
        schema="app",
    )
    op.create_table(
        "quickbooks_customers",
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column(
            "external_id",
            sa.String(length=64),
            nullable=False,
            comment="QuickBooks Customer.Id",
        ),
        sa.Column("sync_token", sa.String(length=32), nullable=True),
        sa.Column("display_name", sa.String(length=500), nullable=True),
        sa.Column("company_name", sa.String(length=500), nullable=True),
        sa.Column("given_name", sa.String(length=200), nullable=True),
        sa.Column("family_name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("address_line1", sa.String(length=500), nullable=True),
        sa.Column("city", sa.String(length=255), nullable=True),
        sa.Column("region", sa.String(length=255), nullable=True),
        sa.Column("postal_code", sa.String(length=30), nullable=True),
        sa.Column("country", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("balance", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "synced_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["app.connections.id"],
            name=op.f("fk_quickbooks_customers_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"],
            ["app.firms.id"],
            name=op.f("fk_quickbooks_customers_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "connection_id", "external_id", name=op.f("pk_quickbooks_customers")
        ),
        schema="warehouse",
        comment="QuickBooks Online Customer entities, one row per (connection, Id).",
    )
    op.create_index(
        op.f("ix_warehouse_quickbooks_customers_firm_id"),
        "quickbooks_customers",
        ["firm_id"],
        unique=False,
        schema="warehouse",
    )
    op.create_index(
        op.f("ix_warehouse_quickbooks_customers_updated_at"),
        "quickbooks_customers",
        ["updated_at"],
        unique=False,
        schema="warehouse",
    )
    # ### end Alembic commands ###
    _secure()


def _secure() -> None:
    # Unset or empty app.firm_id → NULL → no row matches: a session without a firm sees nothing.
    op.execute(
        """
        create function app.current_firm_id() returns uuid language sql stable as
        $$ select nullif(current_setting('app.firm_id', true), '')::uuid $$
        """
    )
    for table, column in FIRM_SCOPED.items():
        op.execute(f"alter table {table} enable row level security")
        op.execute(f"alter table {table} force row level security")
        op.execute(
            f"create policy tenant_isolation on {table} "
            f"using ({column} = app.current_firm_id()) with check ({column} = app.current_firm_id())"
        )
    # Login must find a user's firms before any firm is chosen: a narrow definer function, not a hole
    # in the policy. It runs as the owner (which must bypass RLS: superuser or BYPASSRLS).
    op.execute(
        """
        create function app.memberships_for_user(p_user uuid)
        returns table (firm_id uuid, firm_name text, role app.role)
        language sql stable security definer set search_path = pg_catalog, app as
        $$ select m.firm_id, f.name::text, m.role from app.memberships m join app.firms f on f.id = m.firm_id
           where m.user_id = p_user order by m.created_at $$
        """
    )
    op.execute("revoke all on function app.memberships_for_user(uuid) from public")
    # Bandit's B608 (SQL built from a string) is a false positive: API_ROLE is a module constant, not input.
    op.execute(
        f"""
        do $$ begin
          if not exists (select 1 from pg_roles where rolname = '{API_ROLE}') then
            create role {API_ROLE} nologin;
          end if;
        end $$
        """  # nosec B608
    )
    for schema in ("app", "warehouse"):
        op.execute(f"grant usage on schema {schema} to {API_ROLE}")
        op.execute(
            f"grant select, insert, update, delete on all tables in schema {schema} to {API_ROLE}"
        )
        op.execute(
            f"grant usage, select on all sequences in schema {schema} to {API_ROLE}"
        )
        op.execute(
            f"alter default privileges in schema {schema} "
            f"grant select, insert, update, delete on tables to {API_ROLE}"
        )
    op.execute(f"revoke insert, update, delete on app.alembic_version from {API_ROLE}")
    op.execute(
        f"grant execute on function app.memberships_for_user(uuid) to {API_ROLE}"
    )
    op.execute(f"grant execute on function app.current_firm_id() to {API_ROLE}")


def downgrade() -> None:
    op.execute("drop schema warehouse cascade")
    op.execute("drop function if exists app.memberships_for_user(uuid)")
    op.execute("drop function if exists app.current_firm_id()")
    for table in (
        "sync_state",
        "sync_requests",
        "external_refs",
        "memberships",
        "clients",
        "connections",
        "users",
        "firms",
    ):
        op.execute(f"drop table if exists app.{table} cascade")
    op.execute("drop type if exists app.role")
