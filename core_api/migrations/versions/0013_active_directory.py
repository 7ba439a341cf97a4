"""Active Directory users and groups in the warehouse (issue 6)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 13:30:00

warehouse.active_directory_users / _groups mirror the connector's USER_COLUMNS / GROUP_COLUMNS, keyed by
(connection, objectGUID), with the same tenant RLS and analyst access as every warehouse table (0010, 0012).
The provisioned users and memberships live in the existing app.users / app.memberships, linked through
app.external_refs (entity 'user'): nothing changes there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from core_api.migration_helpers import secure_warehouse_table

revision: str = "0013"
down_revision: str | tuple[str, ...] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _owned() -> list:
    return [
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("dn", sa.Text(), nullable=False),
    ]


def _tail(table: str) -> list:
    return [
        sa.Column("usn_changed", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["app.connections.id"],
            name=op.f(f"fk_{table}_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["app.firms.id"], name=op.f(f"fk_{table}_firm_id_firms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("connection_id", "external_id", name=op.f(f"pk_{table}")),
    ]


def _indexes(table: str) -> None:
    op.create_index(f"ix_{table}_updated_at", table, ["connection_id", "updated_at"], schema="warehouse")
    op.create_index(op.f(f"ix_warehouse_{table}_firm_id"), table, ["firm_id"], schema="warehouse")
    secure_warehouse_table(f"warehouse.{table}")


def upgrade() -> None:
    op.create_table(
        "active_directory_users",
        *_owned(),
        sa.Column("sam_account_name", sa.Text(), nullable=True),
        sa.Column("user_principal_name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("given_name", sa.Text(), nullable=True),
        sa.Column("surname", sa.Text(), nullable=True),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("user_account_control", sa.Integer(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=True),
        sa.Column("member_of", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        *_tail("active_directory_users"),
        schema="warehouse",
        comment="Active Directory users, one row per (connection, objectGUID); gone from a full pass: "
        "deleted.",
    )
    _indexes("active_directory_users")
    op.create_table(
        "active_directory_groups",
        *_owned(),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("sam_account_name", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("group_type", sa.Integer(), nullable=True),
        sa.Column("members", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        *_tail("active_directory_groups"),
        schema="warehouse",
        comment="Active Directory groups with their member DNs, one row per (connection, objectGUID).",
    )
    _indexes("active_directory_groups")


def downgrade() -> None:
    for table in ("active_directory_groups", "active_directory_users"):
        op.drop_index(op.f(f"ix_warehouse_{table}_firm_id"), table_name=table, schema="warehouse")
        op.drop_index(f"ix_{table}_updated_at", table_name=table, schema="warehouse")
        op.drop_table(table, schema="warehouse")
