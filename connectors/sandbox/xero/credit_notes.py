"""Credit notes (developer.xero.com/documentation/api/accounting/creditnotes): read, paged like
invoices, allocated to invoices and refunded by payments. The sandbox seeds them; it does not emulate
creating them through the API."""

from datetime import date
from decimal import Decimal
from typing import Any

from connectors.sandbox.xero import contacts, invoices
from connectors.sandbox.xero.documents import ZERO, Totals
from connectors.sandbox.xero.store import Row
from connectors.sandbox.xero.tenant import CREDIT_NOTES, Batch, Change
from connectors.sandbox.xero.timefmt import date_string, json_date, json_timestamp

PROPERTIES = frozenset(
    [
        "Type",
        "Contact",
        "Date",
        "DueDate",
        "Status",
        "LineAmountTypes",
        "LineItems",
        "SubTotal",
        "TotalTax",
        "Total",
        "UpdatedDateUTC",
        "CurrencyCode",
        "FullyPaidOnDate",
        "CreditNoteID",
        "CreditNoteNumber",
        "Reference",
        "SentToContact",
        "CurrencyRate",
        "RemainingCredit",
        "Allocations",
        "AppliedAmount",
        "Payments",
        "HasAttachments",
        "HasErrors",
    ]
)


def new_entity(
    credit_note_id: str, number: str, contact: dict[str, Any], on: date, totals: Totals, updated_ms: int
) -> dict[str, Any]:
    return {
        "Type": "ACCRECCREDIT",
        "CreditNoteID": credit_note_id,
        "CreditNoteNumber": number,
        "ID": credit_note_id,
        "Reference": "",
        "Contact": contacts.summary(contact),
        "DateString": date_string(on),
        "Date": json_date(on),
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": totals.lines,
        "SubTotal": totals.sub_total,
        "TotalTax": totals.total_tax,
        "Total": totals.total,
        "UpdatedDateUTC": json_timestamp(updated_ms),
        "CurrencyCode": "USD",
        "CurrencyRate": invoices.ONE,
        "RemainingCredit": totals.total,
        "Allocations": [],
        "Payments": [],
        "HasAttachments": False,
        "HasErrors": False,
    }


def summary(entity: dict[str, Any]) -> dict[str, Any]:
    """How a payment embeds its credit note."""
    keep = ("Type", "CreditNoteID", "CreditNoteNumber", "Reference", "Contact", "Total", "RemainingCredit")
    return {**{k: entity[k] for k in keep}, "LineItems": [], "CurrencyCode": entity["CurrencyCode"]}


def _settle(entity: dict[str, Any], on: date) -> None:
    if entity["RemainingCredit"] <= 0:
        entity["Status"] = "PAID"
        entity["FullyPaidOnDate"] = json_date(on)
    elif entity["Status"] == "PAID":
        entity["Status"] = "AUTHORISED"
        entity.pop("FullyPaidOnDate", None)


def allocate_to_invoice(batch: Batch, note: Row, invoice: Row, amount: Decimal, on: date, now: float) -> None:
    entity = dict(note.entity)
    entity["RemainingCredit"] -= amount
    allocation = {
        "AllocationID": batch.tenant.new_id(),
        "Amount": amount,
        "Date": json_date(on),
        "Invoice": {
            "InvoiceID": invoice.id,
            "InvoiceNumber": invoice.entity["InvoiceNumber"],
            "Payments": [],
            "CreditNotes": [],
            "Prepayments": [],
            "Overpayments": [],
            "HasErrors": False,
            "IsDiscounted": False,
            "LineItems": [],
        },
    }
    entity["Allocations"] = [*entity["Allocations"], allocation]
    _settle(entity, on)
    stamp = batch.tenant.stamp(now)
    entity["UpdatedDateUTC"] = json_timestamp(stamp)
    batch.add(Change(CREDIT_NOTES, Row(note.id, entity, stamp), note, "UPDATE"))
    applied = {
        "CreditNoteID": note.id,
        "CreditNoteNumber": entity["CreditNoteNumber"],
        "ID": note.id,
        "AppliedAmount": amount,
        "DateString": date_string(on),
        "Date": json_date(on),
        "Total": entity["Total"],
        "HasErrors": False,
        "LineItems": [],
    }
    invoices.allocate(batch, invoice, now, credited=amount, credit_note=applied, on=on)


def refund(batch: Batch, note: Row, amount: Decimal, payment: dict[str, Any], on: date, now: float) -> Row:
    """A payment against a credit note (money paid back to the customer), or its reversal."""
    entity = dict(note.entity)
    entity["RemainingCredit"] -= amount
    payments = [p for p in entity["Payments"] if p["PaymentID"] != payment["PaymentID"]]
    entity["Payments"] = payments + ([payment] if amount > ZERO else [])
    _settle(entity, on)
    stamp = batch.tenant.stamp(now)
    entity["UpdatedDateUTC"] = json_timestamp(stamp)
    return batch.add(Change(CREDIT_NOTES, Row(note.id, entity, stamp), note, "UPDATE"))
