"""Pure functions from Xero Accounting API payloads to warehouse rows and canonical records.

Payloads are the JSON objects of the Accounting API (`Contacts[]`, `Invoices[]`, `Payments[]`,
`CreditNotes[]`, `Items[]`, `Accounts[]`) exactly as Xero sends them. Only each record's ID is relied on;
every other field may be missing.

Xero dates come in Microsoft JSON form, `/Date(1503348544227+0000)/`: milliseconds since the Unix epoch
in UTC, optionally followed by the offset of the local time they were entered in (informational, the
milliseconds are already UTC). Request bodies and some answers use ISO-8601 instead; both are accepted.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.records import CanonicalClient

PROVIDER = "xero"

_MS_DATE = re.compile(r"^/Date\((?P<ms>-?\d+)(?P<offset>[+-]\d{4})?\)/$")


def parse_xero_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from `/Date(ms±hhmm)/` or ISO-8601 (a bare ISO time is UTC, as in
    `UpdatedDateUTC`)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value).strip()
        match = _MS_DATE.match(text)
        if match:
            return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(match["ms"]))
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"not a Xero date: {value!r}") from exc
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_xero_date(value: Any) -> date | None:
    """A calendar date (invoice date, due date). For `/Date(ms±hhmm)/` the offset names the local day."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    match = _MS_DATE.match(text)
    if match:
        instant = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(match["ms"]))
        offset = match["offset"]
        if offset:
            sign = 1 if offset[0] == "+" else -1
            instant += sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
        return instant.date()
    # DateString "2018-10-20 00:00:00", or an ISO date/time.
    try:
        return datetime.fromisoformat(text.replace(" ", "T", 1)).date()
    except ValueError as exc:
        raise ValueError(f"not a Xero date: {value!r}") from exc


# --------------------------------------------------------------------------- contacts

CONTACT_COLUMNS: tuple[str, ...] = (
    "external_id",
    "contact_number",
    "account_number",
    "status",
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "is_customer",
    "is_supplier",
    "tax_number",
    "default_currency",
    "updated_at",
    "raw",
)


def contact_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    """The `warehouse.xero_contacts` columns for one Contact payload."""
    address = _postal_address(payload)
    return {
        "external_id": _required(payload, "ContactID", "contact"),
        "contact_number": _text(payload.get("ContactNumber")),
        "account_number": _text(payload.get("AccountNumber")),
        "status": _text(payload.get("ContactStatus")),
        "name": _text(payload.get("Name")),
        "first_name": _text(payload.get("FirstName")),
        "last_name": _text(payload.get("LastName")),
        "email": _text(payload.get("EmailAddress")),
        "phone": _phone(payload),
        "address_line1": _text(address.get("AddressLine1")),
        "address_line2": _text(address.get("AddressLine2")),
        "city": _text(address.get("City")),
        "region": _text(address.get("Region")),
        "postal_code": _text(address.get("PostalCode")),
        "country": _text(address.get("Country")),
        "is_customer": _bool(payload.get("IsCustomer")),
        "is_supplier": _bool(payload.get("IsSupplier")),
        "tax_number": _text(payload.get("TaxNumber")),
        "default_currency": _text(payload.get("DefaultCurrency")),
        "updated_at": parse_xero_datetime(payload.get("UpdatedDateUTC")),
        "raw": payload,
    }


def contact_to_client(payload: dict[str, Any]) -> CanonicalClient:
    """The canonical client merged into the app's `clients` table."""
    row = contact_to_row(payload)
    if row["updated_at"] is None:
        raise ValueError(f"Xero contact {row['external_id']} has no UpdatedDateUTC")
    person = " ".join(p for p in (row["first_name"], row["last_name"]) if p)
    return CanonicalClient(
        provider=PROVIDER,
        external_id=row["external_id"],
        name=row["name"] or person or f"Xero contact {row['external_id']}",
        # Xero has one Name; a contact with a person's names besides it is an organisation.
        company_name=row["name"] if person and row["name"] and row["name"] != person else None,
        email=row["email"],
        phone=row["phone"],
        address_line1=row["address_line1"],
        address_line2=row["address_line2"],
        city=row["city"],
        region=row["region"],
        postal_code=row["postal_code"],
        country=row["country"],
        # ARCHIVED (and GDPRREQUEST) contacts are Xero's soft deletes.
        active=(row["status"] or "ACTIVE") == "ACTIVE",
        updated_at=row["updated_at"],
    )


_ADDRESS_FIELDS = (
    "AddressLine1",
    "AddressLine2",
    "AddressLine3",
    "AddressLine4",
    "City",
    "Region",
    "PostalCode",
    "Country",
)


def _postal_address(payload: dict[str, Any]) -> dict[str, Any]:
    """POBOX is the billing (postal) address Xero prints on invoices; STREET is the fallback."""
    addresses = [a for a in _list(payload.get("Addresses")) if isinstance(a, dict)]
    for kind in ("POBOX", "STREET"):
        for address in addresses:
            if address.get("AddressType") == kind and any(_text(address.get(f)) for f in _ADDRESS_FIELDS):
                return address
    return {}


def _phone(payload: dict[str, Any]) -> str | None:
    phones = {p.get("PhoneType"): p for p in _list(payload.get("Phones")) if isinstance(p, dict)}
    for kind in ("DEFAULT", "MOBILE", "DDI"):
        phone = phones.get(kind) or {}
        number = _text(phone.get("PhoneNumber"))
        if number:
            parts = (_text(phone.get("PhoneCountryCode")), _text(phone.get("PhoneAreaCode")), number)
            return " ".join(p for p in parts if p)
    return None


# --------------------------------------------------------------------------- invoices

INVOICE_COLUMNS: tuple[str, ...] = (
    "external_id",
    "type",
    "invoice_number",
    "reference",
    "contact_id",
    "contact_name",
    "status",
    "line_amount_types",
    "issue_date",
    "due_date",
    "currency",
    "currency_rate",
    "sub_total",
    "total_tax",
    "total",
    "amount_due",
    "amount_paid",
    "amount_credited",
    "fully_paid_on",
    "updated_at",
    "raw",
)

INVOICE_LINE_COLUMNS: tuple[str, ...] = (
    "invoice_id",
    "line_number",
    "line_item_id",
    "item_code",
    "description",
    "quantity",
    "unit_amount",
    "discount_rate",
    "line_amount",
    "account_code",
    "tax_type",
    "tax_amount",
)


def invoice_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    """The `warehouse.xero_invoices` columns for one Invoice payload (lines: `invoice_line_rows`)."""
    contact = _dict(payload.get("Contact"))
    return {
        "external_id": _required(payload, "InvoiceID", "invoice"),
        "type": _text(payload.get("Type")),
        "invoice_number": _text(payload.get("InvoiceNumber")),
        "reference": _text(payload.get("Reference")),
        "contact_id": _text(contact.get("ContactID")),
        "contact_name": _text(contact.get("Name")),
        "status": _text(payload.get("Status")),
        "line_amount_types": _text(payload.get("LineAmountTypes")),
        "issue_date": _calendar_date(payload, "Date"),
        "due_date": _calendar_date(payload, "DueDate"),
        "currency": _text(payload.get("CurrencyCode")),
        "currency_rate": _decimal(payload.get("CurrencyRate")),
        "sub_total": _decimal(payload.get("SubTotal")),
        "total_tax": _decimal(payload.get("TotalTax")),
        "total": _decimal(payload.get("Total")),
        "amount_due": _decimal(payload.get("AmountDue")),
        "amount_paid": _decimal(payload.get("AmountPaid")),
        "amount_credited": _decimal(payload.get("AmountCredited")),
        "fully_paid_on": parse_xero_date(payload.get("FullyPaidOnDate")),
        "updated_at": parse_xero_datetime(payload.get("UpdatedDateUTC")),
        "raw": payload,
    }


def invoice_line_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per line item, numbered from 1 in Xero's order."""
    invoice_id = _required(payload, "InvoiceID", "invoice")
    lines = [line for line in _list(payload.get("LineItems")) if isinstance(line, dict)]
    return [_line_row(invoice_id, number, line) for number, line in enumerate(lines, start=1)]


def _line_row(parent_id: str, number: int, line: dict[str, Any]) -> dict[str, Any]:
    return {
        "invoice_id": parent_id,
        "line_number": number,
        "line_item_id": _text(line.get("LineItemID")),
        "item_code": _text(line.get("ItemCode")),
        "description": _text(line.get("Description")),
        "quantity": _decimal(line.get("Quantity")),
        "unit_amount": _decimal(line.get("UnitAmount")),
        "discount_rate": _decimal(line.get("DiscountRate")),
        "line_amount": _decimal(line.get("LineAmount")),
        "account_code": _text(line.get("AccountCode")),
        "tax_type": _text(line.get("TaxType")),
        "tax_amount": _decimal(line.get("TaxAmount")),
    }


# --------------------------------------------------------------------------- payments

PAYMENT_COLUMNS: tuple[str, ...] = (
    "external_id",
    "payment_type",
    "status",
    "payment_date",
    "amount",
    "bank_amount",
    "currency_rate",
    "reference",
    "is_reconciled",
    "account_id",
    "account_code",
    "invoice_id",
    "invoice_number",
    "credit_note_id",
    "credit_note_number",
    "contact_id",
    "batch_payment_id",
    "updated_at",
    "raw",
)


def payment_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    """The `warehouse.xero_payments` columns for one Payment payload, with what it is allocated to.

    A payment applies to an invoice or a credit note. Xero names a refund of a credit note either in
    `CreditNote` or, as in its GET /Payments example, in `Invoice` with a `...CREDIT` type and the credit
    note's ID as `InvoiceID`.
    """
    account = _dict(payload.get("Account"))
    invoice = _dict(payload.get("Invoice"))
    credit_note = _dict(payload.get("CreditNote"))
    invoice_id = invoice_number = credit_note_id = credit_note_number = None
    if credit_note:
        credit_note_id = _text(credit_note.get("CreditNoteID"))
        credit_note_number = _text(credit_note.get("CreditNoteNumber"))
    elif invoice and str(invoice.get("Type") or "").endswith("CREDIT"):
        credit_note_id = _text(invoice.get("InvoiceID"))
        credit_note_number = _text(invoice.get("InvoiceNumber"))
    elif invoice:
        invoice_id = _text(invoice.get("InvoiceID"))
        invoice_number = _text(invoice.get("InvoiceNumber"))
    contact = _dict((invoice or credit_note).get("Contact"))
    return {
        "external_id": _required(payload, "PaymentID", "payment"),
        "payment_type": _text(payload.get("PaymentType")),
        "status": _text(payload.get("Status")),
        "payment_date": parse_xero_date(payload.get("Date")),
        "amount": _decimal(payload.get("Amount")),
        "bank_amount": _decimal(payload.get("BankAmount")),
        "currency_rate": _decimal(payload.get("CurrencyRate")),
        "reference": _text(payload.get("Reference")),
        "is_reconciled": _bool(payload.get("IsReconciled")),
        "account_id": _text(account.get("AccountID")),
        "account_code": _text(account.get("Code")),
        "invoice_id": invoice_id,
        "invoice_number": invoice_number,
        "credit_note_id": credit_note_id,
        "credit_note_number": credit_note_number,
        "contact_id": _text(contact.get("ContactID")),
        "batch_payment_id": _text(payload.get("BatchPaymentID")),
        "updated_at": parse_xero_datetime(payload.get("UpdatedDateUTC")),
        "raw": payload,
    }


# --------------------------------------------------------------------------- credit notes

CREDIT_NOTE_COLUMNS: tuple[str, ...] = (
    "external_id",
    "credit_note_number",
    "type",
    "status",
    "reference",
    "contact_id",
    "contact_name",
    "issue_date",
    "currency",
    "currency_rate",
    "sub_total",
    "total_tax",
    "total",
    "remaining_credit",
    "updated_at",
    "raw",
)


def credit_note_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    """The `warehouse.xero_credit_notes` columns for one CreditNote payload."""
    contact = _dict(payload.get("Contact"))
    return {
        "external_id": _required(payload, "CreditNoteID", "credit note"),
        "credit_note_number": _text(payload.get("CreditNoteNumber")),
        "type": _text(payload.get("Type")),
        "status": _text(payload.get("Status")),
        "reference": _text(payload.get("Reference")),
        "contact_id": _text(contact.get("ContactID")),
        "contact_name": _text(contact.get("Name")),
        "issue_date": _calendar_date(payload, "Date"),
        "currency": _text(payload.get("CurrencyCode")),
        "currency_rate": _decimal(payload.get("CurrencyRate")),
        "sub_total": _decimal(payload.get("SubTotal")),
        "total_tax": _decimal(payload.get("TotalTax")),
        "total": _decimal(payload.get("Total")),
        "remaining_credit": _decimal(payload.get("RemainingCredit")),
        "updated_at": parse_xero_datetime(payload.get("UpdatedDateUTC")),
        "raw": payload,
    }


# --------------------------------------------------------------------------- items and accounts

ITEM_COLUMNS: tuple[str, ...] = (
    "external_id",
    "code",
    "name",
    "description",
    "is_sold",
    "is_purchased",
    "is_tracked_as_inventory",
    "sales_unit_price",
    "sales_account_code",
    "sales_tax_type",
    "purchase_unit_price",
    "purchase_account_code",
    "updated_at",
    "raw",
)


def item_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    """The `warehouse.xero_items` columns for one Item payload."""
    sales = _dict(payload.get("SalesDetails"))
    purchase = _dict(payload.get("PurchaseDetails"))
    return {
        "external_id": _required(payload, "ItemID", "item"),
        "code": _text(payload.get("Code")),
        "name": _text(payload.get("Name")),
        "description": _text(payload.get("Description")),
        "is_sold": _bool(payload.get("IsSold")),
        "is_purchased": _bool(payload.get("IsPurchased")),
        "is_tracked_as_inventory": _bool(payload.get("IsTrackedAsInventory")),
        "sales_unit_price": _decimal(sales.get("UnitPrice")),
        "sales_account_code": _text(sales.get("AccountCode")),
        "sales_tax_type": _text(sales.get("TaxType")),
        "purchase_unit_price": _decimal(purchase.get("UnitPrice")),
        "purchase_account_code": _text(purchase.get("AccountCode")),
        "updated_at": parse_xero_datetime(payload.get("UpdatedDateUTC")),
        "raw": payload,
    }


ACCOUNT_COLUMNS: tuple[str, ...] = (
    "external_id",
    "code",
    "name",
    "type",
    "account_class",
    "status",
    "tax_type",
    "description",
    "currency",
    "enable_payments",
    "updated_at",
    "raw",
)


def account_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    """The `warehouse.xero_accounts` columns for one Account (chart of accounts) payload."""
    return {
        "external_id": _required(payload, "AccountID", "account"),
        "code": _text(payload.get("Code")),
        "name": _text(payload.get("Name")),
        "type": _text(payload.get("Type")),
        "account_class": _text(payload.get("Class")),
        "status": _text(payload.get("Status")),
        "tax_type": _text(payload.get("TaxType")),
        "description": _text(payload.get("Description")),
        "currency": _text(payload.get("CurrencyCode")),
        "enable_payments": _bool(payload.get("EnablePaymentsToAccount")),
        "updated_at": parse_xero_datetime(payload.get("UpdatedDateUTC")),
        "raw": payload,
    }


# --------------------------------------------------------------------------- helpers


def _calendar_date(payload: dict[str, Any], key: str) -> date | None:
    # `DateString` ("2018-10-20 00:00:00") is the day as entered; `Date` the same day as /Date(...)/.
    return parse_xero_date(payload.get(f"{key}String") or payload.get(key))


def _required(payload: dict[str, Any], key: str, what: str) -> str:
    value = _text(payload.get(key))
    if value is None:
        raise ValueError(f"Xero {what} payload has no {key}")
    return value


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        # str() first: Decimal(148062.76) would carry the binary float's error into the warehouse.
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {value!r}") from exc
