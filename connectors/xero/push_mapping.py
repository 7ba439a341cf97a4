"""Pure functions from the app's records to Xero Accounting API payloads, for push.

Account codes, item codes and tax types come from the connection's `XeroAccountingMapping`, never
from constants (a chart of accounts is the firm's own). Fields the app has no value for are left
out: Xero reads an absent field as unchanged, so an update keeps what the firm entered in Xero.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.records import CanonicalInvoice, ClientDetails
from connectors.xero.config import XeroAccountingMapping

NAME_MAX = 255  # Contact.Name: "max length = 255" (Xero API reference)
INVOICE_NUMBER_MAX = 255


def client_to_contact(client: ClientDetails) -> dict[str, Any]:
    """A Contact payload (create, or update when the caller adds ContactID) for one of the firm's clients."""
    if len(client.name) > NAME_MAX:
        raise ValueError(f"client name is longer than Xero's {NAME_MAX} characters")
    payload: dict[str, Any] = {
        "Name": client.name,
        # ARCHIVED is Xero's soft delete of a contact.
        "ContactStatus": "ACTIVE" if client.active else "ARCHIVED",
        "IsCustomer": True,
    }
    if client.email:
        payload["EmailAddress"] = client.email
    if client.phone:
        payload["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": client.phone}]
    address = {
        key: value
        for key, value in (
            ("AddressLine1", client.address_line1),
            ("AddressLine2", client.address_line2),
            ("City", client.city),
            ("Region", client.region),
            ("PostalCode", client.postal_code),
            ("Country", client.country),
        )
        if value
    }
    if address:
        # POBOX is the billing address Xero prints on invoices (what the pull maps back, too).
        payload["Addresses"] = [{"AddressType": "POBOX", **address}]
    return payload


def invoice_to_payload(invoice: CanonicalInvoice, mapping: XeroAccountingMapping) -> dict[str, Any]:
    """An ACCREC Invoice payload (create, or update replacing the lines), approved as the app has sent it."""
    if len(invoice.number) > INVOICE_NUMBER_MAX:
        raise ValueError(f"invoice number {invoice.number!r} is longer than Xero's {INVOICE_NUMBER_MAX}")
    lines = []
    for number, line in enumerate(invoice.lines, start=1):
        item: dict[str, Any] = {
            "Description": line.description,
            "Quantity": _number(line.quantity),
            "UnitAmount": _number(line.unit_price),
            "LineAmount": _number(line.amount),
            "AccountCode": mapping.account_for(line.service),
        }
        if (code := mapping.item_for(line.service)) is not None:
            item["ItemCode"] = code
        if line.tax_rate:
            if mapping.taxed_tax_type is None:
                raise ValueError(
                    f"line {number} is taxed at {line.tax_rate}% and the mapping has no "
                    "taxed_tax_type (Tax type for taxed lines)"
                )
            item["TaxType"] = mapping.taxed_tax_type
        elif mapping.untaxed_tax_type is not None:
            item["TaxType"] = mapping.untaxed_tax_type
        lines.append(item)
    payload: dict[str, Any] = {
        "Type": "ACCREC",
        "Contact": {"ContactID": invoice.customer_external_id},
        "InvoiceNumber": invoice.number,
        "Date": invoice.issue_date.isoformat(),
        "DueDate": invoice.due_date.isoformat(),
        "CurrencyCode": invoice.currency,
        "LineAmountTypes": "Exclusive",  # the app's unit prices and amounts are before tax
        "Status": "AUTHORISED",
        "LineItems": lines,
    }
    if invoice.notes:
        payload["Reference"] = invoice.notes[:255]
    return payload


def _number(value: Decimal) -> float | int:
    """A JSON number with exactly the Decimal's digits (the SDK's serializer refuses Decimals)."""
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    if Decimal(repr(number)) != value.normalize():
        raise ValueError(f"amount {value} has more digits than a JSON number carries exactly")
    return number
