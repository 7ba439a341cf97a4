"""Xero connector: the Accounting API (contacts, invoices, payments, credit notes, items, accounts) and the
connections endpoint through xero-python, plus the OAuth connect flow."""

from connectors.xero.client import STREAMS, ModifiedSincePager, XeroClient, XeroStream
from connectors.xero.config import XeroApp, XeroConfig, XeroCredentials
from connectors.xero.mapping import (
    account_to_row,
    contact_to_client,
    contact_to_row,
    credit_note_to_row,
    invoice_line_rows,
    invoice_to_row,
    item_to_row,
    parse_xero_date,
    parse_xero_datetime,
    payment_to_row,
)

__all__ = [
    "STREAMS",
    "ModifiedSincePager",
    "XeroApp",
    "XeroClient",
    "XeroConfig",
    "XeroCredentials",
    "XeroStream",
    "account_to_row",
    "contact_to_client",
    "contact_to_row",
    "credit_note_to_row",
    "invoice_line_rows",
    "invoice_to_row",
    "item_to_row",
    "parse_xero_date",
    "parse_xero_datetime",
    "payment_to_row",
]
