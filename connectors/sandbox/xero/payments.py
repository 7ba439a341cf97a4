"""Payments (developer.xero.com/documentation/api/accounting/payments).

A payment applies an amount from a bank account (or an account with payments enabled) to an
AUTHORISED invoice, or refunds a credit note. It cannot exceed what is outstanding ("Payment amount
exceeds the amount outstanding on this document"). Paying the whole amount makes the invoice PAID.
Payments are never edited, only deleted (``POST /Payments/{id}`` with ``Status: DELETED``), which
puts the amount back on the document. Xero sends no webhook for payments; the invoice they change
gets its own UPDATE event.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.sandbox.xero import credit_notes, invoices
from connectors.sandbox.xero.documents import ZERO, cents
from connectors.sandbox.xero.errors import Invalid
from connectors.sandbox.xero.store import Row
from connectors.sandbox.xero.tenant import ACCOUNTS, CREDIT_NOTES, INVOICES, PAYMENTS, Batch, Change, name_key
from connectors.sandbox.xero.timefmt import json_date, json_timestamp, parse_client_date

PROPERTIES = frozenset(
    [
        "Invoice",
        "CreditNote",
        "InvoiceNumber",
        "CreditNoteNumber",
        "Account",
        "Code",
        "Date",
        "CurrencyRate",
        "Amount",
        "BankAmount",
        "Reference",
        "IsReconciled",
        "Status",
        "PaymentType",
        "UpdatedDateUTC",
        "PaymentID",
        "HasAccount",
    ]
)
PAYMENT_TYPES = {"ACCREC": "ACCRECPAYMENT", "ACCPAY": "ACCPAYPAYMENT", "ACCRECCREDIT": "ARCREDITPAYMENT"}
NOT_AUTHORISED = "Payments can only be made against Authorised documents."
TOO_MUCH = "Payment amount exceeds the amount outstanding on this document"


def _account(batch: Batch, given: Any) -> Row:
    if not isinstance(given, dict):
        raise Invalid("You must specify an Account for the payment.")
    row = None
    if given.get("AccountID"):
        row = batch.get(ACCOUNTS, str(given["AccountID"]))
    elif given.get("Code"):
        row = batch.tenant.account_by_code(str(given["Code"]))
    if row is None:
        raise Invalid("Account could not be found.")
    if row.entity["Type"] != "BANK" and not row.entity.get("EnablePaymentsToAccount"):
        raise Invalid("Account type is invalid for making a payment to/from.")
    return row


def _document(batch: Batch, element: dict[str, Any]) -> tuple[str, Row]:
    invoice, note = element.get("Invoice"), element.get("CreditNote")
    if isinstance(invoice, dict):
        row = None
        if invoice.get("InvoiceID"):
            row = batch.get(INVOICES, str(invoice["InvoiceID"]))
        elif invoice.get("InvoiceNumber"):
            found = batch.invoice_numbered(str(invoice["InvoiceNumber"]))
            row = batch.get(INVOICES, found) if found else None
        if row is None:
            raise Invalid("Invoice could not be found.")
        return INVOICES, row
    if isinstance(note, dict):
        row = None
        if note.get("CreditNoteID"):
            row = batch.get(CREDIT_NOTES, str(note["CreditNoteID"]))
        elif note.get("CreditNoteNumber"):
            found = batch.tenant.credit_note_numbers.get(name_key(str(note["CreditNoteNumber"])))
            row = batch.get(CREDIT_NOTES, found) if found else None
        if row is None:
            raise Invalid("Credit note could not be found.")
        return CREDIT_NOTES, row
    raise Invalid("You must specify either an Invoice or a CreditNote for the payment.")


def prepare(batch: Batch, element: dict[str, Any], now: float) -> Row:
    try:
        amount = cents(Decimal(str(element.get("Amount"))))
    except ArithmeticError as exc:
        raise Invalid("Payment amount must be a number.") from exc
    if amount <= 0:
        raise Invalid("Payment amount must be greater than zero.")
    table, document = _document(batch, element)
    account = _account(batch, element.get("Account"))
    try:
        on = (
            parse_client_date(element["Date"])
            if element.get("Date")
            else datetime.fromtimestamp(now, UTC).date()
        )
    except ValueError as exc:
        raise Invalid("Date is not a valid date.") from exc
    doc = document.entity
    if doc["Status"] != "AUTHORISED":
        raise Invalid(NOT_AUTHORISED)
    outstanding = doc["AmountDue"] if table == INVOICES else doc["RemainingCredit"]
    if amount > outstanding:
        raise Invalid(TOO_MUCH)
    payment_id = batch.tenant.new_id()
    reference = str(element.get("Reference") or "")
    on_document = {
        "PaymentID": payment_id,
        "Date": json_date(on),
        "Amount": amount,
        "Reference": reference,
        "CurrencyRate": invoices.ONE,
        "HasAccount": False,
        "HasValidationErrors": False,
    }
    if table == INVOICES:
        document = invoices.allocate(batch, document, now, paid=amount, payment=on_document, on=on)
        embedded = {"Invoice": invoices.summary(document.entity)}
    else:
        document = credit_notes.refund(batch, document, amount, on_document, on, now)
        embedded = {"CreditNote": credit_notes.summary(document.entity)}
    stamp = batch.tenant.stamp(now)
    entity = {
        "PaymentID": payment_id,
        "Date": json_date(on),
        "BankAmount": amount,
        "Amount": amount,
        "Reference": reference,
        "CurrencyRate": invoices.ONE,
        "PaymentType": PAYMENT_TYPES[doc["Type"]],
        "Status": "AUTHORISED",
        "UpdatedDateUTC": json_timestamp(stamp),
        "HasAccount": True,
        "IsReconciled": bool(element.get("IsReconciled", False)),
        "Account": {"AccountID": account.id, "Code": account.entity["Code"], "Name": account.entity["Name"]},
        **embedded,
        "HasValidationErrors": False,
    }
    return batch.add(Change(PAYMENTS, Row(payment_id, entity, stamp), None))


def delete(batch: Batch, payment: Row, element: dict[str, Any], now: float) -> Row:
    if element.get("Status") != "DELETED" or payment.entity["Status"] == "DELETED":
        raise Invalid("Payments can only be deleted: send Status DELETED for an AUTHORISED payment.")
    entity = dict(payment.entity)
    amount = entity["Amount"]
    back = {"PaymentID": payment.id}
    if "Invoice" in entity:
        invoice = batch.get(INVOICES, entity["Invoice"]["InvoiceID"])
        assert invoice is not None
        invoice = invoices.allocate(batch, invoice, now, paid=-amount, payment=back)
        entity["Invoice"] = invoices.summary(invoice.entity)
    else:
        note = batch.get(CREDIT_NOTES, entity["CreditNote"]["CreditNoteID"])
        assert note is not None
        on = datetime.fromtimestamp(now, UTC).date()
        note = credit_notes.refund(batch, note, -amount, back, on, now)
        entity["CreditNote"] = credit_notes.summary(note.entity)
    stamp = batch.tenant.stamp(now)
    entity.update(Status="DELETED", UpdatedDateUTC=json_timestamp(stamp), Amount=ZERO + amount)
    return batch.add(Change(PAYMENTS, Row(payment.id, entity, stamp), payment))
