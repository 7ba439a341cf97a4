"""OAuth connect sessions, per-connection mapping, sync conflicts (issue 5)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from core_api.migration_helpers import API_ROLE, secure_table

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "connections",
        sa.Column("mapping", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
        schema="app",
    )
    op.create_table(
        "oauth_sessions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("secrets_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("accounts", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("sync_interval_minutes", sa.Integer(), server_default=sa.text("60"), nullable=False),
        sa.Column("status", sa.String(length=20), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("connection_id", sa.UUID(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status in ('pending', 'awaiting_account', 'completed', 'failed')",
            name=op.f("ck_oauth_sessions_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["app.connections.id"], name=op.f("fk_oauth_sessions_connection_id_connections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["firm_id"], ["app.firms.id"], name=op.f("fk_oauth_sessions_firm_id_firms"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_sessions")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_oauth_sessions_state_hash")),
        schema="app",
    )
    op.create_index(op.f("ix_app_oauth_sessions_firm_id"), "oauth_sessions", ["firm_id"], unique=False, schema="app")
    secure_table("app.oauth_sessions")

    op.create_table(
        "sync_conflicts",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("platform_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("vendor_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=20), nullable=False),
        sa.Column("platform_payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("vendor_payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "resolution in ('platform_wins', 'vendor_wins')", name=op.f("ck_sync_conflicts_resolution_known")
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["app.connections.id"], name=op.f("fk_sync_conflicts_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["firm_id"], ["app.firms.id"], name=op.f("fk_sync_conflicts_firm_id_firms"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
        schema="app",
    )
    op.create_index(op.f("ix_app_sync_conflicts_firm_id"), "sync_conflicts", ["firm_id"], unique=False, schema="app")
    secure_table("app.sync_conflicts")

    # The OAuth callback is a browser redirect with no bearer token: the API role (no firm set, RLS on) cannot
    # see the session its `state` names. A narrow definer function, like app.webhook_target (ADR 0002): one
    # live session of one provider by the hash of a secret we issued, never a listing. The caller then works
    # in a tenant transaction for the returned firm.
    op.execute(
        """
        create function app.oauth_session_firm(p_provider text, p_state_hash text)
        returns table (session_id uuid, firm_id uuid)
        language sql stable security definer set search_path = pg_catalog, app as
        $$ select s.id, s.firm_id from app.oauth_sessions s
           where s.provider = p_provider and s.state_hash = p_state_hash
             and s.status = 'pending' and s.expires_at > now() $$
        """
    )
    op.execute("revoke all on function app.oauth_session_firm(text, text) from public")
    op.execute(f"grant execute on function app.oauth_session_firm(text, text) to {API_ROLE}")


def downgrade() -> None:
    op.execute("drop function if exists app.oauth_session_firm(text, text)")
    op.drop_table("sync_conflicts", schema="app")
    op.drop_table("oauth_sessions", schema="app")
    op.drop_column("connections", "mapping", schema="app")
