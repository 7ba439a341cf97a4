"""Salesforce accounts, contacts, leads and opportunities in the warehouse (issue 6)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 13:30:00

warehouse.salesforce_{accounts,contacts,leads,opportunities} mirror the column lists of
`connectors.salesforce.mapping`, one row per (connection, Salesforce Id), with the same tenant RLS and
analyst access as every warehouse table (0010, 0012). Deleted records (getDeleted) keep their columns and
get `deleted_at`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from core_api.migration_helpers import secure_warehouse_table

revision: str = "0017"
down_revision: str | tuple[str, ...] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _owned(name: str) -> list:
    return [
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["app.connections.id"],
            name=op.f(f"fk_{name}_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["firm_id"], ["app.firms.id"], name=op.f(f"fk_{name}_firm_id_firms"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("connection_id", "external_id", name=op.f(f"pk_{name}")),
    ]


def _bookkeeping() -> list:
    return [
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    ]


TABLES = {
    "salesforce_accounts": (
        'Salesforce accounts, one row per (connection, Account Id).',
        [
            sa.Column("firm_id", sa.UUID(), nullable=False),
            sa.Column("connection_id", sa.UUID(), nullable=False),
            sa.Column("external_id", sa.Text(), nullable=False),
            sa.Column("name", sa.Text(), nullable=True),
            sa.Column("account_type", sa.Text(), nullable=True),
            sa.Column("industry", sa.Text(), nullable=True),
            sa.Column("phone", sa.Text(), nullable=True),
            sa.Column("website", sa.Text(), nullable=True),
            sa.Column("billing_street", sa.Text(), nullable=True),
            sa.Column("billing_city", sa.Text(), nullable=True),
            sa.Column("billing_state", sa.Text(), nullable=True),
            sa.Column("billing_postal_code", sa.Text(), nullable=True),
            sa.Column("billing_country", sa.Text(), nullable=True),
            sa.Column("annual_revenue", sa.Numeric(), nullable=True),
            sa.Column("employees", sa.Integer(), nullable=True),
            sa.Column("owner_id", sa.Text(), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("system_modstamp", sa.DateTime(timezone=True), nullable=True),
        ],
    ),
    "salesforce_contacts": (
        'Salesforce contacts, one row per (connection, Contact Id).',
        [
            sa.Column("firm_id", sa.UUID(), nullable=False),
            sa.Column("connection_id", sa.UUID(), nullable=False),
            sa.Column("external_id", sa.Text(), nullable=False),
            sa.Column("account_id", sa.Text(), nullable=True),
            sa.Column("first_name", sa.Text(), nullable=True),
            sa.Column("last_name", sa.Text(), nullable=True),
            sa.Column("name", sa.Text(), nullable=True),
            sa.Column("email", sa.Text(), nullable=True),
            sa.Column("phone", sa.Text(), nullable=True),
            sa.Column("title", sa.Text(), nullable=True),
            sa.Column("firmsync_id", sa.Text(), nullable=True),
            sa.Column("owner_id", sa.Text(), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("system_modstamp", sa.DateTime(timezone=True), nullable=True),
        ],
    ),
    "salesforce_leads": (
        'Salesforce leads, one row per (connection, Lead Id).',
        [
            sa.Column("firm_id", sa.UUID(), nullable=False),
            sa.Column("connection_id", sa.UUID(), nullable=False),
            sa.Column("external_id", sa.Text(), nullable=False),
            sa.Column("first_name", sa.Text(), nullable=True),
            sa.Column("last_name", sa.Text(), nullable=True),
            sa.Column("name", sa.Text(), nullable=True),
            sa.Column("company", sa.Text(), nullable=True),
            sa.Column("email", sa.Text(), nullable=True),
            sa.Column("phone", sa.Text(), nullable=True),
            sa.Column("status", sa.Text(), nullable=True),
            sa.Column("lead_source", sa.Text(), nullable=True),
            sa.Column("is_converted", sa.Boolean(), nullable=True),
            sa.Column("firmsync_id", sa.Text(), nullable=True),
            sa.Column("owner_id", sa.Text(), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("system_modstamp", sa.DateTime(timezone=True), nullable=True),
        ],
    ),
    "salesforce_opportunities": (
        'Salesforce opportunities, one row per (connection, Opportunity Id).',
        [
            sa.Column("firm_id", sa.UUID(), nullable=False),
            sa.Column("connection_id", sa.UUID(), nullable=False),
            sa.Column("external_id", sa.Text(), nullable=False),
            sa.Column("account_id", sa.Text(), nullable=True),
            sa.Column("name", sa.Text(), nullable=True),
            sa.Column("stage_name", sa.Text(), nullable=True),
            sa.Column("amount", sa.Numeric(), nullable=True),
            sa.Column("close_date", sa.Date(), nullable=True),
            sa.Column("probability", sa.Numeric(), nullable=True),
            sa.Column("is_closed", sa.Boolean(), nullable=True),
            sa.Column("is_won", sa.Boolean(), nullable=True),
            sa.Column("owner_id", sa.Text(), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("system_modstamp", sa.DateTime(timezone=True), nullable=True),
        ],
    ),
}


def upgrade() -> None:
    for name, (comment, columns) in TABLES.items():
        op.create_table(name, *columns, *_bookkeeping(), *_owned(name), schema="warehouse", comment=comment)
        op.create_index(f"ix_{name}_modstamp", name, ["connection_id", "system_modstamp"], schema="warehouse")
        op.create_index(op.f(f"ix_warehouse_{name}_firm_id"), name, ["firm_id"], schema="warehouse")
        secure_warehouse_table(f"warehouse.{name}")


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_index(op.f(f"ix_warehouse_{name}_firm_id"), table_name=name, schema="warehouse")
        op.drop_index(f"ix_{name}_modstamp", table_name=name, schema="warehouse")
        op.drop_table(name, schema="warehouse")
