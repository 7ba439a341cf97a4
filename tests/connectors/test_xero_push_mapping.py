"""The Xero push payloads, from canonical records and a firm's mapping (pure functions)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.records import CanonicalInvoice, CanonicalInvoiceLine, ClientDetails
from connectors.xero.config import XeroAccountingMapping
from connectors.xero.push_mapping import client_to_contact, invoice_to_payload


def _invoice(*lines: CanonicalInvoiceLine) -> CanonicalInvoice:
    return CanonicalInvoice(
        number="INV-0042",
        customer_external_id="c0ffee00-0000-4000-8000-000000000001",
        currency="USD",
        issue_date=dt.date(2026, 11, 2),
        due_date=dt.date(2026, 12, 2),
        notes="PO 7",
        lines=lines,
    )


def _line(service: str | None = None, tax_rate: str | None = None) -> CanonicalInvoiceLine:
    return CanonicalInvoiceLine(
        description="Advisory",
        quantity=Decimal("1.5"),
        unit_price=Decimal("200.10"),
        amount=Decimal("300.15"),
        tax_rate=Decimal(tax_rate) if tax_rate else None,
        service=service,
    )


MAPPING = XeroAccountingMapping(
    sales_account_code="200",
    service_item_codes={"advisory": "ADV"},
    service_account_codes={"advisory": "210"},
    taxed_tax_type="OUTPUT",
    untaxed_tax_type="NONE",
)


def test_lines_take_account_item_and_tax_type_from_the_mapping():
    payload = invoice_to_payload(_invoice(_line("advisory", "8.25"), _line()), MAPPING)
    assert payload["Type"] == "ACCREC" and payload["Status"] == "AUTHORISED"
    assert payload["Contact"] == {"ContactID": "c0ffee00-0000-4000-8000-000000000001"}
    assert (payload["Date"], payload["DueDate"], payload["Reference"]) == ("2026-11-02", "2026-12-02", "PO 7")
    first, second = payload["LineItems"]
    assert (first["AccountCode"], first["ItemCode"], first["TaxType"]) == ("210", "ADV", "OUTPUT")
    assert (second["AccountCode"], second["TaxType"]) == ("200", "NONE") and "ItemCode" not in second
    assert (first["Quantity"], first["UnitAmount"], first["LineAmount"]) == (1.5, 200.1, 300.15)


def test_a_taxed_line_without_a_tax_type_names_the_missing_field():
    mapping = XeroAccountingMapping(sales_account_code="200")
    with pytest.raises(ValueError, match="taxed_tax_type"):
        invoice_to_payload(_invoice(_line(tax_rate="20")), mapping)
    assert "TaxType" not in invoice_to_payload(_invoice(_line()), mapping)["LineItems"][0]


def test_contact_payload_archives_inactive_clients_and_keeps_the_billing_address():
    client = ClientDetails(
        name="Harbour Dental", email="a@b.example", phone="555-0100", city="Portland", active=False
    )
    contact = client_to_contact(client)
    assert contact["ContactStatus"] == "ARCHIVED" and contact["EmailAddress"] == "a@b.example"
    assert contact["Phones"] == [{"PhoneType": "DEFAULT", "PhoneNumber": "555-0100"}]
    assert contact["Addresses"] == [{"AddressType": "POBOX", "City": "Portland"}]
