"""Stripe customers, charges, payment intents and refunds in the warehouse (issue 6)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 13:20:00

warehouse.stripe_* mirror the connector's column lists (`connectors.stripe.mapping.*_COLUMNS`), keyed by
(connection, Stripe id), with the same tenant RLS and analyst access as every warehouse table (0010, 0012).
Webhook events need no new bookkeeping: app.webhook_inbox is unique per (provider, connection, event id) and
its `status`/`processed_at` flip in the transaction that applies the event (ADR 0013).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from core_api.migration_helpers import secure_warehouse_table

revision: str = "0014"
down_revision: str | tuple[str, ...] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stripe_customers",
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("balance", sa.Numeric(), nullable=True),
        sa.Column("delinquent", sa.Boolean(), nullable=True),
        sa.Column("address_line1", sa.Text(), nullable=True),
        sa.Column("address_line2", sa.Text(), nullable=True),
        sa.Column("city", sa.Text(), nullable=True),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("postal_code", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("livemode", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["app.connections.id"],
            name=op.f("fk_stripe_customers_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["app.firms.id"], name=op.f("fk_stripe_customers_firm_id_firms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("connection_id", "external_id", name=op.f("pk_stripe_customers")),
        schema="warehouse",
        comment="Stripe customers, one row per (connection, customer id); deleted ones kept with deleted_at.",
    )
    op.create_index(
        "ix_stripe_customers_created_at",
        "stripe_customers",
        ["connection_id", "created_at"],
        unique=False,
        schema="warehouse",
    )
    op.create_index(
        op.f("ix_warehouse_stripe_customers_firm_id"),
        "stripe_customers",
        ["firm_id"],
        unique=False,
        schema="warehouse",
    )
    secure_warehouse_table("warehouse.stripe_customers")
    op.create_table(
        "stripe_charges",
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=True),
        sa.Column("payment_intent_id", sa.Text(), nullable=True),
        sa.Column("invoice_id", sa.Text(), nullable=True),
        sa.Column("amount", sa.Numeric(), nullable=True),
        sa.Column("amount_captured", sa.Numeric(), nullable=True),
        sa.Column("amount_refunded", sa.Numeric(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("paid", sa.Boolean(), nullable=True),
        sa.Column("captured", sa.Boolean(), nullable=True),
        sa.Column("refunded", sa.Boolean(), nullable=True),
        sa.Column("disputed", sa.Boolean(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("receipt_email", sa.Text(), nullable=True),
        sa.Column("failure_code", sa.Text(), nullable=True),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("payment_method_type", sa.Text(), nullable=True),
        sa.Column("card_brand", sa.Text(), nullable=True),
        sa.Column("card_last4", sa.Text(), nullable=True),
        sa.Column("balance_transaction_id", sa.Text(), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("livemode", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["app.connections.id"],
            name=op.f("fk_stripe_charges_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["app.firms.id"], name=op.f("fk_stripe_charges_firm_id_firms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("connection_id", "external_id", name=op.f("pk_stripe_charges")),
        schema="warehouse",
        comment="Stripe charges (the money that moved), one row per (connection, charge id).",
    )
    op.create_index(
        "ix_stripe_charges_created_at",
        "stripe_charges",
        ["connection_id", "created_at"],
        unique=False,
        schema="warehouse",
    )
    op.create_index(
        "ix_stripe_charges_payment_intent",
        "stripe_charges",
        ["connection_id", "payment_intent_id"],
        unique=False,
        schema="warehouse",
    )
    op.create_index(
        op.f("ix_warehouse_stripe_charges_firm_id"),
        "stripe_charges",
        ["firm_id"],
        unique=False,
        schema="warehouse",
    )
    secure_warehouse_table("warehouse.stripe_charges")
    op.create_table(
        "stripe_payment_intents",
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=True),
        sa.Column("latest_charge_id", sa.Text(), nullable=True),
        sa.Column("invoice_id", sa.Text(), nullable=True),
        sa.Column("amount", sa.Numeric(), nullable=True),
        sa.Column("amount_received", sa.Numeric(), nullable=True),
        sa.Column("amount_capturable", sa.Numeric(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("receipt_email", sa.Text(), nullable=True),
        sa.Column("payment_method_types", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("capture_method", sa.Text(), nullable=True),
        sa.Column("canceled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("livemode", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["app.connections.id"],
            name=op.f("fk_stripe_payment_intents_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"],
            ["app.firms.id"],
            name=op.f("fk_stripe_payment_intents_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "external_id", name=op.f("pk_stripe_payment_intents")),
        schema="warehouse",
        comment="Stripe payment intents, one row per (connection, payment intent id).",
    )
    op.create_index(
        "ix_stripe_payment_intents_created_at",
        "stripe_payment_intents",
        ["connection_id", "created_at"],
        unique=False,
        schema="warehouse",
    )
    op.create_index(
        op.f("ix_warehouse_stripe_payment_intents_firm_id"),
        "stripe_payment_intents",
        ["firm_id"],
        unique=False,
        schema="warehouse",
    )
    secure_warehouse_table("warehouse.stripe_payment_intents")
    op.create_table(
        "stripe_refunds",
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("charge_id", sa.Text(), nullable=True),
        sa.Column("payment_intent_id", sa.Text(), nullable=True),
        sa.Column("amount", sa.Numeric(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("balance_transaction_id", sa.Text(), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["app.connections.id"],
            name=op.f("fk_stripe_refunds_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["app.firms.id"], name=op.f("fk_stripe_refunds_firm_id_firms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("connection_id", "external_id", name=op.f("pk_stripe_refunds")),
        schema="warehouse",
        comment="Stripe refunds, one row per (connection, refund id).",
    )
    op.create_index(
        "ix_stripe_refunds_charge",
        "stripe_refunds",
        ["connection_id", "charge_id"],
        unique=False,
        schema="warehouse",
    )
    op.create_index(
        "ix_stripe_refunds_created_at",
        "stripe_refunds",
        ["connection_id", "created_at"],
        unique=False,
        schema="warehouse",
    )
    op.create_index(
        op.f("ix_warehouse_stripe_refunds_firm_id"),
        "stripe_refunds",
        ["firm_id"],
        unique=False,
        schema="warehouse",
    )
    secure_warehouse_table("warehouse.stripe_refunds")


def downgrade() -> None:
    op.drop_index("ix_stripe_customers_created_at", table_name="stripe_customers", schema="warehouse")
    op.drop_index(
        op.f("ix_warehouse_stripe_customers_firm_id"), table_name="stripe_customers", schema="warehouse"
    )
    op.drop_table("stripe_customers", schema="warehouse")
    op.drop_index("ix_stripe_charges_created_at", table_name="stripe_charges", schema="warehouse")
    op.drop_index("ix_stripe_charges_payment_intent", table_name="stripe_charges", schema="warehouse")
    op.drop_index(
        op.f("ix_warehouse_stripe_charges_firm_id"), table_name="stripe_charges", schema="warehouse"
    )
    op.drop_table("stripe_charges", schema="warehouse")
    op.drop_index(
        "ix_stripe_payment_intents_created_at", table_name="stripe_payment_intents", schema="warehouse"
    )
    op.drop_index(
        op.f("ix_warehouse_stripe_payment_intents_firm_id"),
        table_name="stripe_payment_intents",
        schema="warehouse",
    )
    op.drop_table("stripe_payment_intents", schema="warehouse")
    op.drop_index("ix_stripe_refunds_charge", table_name="stripe_refunds", schema="warehouse")
    op.drop_index("ix_stripe_refunds_created_at", table_name="stripe_refunds", schema="warehouse")
    op.drop_index(
        op.f("ix_warehouse_stripe_refunds_firm_id"), table_name="stripe_refunds", schema="warehouse"
    )
    op.drop_table("stripe_refunds", schema="warehouse")
