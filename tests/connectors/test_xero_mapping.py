"""Xero Accounting payloads (Xero's published examples, tests/fixtures/xero/README.md) → warehouse rows and
canonical clients."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.records import CanonicalClient
from connectors.xero.mapping import (
    ACCOUNT_COLUMNS,
    CONTACT_COLUMNS,
    CREDIT_NOTE_COLUMNS,
    INVOICE_COLUMNS,
    INVOICE_LINE_COLUMNS,
    ITEM_COLUMNS,
    PAYMENT_COLUMNS,
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

FIXTURES = Path(__file__).parents[1] / "fixtures" / "xero"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/Date(1503348544227+0000)/", utc(2017, 8, 21, 20, 49, 4, 227000)),
        ("/Date(1551399323399)/", utc(2019, 3, 1, 0, 15, 23, 399000)),
        # The offset only says where the time was entered; the milliseconds are UTC already.
        ("/Date(1539993600000+1300)/", utc(2018, 10, 20)),
        ("/Date(-86400000)/", utc(1969, 12, 31)),
        ("2019-02-21T16:29:47.96-08:00", utc(2019, 2, 22, 0, 29, 47, 960000)),
        ("2019-03-01T09:00:31", utc(2019, 3, 1, 9, 0, 31)),  # bare ISO: UTC, as UpdatedDateUTC is
        (None, None),
        ("", None),
    ],
)
def test_parse_xero_datetime(value, expected) -> None:
    parsed = parse_xero_datetime(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == timedelta(0)


def test_escaped_json_dates_parse_like_plain_ones() -> None:
    # Xero escapes the slashes on the wire; json.loads removes the escapes.
    payload = json.loads('{"UpdatedDateUTC": "\\/Date(1503348544227+0000)\\/"}')
    assert parse_xero_datetime(payload["UpdatedDateUTC"]) == utc(2017, 8, 21, 20, 49, 4, 227000)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/Date(1539993600000+0000)/", date(2018, 10, 20)),
        # 2018-10-20T13:00Z entered in New Zealand (+13:00) is the 21st there.
        ("/Date(1540040400000+1300)/", date(2018, 10, 21)),
        ("2018-10-20 00:00:00", date(2018, 10, 20)),  # DateString
        ("2018-10-20T00:00:00", date(2018, 10, 20)),
        (None, None),
    ],
)
def test_parse_xero_date(value, expected) -> None:
    assert parse_xero_date(value) == expected


def test_unreadable_dates_raise() -> None:
    with pytest.raises(ValueError, match="not a Xero date"):
        parse_xero_datetime("/Date(soon)/")
    with pytest.raises(ValueError, match="not a Xero date"):
        parse_xero_date("next Tuesday")


# --------------------------------------------------------------------------- contacts


def test_contact_maps_every_column() -> None:
    payload = load("contacts_response.json")["Contacts"][0]
    row = contact_to_row(payload)
    assert tuple(row) == CONTACT_COLUMNS
    assert row == {
        "external_id": "5cc8cf28-567e-4d43-b287-687cfcaec47c",
        "contact_number": None,
        "account_number": None,
        "status": "ACTIVE",
        "name": "Katherine Warren",
        "first_name": "Katherine",
        "last_name": "Warren",
        "email": "kat.warren@clampett.com",
        "phone": "(626) 847-1294",  # the DEFAULT phone; the empty DDI/FAX/MOBILE are skipped
        "address_line1": None,
        "address_line2": None,
        "city": "Palo Alto",  # POBOX (billing) address; the empty STREET one is skipped
        "region": "CA",
        "postal_code": "94020",
        "country": "United States",
        "is_customer": True,
        "is_supplier": True,
        "tax_number": None,  # "" is absent, not a value
        "default_currency": None,
        "updated_at": utc(2017, 8, 21, 20, 49, 4, 227000),
        "raw": payload,
    }


def test_contact_becomes_a_canonical_client() -> None:
    payload = load("contacts_response.json")["Contacts"][1]
    client = contact_to_client(payload)
    assert client == CanonicalClient(
        provider="xero",
        external_id="3ec601ad-eddc-4ccb-a8ac-736e88293b1b",
        name="Lisa Parker",
        company_name=None,  # the Name is the person's
        email="lparker@parkerandco.com",
        phone="(510) 266-3583",
        city="Anchorage",
        region="AK",
        postal_code="99501",
        country="United States",
        active=True,
        updated_at=utc(2017, 8, 21, 20, 49, 6, 760000),
    )


def test_archived_organisation_contact() -> None:
    payload = {
        **load("contacts_response.json")["Contacts"][0],
        "Name": "Clampett Oil",
        "ContactStatus": "ARCHIVED",
        "Addresses": [{"AddressType": "STREET", "AddressLine1": "1 Hill Rd", "City": "Beverly Hills"}],
        "Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "555 0100", "PhoneCountryCode": "1"}],
    }
    client = contact_to_client(payload)
    assert client.name == "Clampett Oil"
    assert client.company_name == "Clampett Oil"  # a person's names beside it: an organisation
    assert client.active is False  # ARCHIVED is Xero's soft delete
    assert (client.address_line1, client.city) == ("1 Hill Rd", "Beverly Hills")  # STREET when no POBOX
    assert client.phone == "1 555 0100"


def test_contact_without_id_or_timestamp_is_refused() -> None:
    payload = load("contacts_response.json")["Contacts"][0]
    with pytest.raises(ValueError, match="no ContactID"):
        contact_to_row({k: v for k, v in payload.items() if k != "ContactID"})
    with pytest.raises(ValueError, match="no UpdatedDateUTC"):
        contact_to_client({k: v for k, v in payload.items() if k != "UpdatedDateUTC"})


# --------------------------------------------------------------------------- invoices


def test_invoice_with_lines() -> None:
    payload = load("invoice_response.json")["Invoices"][0]
    row = invoice_to_row(payload)
    assert tuple(row) == INVOICE_COLUMNS
    assert row == {
        "external_id": "a03ffcd2-5d91-4c7e-b483-318584e9e439",
        "type": "ACCREC",
        "invoice_number": "INV-0006",
        "reference": "Tour",
        "contact_id": "430fa14a-f945-44d3-9f97-5df5e28441b8",
        "contact_name": "Liam Gallagher",
        "status": "PAID",
        "line_amount_types": "Exclusive",
        "issue_date": date(2019, 3, 7),
        "due_date": date(2019, 3, 13),
        "currency": "NZD",
        "currency_rate": Decimal("1.0"),
        "sub_total": Decimal("148062.76"),  # exact, not the float's binary approximation
        "total_tax": Decimal("0.0"),
        "total": Decimal("148062.76"),
        "amount_due": Decimal("0.0"),
        "amount_paid": Decimal("148062.76"),
        "amount_credited": None,
        "fully_paid_on": date(2019, 3, 19),
        "updated_at": utc(2019, 3, 7, 17, 59, 28, 133000),
        "raw": payload,
    }
    lines = invoice_line_rows(payload)
    assert [tuple(line) for line in lines] == [INVOICE_LINE_COLUMNS]
    assert lines[0] == {
        "invoice_id": "a03ffcd2-5d91-4c7e-b483-318584e9e439",
        "line_number": 1,
        "line_item_id": "b18f39d9-7739-4246-9288-72afe939d2d5",
        "item_code": "123",
        "description": "Guitars Fender Strat",
        "quantity": Decimal("1.0"),
        "unit_amount": Decimal("148062.76"),
        "discount_rate": None,
        "line_amount": Decimal("148062.76"),
        "account_code": "200",
        "tax_type": "NONE",
        "tax_amount": Decimal("0.0"),
    }


def test_invoice_list_keeps_every_status() -> None:
    rows = [invoice_to_row(p) for p in load("invoices_response.json")["Invoices"]]
    assert [(r["invoice_number"], r["status"], r["amount_due"]) for r in rows] == [
        ("INV-0001", "VOIDED", Decimal("0.0")),
        ("INV-0002", "PAID", Decimal("0.0")),
        ("INV-0003", "AUTHORISED", Decimal("115.0")),
    ]
    assert rows[0]["reference"] == "Red Fish, Blue Fish" and rows[2]["reference"] is None
    assert rows[2]["due_date"] == date(2018, 11, 7)
    assert rows[1]["fully_paid_on"] == date(2018, 11, 29)
    assert invoice_line_rows(load("invoices_response.json")["Invoices"][0]) == []


# --------------------------------------------------------------------------- payments


def test_payment_allocated_to_an_invoice() -> None:
    payload = load("payments_response.json")["Payments"][0]
    row = payment_to_row(payload)
    assert tuple(row) == PAYMENT_COLUMNS
    assert row == {
        "external_id": "99ea7f6b-c513-4066-bc27-b7c65dcd76c2",
        "payment_type": "ACCRECPAYMENT",
        "status": "AUTHORISED",
        "payment_date": date(2018, 11, 29),
        "amount": Decimal("46.0"),
        "bank_amount": Decimal("46.0"),
        "currency_rate": Decimal("1.0"),
        "reference": None,
        "is_reconciled": False,
        "account_id": "5690f1e8-1d02-4893-90c2-ee1a69eff942",
        "account_code": "970",
        "invoice_id": "046d8a6d-1ae1-4b4d-9340-5601bdf41b87",
        "invoice_number": "INV-0002",
        "credit_note_id": None,
        "credit_note_number": None,
        "contact_id": "a3675fc4-f8dd-4f03-ba5b-f1870566bcd7",
        "batch_payment_id": "b54aa50c-794c-461b-89d1-846e1b84d9c0",
        "updated_at": utc(2018, 11, 2, 16, 36, 32, 690000),
        "raw": payload,
    }


def test_credit_note_refund_is_allocated_to_the_credit_note() -> None:
    # Xero's example names the credit note under "Invoice" with an ACCRECCREDIT type.
    row = payment_to_row(load("payments_response.json")["Payments"][1])
    assert (row["invoice_id"], row["credit_note_id"], row["credit_note_number"]) == (
        None,
        "249f15fa-f2a7-4acc-8769-0984103f2225",
        "CN-0005",
    )
    assert (row["payment_type"], row["amount"], row["reference"]) == (
        "ARCREDITPAYMENT",
        Decimal("2.0"),
        "Too much",
    )
    # ... the same credit note as in GET /CreditNotes
    credit_note = load("credit_notes_response.json")["CreditNotes"][0]
    assert credit_note["CreditNoteID"] == row["credit_note_id"]
    # and the explicit CreditNote form maps the same way
    explicit = payment_to_row(
        {
            "PaymentID": "p1",
            "CreditNote": {
                "CreditNoteID": "cn-1",
                "CreditNoteNumber": "CN-1",
                "Contact": {"ContactID": "c1"},
            },
        }
    )
    assert (explicit["credit_note_id"], explicit["credit_note_number"], explicit["contact_id"]) == (
        "cn-1",
        "CN-1",
        "c1",
    )


# --------------------------------------------------------------------------- credit notes, items, accounts


def test_credit_notes() -> None:
    rows = [credit_note_to_row(p) for p in load("credit_notes_response.json")["CreditNotes"]]
    assert tuple(rows[0]) == CREDIT_NOTE_COLUMNS
    first = {k: v for k, v in rows[0].items() if k != "raw"}
    assert first == {
        "external_id": "249f15fa-f2a7-4acc-8769-0984103f2225",
        "credit_note_number": "CN-0005",
        "type": "ACCRECCREDIT",
        "status": "AUTHORISED",
        "reference": "US Tour",
        "contact_id": "430fa14a-f945-44d3-9f97-5df5e28441b8",
        "contact_name": "Liam Gallagher",
        "issue_date": date(2019, 3, 5),
        "currency": "NZD",
        "currency_rate": Decimal("1.0"),
        "sub_total": Decimal("30.0"),
        "total_tax": Decimal("4.5"),
        "total": Decimal("34.5"),
        "remaining_credit": Decimal("32.5"),
        "updated_at": utc(2019, 3, 5, 18, 59, 6, 157000),
    }
    assert (rows[1]["credit_note_number"], rows[1]["type"], rows[1]["status"]) == (
        None,
        "ACCPAYCREDIT",
        "DRAFT",
    )


def test_items() -> None:
    rows = [item_to_row(p) for p in load("items_response.json")["Items"]]
    assert tuple(rows[0]) == ITEM_COLUMNS
    assert {k: v for k, v in rows[0].items() if k != "raw"} == {
        "external_id": "c8c54d65-f3f2-452d-926e-bf450b12fb07",
        "code": "123",
        "name": "Guitars",
        "description": "Guitars Fender Strat",
        "is_sold": True,
        "is_purchased": False,
        "is_tracked_as_inventory": False,
        "sales_unit_price": Decimal("5000.0"),
        "sales_account_code": "200",
        "sales_tax_type": "OUTPUT2",
        "purchase_unit_price": None,  # PurchaseDetails is {}
        "purchase_account_code": None,
        "updated_at": utc(2019, 3, 7, 17, 57, 56, 267000),
    }
    assert rows[1]["sales_unit_price"] is None and rows[1]["is_purchased"] is True


def test_accounts() -> None:
    listed = [account_to_row(p) for p in load("accounts_response.json")["Accounts"]]
    assert tuple(listed[0]) == ACCOUNT_COLUMNS
    assert [(r["code"], r["name"], r["type"], r["currency"]) for r in listed] == [
        ("091", "Business Savings Account", "BANK", "NZD"),
        ("200", "Sales", "REVENUE", None),
    ]
    assert listed[0]["updated_at"] is None  # this example carries no UpdatedDateUTC
    single = account_to_row(load("account_response.json")["Accounts"][0])
    assert (single["status"], single["account_class"], single["tax_type"], single["enable_payments"]) == (
        "ACTIVE",
        "EXPENSE",
        "INPUT",
        False,
    )
    assert single["updated_at"] == utc(2019, 2, 22, 1, 2, 39, 120000)
