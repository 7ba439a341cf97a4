"""warehouse.stripe_* (issue 6), built from the Stripe connector's column lists (`*_COLUMNS`).

Same shape as every warehouse table (ADR 0004): the connector's columns typed by name, plus firm,
connection, synced_at and deleted_at, keyed by (connection, Stripe id). Amounts are unconstrained `numeric`
in major units of the row's currency (the connector converts minor units by the currency's exponent, so
a zero-decimal JPY 1099 is 1099, a USD 1099 is 10.99). A deleted customer keeps its last known columns and
gets `deleted_at` (ADR 0013).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Index, Numeric, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

from connectors.stripe.mapping import CHARGE_COLUMNS, CUSTOMER_COLUMNS, PAYMENT_INTENT_COLUMNS, REFUND_COLUMNS
from core_api.models.base import WAREHOUSE_SCHEMA, Base
from core_api.models.warehouse_accounting import _owned

_DECIMAL = {"amount", "amount_captured", "amount_refunded", "amount_received", "amount_capturable", "balance"}
_TIMESTAMP = {"created_at", "canceled_at"}
_BOOLEAN = {"delinquent", "livemode", "deleted", "paid", "captured", "refunded", "disputed"}
_JSON = {"metadata", "payment_method_types", "raw"}


def _type(name: str) -> TypeEngine:
    if name in _DECIMAL:
        return Numeric()
    if name in _TIMESTAMP:
        return DateTime(timezone=True)
    if name in _BOOLEAN:
        return Boolean()
    if name in _JSON:
        return JSONB()
    return Text()


def _table(name: str, columns: tuple[str, ...], comment: str, *indexes: Index) -> Table:
    return Table(
        name,
        Base.metadata,
        *_owned(),
        *(
            Column(c, _type(c), primary_key=c == "external_id", nullable=c not in ("external_id", "raw"))
            for c in columns
        ),
        Column("synced_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("deleted_at", DateTime(timezone=True)),
        Index(f"ix_{name}_created_at", "connection_id", "created_at"),
        *indexes,
        schema=WAREHOUSE_SCHEMA,
        comment=comment,
    )


STRIPE_CUSTOMERS = _table(
    "stripe_customers",
    CUSTOMER_COLUMNS,
    "Stripe customers, one row per (connection, customer id); deleted ones kept with deleted_at.",
)
STRIPE_CHARGES = _table(
    "stripe_charges",
    CHARGE_COLUMNS,
    "Stripe charges (the money that moved), one row per (connection, charge id).",
    Index("ix_stripe_charges_payment_intent", "connection_id", "payment_intent_id"),
)
STRIPE_PAYMENT_INTENTS = _table(
    "stripe_payment_intents",
    PAYMENT_INTENT_COLUMNS,
    "Stripe payment intents, one row per (connection, payment intent id).",
)
STRIPE_REFUNDS = _table(
    "stripe_refunds",
    REFUND_COLUMNS,
    "Stripe refunds, one row per (connection, refund id).",
    Index("ix_stripe_refunds_charge", "connection_id", "charge_id"),
)

TABLES: tuple[Table, ...] = (STRIPE_CUSTOMERS, STRIPE_CHARGES, STRIPE_PAYMENT_INTENTS, STRIPE_REFUNDS)
FIRM_SCOPED: list[str] = [f"{WAREHOUSE_SCHEMA}.{t.name}" for t in TABLES]
