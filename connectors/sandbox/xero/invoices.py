"""Invoices (developer.xero.com/documentation/api/accounting/invoices).

Rules reproduced: statuses move DRAFT → SUBMITTED → AUTHORISED → PAID (by payments) and DRAFT /
SUBMITTED → DELETED, AUTHORISED → VOIDED (``POST /Invoices/{id}`` with ``Status: VOIDED``); anything
else is "Invoice not of valid status for modification". A document with a payment or credit note
allocated to it cannot be edited (only its reference, dates and URL). Sales invoice numbers are unique
("Invoice # must be unique.") and default to the next ``INV-0001``. Totals are computed by the server.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from connectors.sandbox.xero import contacts
from connectors.sandbox.xero.documents import ZERO, build_lines
from connectors.sandbox.xero.errors import Invalid
from connectors.sandbox.xero.jsonbody import RATE
from connectors.sandbox.xero.store import Row
from connectors.sandbox.xero.tenant import INVOICES, Batch, Change, name_key
from connectors.sandbox.xero.timefmt import date_string, json_date, json_timestamp, parse_client_date

PROPERTIES = frozenset(
    [
        "Type",
        "Contact",
        "LineItems",
        "Date",
        "DueDate",
        "LineAmountTypes",
        "InvoiceNumber",
        "Reference",
        "BrandingThemeID",
        "Url",
        "CurrencyCode",
        "CurrencyRate",
        "Status",
        "SentToContact",
        "ExpectedPaymentDate",
        "PlannedPaymentDate",
        "SubTotal",
        "TotalTax",
        "Total",
        "TotalDiscount",
        "InvoiceID",
        "HasAttachments",
        "IsDiscounted",
        "Payments",
        "Prepayments",
        "Overpayments",
        "AmountDue",
        "AmountPaid",
        "FullyPaidOnDate",
        "AmountCredited",
        "UpdatedDateUTC",
        "CreditNotes",
        "HasErrors",
    ]
)
TYPES = ("ACCREC", "ACCPAY")
TRANSITIONS = {
    "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "SUBMITTED": {"SUBMITTED", "DRAFT", "AUTHORISED", "DELETED"},
    "AUTHORISED": {"AUTHORISED", "VOIDED"},
    "PAID": {"PAID"},
    "VOIDED": set(),
    "DELETED": set(),
}
CREATE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
# What may still change once a payment or credit note is allocated.
EDITABLE_WHEN_PAID = frozenset(
    (
        *("Reference", "DueDate", "Url", "SentToContact", "ExpectedPaymentDate", "PlannedPaymentDate"),
        *("InvoiceID", "Type", "Status"),  # sent back unchanged by clients that echo what they read
    )
)
NOT_VALID_STATUS = "Invoice not of valid status for modification"
HAS_ALLOCATIONS = "This document cannot be edited as it has a payment or credit note allocated to it."
ONE = Decimal("1").quantize(RATE)


def summary(entity: dict[str, Any]) -> dict[str, Any]:
    """How a payment embeds its invoice."""
    keep = ("Type", "InvoiceID", "InvoiceNumber", "Reference", "AmountDue", "AmountPaid", "Contact")
    return {
        **{k: entity[k] for k in keep if k in entity},
        "Prepayments": [],
        "Overpayments": [],
        "CurrencyRate": entity["CurrencyRate"],
        "HasErrors": False,
        "IsDiscounted": entity["IsDiscounted"],
        "LineItems": [],
        "CurrencyCode": entity["CurrencyCode"],
    }


def _set_date(entity: dict[str, Any], key: str, value: Any) -> None:
    try:
        day = parse_client_date(value)
    except ValueError as exc:
        raise Invalid(f"{key} is not a valid date") from exc
    entity[f"{key}String"] = date_string(day)
    entity[key] = json_date(day)


def settle(entity: dict[str, Any]) -> dict[str, Any]:
    """Derive AmountDue and the PAID status from the total and what is allocated."""
    if entity["Status"] in ("VOIDED", "DELETED"):
        entity["AmountDue"] = ZERO
        return entity
    entity["AmountDue"] = entity["Total"] - entity["AmountPaid"] - entity["AmountCredited"]
    if entity["Status"] == "AUTHORISED" and entity["AmountDue"] <= 0 and entity["Total"] > 0:
        entity["Status"] = "PAID"
    elif entity["Status"] == "PAID" and entity["AmountDue"] > 0:
        entity["Status"] = "AUTHORISED"
        entity.pop("FullyPaidOnDate", None)
    return entity


def new_entity(invoice_id: str, kind: str, today: date) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "Type": kind,
        "InvoiceID": invoice_id,
        "InvoiceNumber": "",
        "Reference": "",
        "Payments": [],
        "CreditNotes": [],
        "Prepayments": [],
        "Overpayments": [],
        "AmountDue": ZERO,
        "AmountPaid": ZERO,
        "AmountCredited": ZERO,
        "CurrencyRate": ONE,
        "IsDiscounted": False,
        "HasAttachments": False,
        "HasErrors": False,
        "Contact": {},
        "Status": "DRAFT",
        "LineAmountTypes": "Exclusive",
        "LineItems": [],
        "SubTotal": ZERO,
        "TotalTax": ZERO,
        "Total": ZERO,
        "CurrencyCode": "USD",
    }
    _set_date(entity, "Date", today.isoformat())
    return entity


def prepare(
    batch: Batch, element: dict[str, Any], now: float, invoice_id: str | None = None, by_number: bool = False
) -> Row:
    """Create or update one invoice: update when it names an existing InvoiceID, or (``by_number``, as
    POST /Invoices does) the InvoiceNumber of an existing sales invoice."""
    tenant = batch.tenant
    invoice_id = (invoice_id or str(element.get("InvoiceID") or "")).lower() or None
    if (
        by_number
        and invoice_id is None
        and element.get("InvoiceNumber")
        and element.get("Type", "ACCREC") == "ACCREC"
    ):
        invoice_id = batch.invoice_numbered(str(element["InvoiceNumber"]))
    old = batch.get(INVOICES, invoice_id) if invoice_id else None
    if invoice_id and old is None:
        raise Invalid(f"Invoice with InvoiceID {invoice_id} could not be found.")
    if old is not None:
        entity = dict(old.entity)
        status = str(element.get("Status") or entity["Status"])
        if entity["Status"] in ("VOIDED", "DELETED") or status not in TRANSITIONS[entity["Status"]]:
            raise Invalid(NOT_VALID_STATUS)
        allocated = entity["AmountPaid"] > 0 or entity["AmountCredited"] > 0
        if allocated and (status != entity["Status"] or set(element) - EDITABLE_WHEN_PAID):
            raise Invalid(HAS_ALLOCATIONS)
    else:
        kind = element.get("Type")
        if kind not in TYPES:
            raise Invalid("Invoice Type must be specified as ACCREC or ACCPAY")
        invoice_id = tenant.new_id()
        entity = new_entity(invoice_id, kind, datetime.fromtimestamp(now, UTC).date())
        status = str(element.get("Status") or "DRAFT")
        if status not in CREATE_STATUSES:
            raise Invalid(f"Invoice cannot be created with status {status}")
    assert invoice_id is not None
    if old is None or "Contact" in element:
        contact = contacts.resolve_for_document(batch, element.get("Contact"), now)
        entity["Contact"] = contacts.summary(contact.entity)
        if entity["Type"] == "ACCREC":
            contacts.mark_customer(batch, batch.get(contacts.CONTACTS, contact.id) or contact)
    for key in ("Date", "DueDate", "ExpectedPaymentDate", "PlannedPaymentDate"):
        if element.get(key):
            _set_date(entity, key, element[key])
    for key in ("Reference", "Url", "BrandingThemeID", "SentToContact"):
        if element.get(key) is not None:
            entity[key] = element[key]
    if element.get("CurrencyCode") not in (None, "USD"):
        raise Invalid("The currency code must be USD: this organisation does not use multi-currency.")
    number = element.get("InvoiceNumber")
    if number is not None and str(number) != entity["InvoiceNumber"]:
        holder = batch.invoice_numbered(str(number)) if entity["Type"] == "ACCREC" else None
        if holder is not None and holder != invoice_id:
            raise Invalid("Invoice # must be unique.")
        entity["InvoiceNumber"] = str(number)
    if not entity["InvoiceNumber"] and entity["Type"] == "ACCREC":
        entity["InvoiceNumber"] = tenant.next_number("INV")
    if "LineAmountTypes" in element or "LineItems" in element or old is None:
        entity["LineAmountTypes"] = str(element.get("LineAmountTypes") or entity["LineAmountTypes"])
        given_lines = element.get("LineItems", entity["LineItems"]) or []
        totals = build_lines(tenant, given_lines, entity["LineAmountTypes"], entity["LineItems"])
        entity.update(
            LineItems=totals.lines, SubTotal=totals.sub_total, TotalTax=totals.total_tax, Total=totals.total
        )
        entity["IsDiscounted"] = any("DiscountRate" in line for line in totals.lines)
    entity["Status"] = status
    stamp = tenant.stamp(now)
    entity["UpdatedDateUTC"] = json_timestamp(stamp)
    settle(entity)
    if entity["Type"] == "ACCREC":
        batch.claimed_numbers[name_key(entity["InvoiceNumber"])] = invoice_id
    return batch.add(Change(INVOICES, Row(invoice_id, entity, stamp), old, "UPDATE" if old else "CREATE"))


def allocate(
    batch: Batch,
    row: Row,
    now: float,
    *,
    paid: Decimal = ZERO,
    credited: Decimal = ZERO,
    payment: dict[str, Any] | None = None,
    credit_note: dict[str, Any] | None = None,
    on: date | None = None,
) -> Row:
    """Apply (or, with negative amounts, take back) a payment or credit note; moves UpdatedDateUTC."""
    entity = dict(row.entity)
    entity["AmountPaid"] += paid
    entity["AmountCredited"] += credited
    if payment is not None:
        payments = [p for p in entity["Payments"] if p["PaymentID"] != payment["PaymentID"]]
        entity["Payments"] = payments + ([payment] if paid > 0 else [])
    if credit_note is not None:
        entity["CreditNotes"] = [*entity["CreditNotes"], credit_note]
    settle(entity)
    if entity["Status"] == "PAID" and on is not None:
        entity["FullyPaidOnDate"] = json_date(on)
    stamp = batch.tenant.stamp(now)
    entity["UpdatedDateUTC"] = json_timestamp(stamp)
    return batch.add(Change(INVOICES, Row(row.id, entity, stamp), row, "UPDATE"))
