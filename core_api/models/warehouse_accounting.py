"""warehouse.<vendor>_<stream> for the accounting streams (issue 5), built from the connectors' column lists.

Each connector's mapping module declares the columns its rows carry (`*_COLUMNS`); the table here has
exactly those, typed by name, plus the bookkeeping every warehouse table has (firm, connection, synced_at,
deleted_at; ADR 0004). Decimals are unconstrained `numeric`, so a vendor's amounts are mirrored exactly.
Child tables (invoice lines, payment allocations) are keyed by their parent and replaced with it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.types import TypeEngine

from connectors.quickbooks import mapping as qbo
from connectors.xero import mapping as xero
from core_api.models.base import APP_SCHEMA, WAREHOUSE_SCHEMA, Base

_DECIMAL = {
    "exchange_rate", "currency_rate", "subtotal", "sub_total", "tax_total", "total_tax", "total", "balance",
    "amount_paid", "amount_due", "amount_credited", "remaining_credit", "unapplied", "unit_price",
    "current_balance", "amount", "bank_amount", "quantity", "unit_amount", "discount_rate", "line_amount",
    "tax_amount", "sales_unit_price", "purchase_unit_price",
}  # fmt: skip
_DATE = {"txn_date", "due_date", "issue_date", "payment_date", "fully_paid_on", "service_date"}
_TIMESTAMP = {"created_at", "updated_at"}
_BOOLEAN = {
    "voided", "active", "taxable", "sub_account", "is_customer", "is_supplier", "is_reconciled", "is_sold",
    "is_purchased", "is_tracked_as_inventory", "enable_payments",
}  # fmt: skip


def _type(name: str) -> TypeEngine:
    if name in _DECIMAL:
        return Numeric()
    if name in _DATE:
        return Date()
    if name in _TIMESTAMP:
        return DateTime(timezone=True)
    if name in _BOOLEAN:
        return Boolean()
    if name == "line_number":
        return Integer()
    if name == "raw":
        return JSONB()
    return Text()


def _owned() -> list[Column]:
    return [
        Column("firm_id", UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.firms.id", ondelete="CASCADE"),
               nullable=False, index=True),
        Column("connection_id", UUID(as_uuid=True),
               ForeignKey(f"{APP_SCHEMA}.connections.id", ondelete="CASCADE"), primary_key=True),
    ]  # fmt: skip


def stream_table(name: str, columns: Iterable[str], comment: str) -> Table:
    """A synced stream: one row per (connection, vendor id), soft-deleted rather than removed."""
    cols = [
        Column(c, _type(c), primary_key=c == "external_id", nullable=c not in ("external_id", "raw"))
        for c in columns
    ]
    return Table(
        name,
        Base.metadata,
        *_owned(),
        *cols,
        Column("synced_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("deleted_at", DateTime(timezone=True)),
        Index(f"ix_{name}_updated_at", "connection_id", "updated_at"),
        schema=WAREHOUSE_SCHEMA,
        comment=comment,
    )


def child_table(name: str, columns: Iterable[str], key: tuple[str, ...], comment: str) -> Table:
    """Rows a parent record carries (lines, allocations), keyed by (connection, *key)."""
    cols = [Column(c, _type(c), primary_key=c in key, nullable=c not in key) for c in columns]
    return Table(name, Base.metadata, *_owned(), *cols, schema=WAREHOUSE_SCHEMA, comment=comment)


XERO_CONTACTS = stream_table(
    "xero_contacts", xero.CONTACT_COLUMNS, "Xero contacts, one row per (connection, ContactID)."
)
XERO_INVOICES = stream_table(
    "xero_invoices",
    xero.INVOICE_COLUMNS,
    "Xero invoices (ACCREC and ACCPAY), one row per (connection, InvoiceID).",
)
XERO_INVOICE_LINES = child_table(
    "xero_invoice_lines",
    xero.INVOICE_LINE_COLUMNS,
    ("invoice_id", "line_number"),
    "Line items of warehouse.xero_invoices, replaced with their invoice.",
)
XERO_PAYMENTS = stream_table(
    "xero_payments", xero.PAYMENT_COLUMNS, "Xero payments, each applied to one invoice or credit note."
)
XERO_CREDIT_NOTES = stream_table("xero_credit_notes", xero.CREDIT_NOTE_COLUMNS, "Xero credit notes.")
XERO_ITEMS = stream_table(
    "xero_items", xero.ITEM_COLUMNS, "Xero items (products and services), for push mapping."
)
XERO_ACCOUNTS = stream_table(
    "xero_accounts", xero.ACCOUNT_COLUMNS, "Xero chart of accounts, for push mapping."
)

QBO_INVOICES = stream_table(
    "quickbooks_invoices", qbo.INVOICE_COLUMNS, "QuickBooks Online invoices, one row per (connection, Id)."
)
QBO_INVOICE_LINES = child_table(
    "quickbooks_invoice_lines", qbo.INVOICE_LINE_COLUMNS, ("invoice_external_id", "line_id"),
    "Sales lines of warehouse.quickbooks_invoices (no computed subtotal lines), replaced with it.",
)  # fmt: skip
QBO_CREDIT_MEMOS = stream_table(
    "quickbooks_credit_memos", qbo.CREDIT_MEMO_COLUMNS, "QuickBooks Online credit memos."
)
QBO_CREDIT_MEMO_LINES = child_table(
    "quickbooks_credit_memo_lines", qbo.CREDIT_MEMO_LINE_COLUMNS, ("credit_memo_external_id", "line_id"),
    "Sales lines of warehouse.quickbooks_credit_memos, replaced with their credit memo.",
)  # fmt: skip
QBO_PAYMENTS = stream_table(
    "quickbooks_payments", qbo.PAYMENT_COLUMNS, "QuickBooks Online received payments."
)
QBO_PAYMENT_ALLOCATIONS = child_table(
    "quickbooks_payment_allocations", qbo.PAYMENT_ALLOCATION_COLUMNS,
    ("payment_external_id", "txn_type", "txn_id"),
    "What each payment settled (Invoice / CreditMemo, amount), replaced with its payment.",
)  # fmt: skip
QBO_ITEMS = stream_table("quickbooks_items", qbo.ITEM_COLUMNS, "QuickBooks Online items, for push mapping.")
QBO_ACCOUNTS = stream_table(
    "quickbooks_accounts", qbo.ACCOUNT_COLUMNS, "QuickBooks Online chart of accounts, for push mapping."
)

TABLES: tuple[Table, ...] = (
    QBO_INVOICES, QBO_INVOICE_LINES, QBO_CREDIT_MEMOS, QBO_CREDIT_MEMO_LINES, QBO_PAYMENTS,
    QBO_PAYMENT_ALLOCATIONS, QBO_ITEMS, QBO_ACCOUNTS,
    XERO_CONTACTS, XERO_INVOICES, XERO_INVOICE_LINES, XERO_PAYMENTS, XERO_CREDIT_NOTES, XERO_ITEMS,
    XERO_ACCOUNTS,
)  # fmt: skip
FIRM_SCOPED: list[str] = [f"{WAREHOUSE_SCHEMA}.{t.name}" for t in TABLES]
