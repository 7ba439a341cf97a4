"""App clients and invoices → QuickBooks payloads through the connection's accounting mapping, the
mapping model itself, the SDK objects pushes are sent as, and how Intuit's faults are classified."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from quickbooks.client import QuickBooks
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice

from connectors.base import PermanentError, TransientError
from connectors.quickbooks.config import QuickBooksAccountingMapping, QuickBooksConfig
from connectors.quickbooks.mapping import invoice_lines, invoice_to_row
from connectors.quickbooks.push_mapping import (
    check_accounting_mapping,
    client_to_customer,
    invoice_to_payload,
)
from connectors.quickbooks.sdk_objects import sdk_object
from connectors.quickbooks.transport import STALE_OBJECT, QuickBooksFault, map_sdk_error
from connectors.records import CanonicalInvoice, CanonicalInvoiceLine, ClientDetails

FIXTURES = Path(__file__).parents[1] / "fixtures" / "quickbooks"

MAPPING = QuickBooksAccountingMapping.model_validate(
    {
        "default_item": {"value": "1", "name": "Services"},
        "service_items": {"audit": {"value": "21", "name": "Audit"}, "tax_return": {"value": "22"}},
        "income_account": {"value": "79", "name": "Services"},
        "taxable_tax_code": {"value": "TAX"},
        "exempt_tax_code": {"value": "NON"},
    }
)


def invoice(**changes) -> CanonicalInvoice:
    fields = {
        "number": "INV-2024-0042",
        "customer_external_id": "58",
        "currency": "USD",
        "issue_date": date(2024, 3, 1),
        "due_date": date(2024, 3, 31),
        "notes": "Thank you for your business.",
        "lines": (
            CanonicalInvoiceLine(
                description="Year-end audit",
                quantity=Decimal("12.5"),
                unit_price=Decimal("180.00"),
                amount=Decimal("2250.00"),
                tax_rate=None,
                service="audit",
            ),
            CanonicalInvoiceLine(
                description="Filing fee",
                quantity=Decimal("1"),
                unit_price=Decimal("35.10"),
                amount=Decimal("35.10"),
                tax_rate=Decimal("8.25"),
                service="courier",  # no item of its own: the default item
            ),
        ),
    }
    return CanonicalInvoice(**(fields | changes))


def test_invoice_payload_takes_items_and_tax_codes_from_the_mapping() -> None:
    payload = invoice_to_payload(invoice(), MAPPING)
    assert payload == {
        "DocNumber": "INV-2024-0042",
        "TxnDate": "2024-03-01",
        "DueDate": "2024-03-31",
        "CustomerRef": {"value": "58"},
        "CurrencyRef": {"value": "USD"},
        "CustomerMemo": {"value": "Thank you for your business."},
        "Line": [
            {
                "LineNum": 1,
                "Description": "Year-end audit",
                "Amount": 2250,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {
                    "ItemRef": {"value": "21", "name": "Audit"},
                    "Qty": 12.5,
                    "UnitPrice": 180,
                    "TaxCodeRef": {"value": "NON"},
                },
            },
            {
                "LineNum": 2,
                "Description": "Filing fee",
                "Amount": 35.1,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {
                    "ItemRef": {"value": "1", "name": "Services"},
                    "Qty": 1,
                    "UnitPrice": 35.1,
                    "TaxCodeRef": {"value": "TAX"},
                },
            },
        ],
    }
    # JSON numbers with exactly the app's digits, not Decimal-as-string (python-quickbooks' encoding).
    assert '"Amount": 35.1' in json.dumps(payload)


def test_pushed_invoice_reads_back_through_the_pull_mapping() -> None:
    payload = invoice_to_payload(invoice(), MAPPING)
    lines = invoice_lines({"Id": "900", **payload})
    assert [(line["item_id"], line["quantity"], line["amount"]) for line in lines] == [
        ("21", Decimal("12.5"), Decimal("2250")),
        ("1", Decimal("1"), Decimal("35.1")),
    ]
    assert invoice_to_row({"Id": "900", **payload})["due_date"] == date(2024, 3, 31)


def test_per_rate_tax_codes_win_over_the_generic_ones() -> None:
    mapping = MAPPING.model_copy(
        update={"tax_rate_codes": {"8.250": MAPPING.default_item.model_copy(update={"value": "7"})}}
    )
    mapping = QuickBooksAccountingMapping.model_validate(mapping.model_dump())
    assert mapping.tax_code_for(Decimal("8.25")).value == "7"
    assert mapping.tax_code_for(Decimal("20")).value == "TAX"
    assert mapping.tax_code_for(None).value == mapping.tax_code_for(Decimal(0)).value == "NON"


def test_a_taxed_line_without_a_tax_code_is_refused() -> None:
    bare = QuickBooksAccountingMapping.model_validate({"default_item": {"value": "1"}})
    with pytest.raises(ValueError, match=r"line 2 is taxed at 8\.25%"):
        invoice_to_payload(invoice(), bare)
    untaxed = invoice(lines=(invoice().lines[0],))
    assert "TaxCodeRef" not in invoice_to_payload(untaxed, bare)["Line"][0]["SalesItemLineDetail"]


def test_invoice_numbers_beyond_quickbooks_limit_are_refused() -> None:
    with pytest.raises(ValueError, match="longer than QuickBooks' 21"):
        invoice_to_payload(invoice(number="X" * 22), MAPPING)


def test_amounts_a_json_number_cannot_carry_exactly_are_refused() -> None:
    line = invoice().lines[0].model_copy(update={"amount": Decimal("0.12345678901234567890")})
    with pytest.raises(ValueError, match="more digits"):
        invoice_to_payload(invoice(lines=(line,)), MAPPING)


def test_mapping_model_rejects_bad_rates_and_duplicates() -> None:
    with pytest.raises(ValidationError, match="not a number"):
        QuickBooksAccountingMapping.model_validate(
            {"default_item": {"value": "1"}, "tax_rate_codes": {"x": {"value": "7"}}}
        )
    with pytest.raises(ValidationError, match="mapped twice"):
        QuickBooksAccountingMapping.model_validate(
            {"default_item": {"value": "1"}, "tax_rate_codes": {"20": {"value": "a"}, "20.0": {"value": "b"}}}
        )
    with pytest.raises(ValidationError):
        QuickBooksAccountingMapping.model_validate({})  # no default item, no built-in id either


def test_the_mapping_is_the_registered_mapping_model_and_round_trips_as_stored() -> None:
    from connectors import registry

    spec = registry.get_connector("quickbooks")
    assert spec.mapping_model is QuickBooksAccountingMapping
    stored = json.loads(json.dumps(MAPPING.model_dump(mode="json")))  # as connections.mapping holds it
    assert QuickBooksAccountingMapping.model_validate(stored) == MAPPING
    # The mapping lives on the connection row, not in the connection config.
    with pytest.raises(ValidationError):
        QuickBooksConfig.model_validate({"realm_id": "1", "client_id": "c", "accounting": stored})


def test_customer_payload_leaves_out_what_the_app_does_not_know() -> None:
    client = ClientDetails(
        name="Lovelace & Babbage LLP",
        company_name="Lovelace & Babbage LLP",
        email="office@lovelace.example",
        phone=None,
        city="London",
        country="GB",
        active=True,
    )
    assert client_to_customer(client) == {
        "DisplayName": "Lovelace & Babbage LLP",
        "Active": True,
        "CompanyName": "Lovelace & Babbage LLP",
        "PrimaryEmailAddr": {"Address": "office@lovelace.example"},
        "BillAddr": {"City": "London", "Country": "GB"},
    }


def test_accounting_mapping_is_checked_against_synced_items_and_accounts() -> None:
    item = json.loads((FIXTURES / "item_read_response.json").read_text())["Item"]  # Concrete → account 48
    income = {"Id": "48", "AccountType": "Income", "Active": True}
    mapping = QuickBooksAccountingMapping.model_validate(
        {"default_item": {"value": "3"}, "income_account": {"value": "48"}}
    )
    assert check_accounting_mapping(mapping, [item], [income]) == []

    wrong = QuickBooksAccountingMapping.model_validate(
        {
            "default_item": {"value": "3"},
            "service_items": {"audit": {"value": "404"}},
            "income_account": {"value": "94"},
        }
    )
    receivable = json.loads((FIXTURES / "account_read_response.json").read_text())["Account"]
    inventory = {**item, "Id": "5", "Type": "Inventory", "Active": False}
    problems = check_accounting_mapping(wrong, [item, inventory], [income, receivable])
    assert problems == [
        "account 94 is a Accounts Receivable account, not Income",
        "default item: item 3 posts to account 48, not 94",
        "item for 'audit': item 404 does not exist",
    ]
    problems = check_accounting_mapping(
        QuickBooksAccountingMapping.model_validate({"default_item": {"value": "5"}}), [inventory], []
    )
    assert problems == [
        "default item: item 5 is inactive",
        "default item: item 5 is a Inventory item, not a Service",
    ]


def test_sdk_objects_are_typed_but_send_only_the_payload() -> None:
    payload = invoice_to_payload(invoice(), MAPPING)
    obj = sdk_object(Invoice, payload)
    assert isinstance(obj.Line[0], SalesItemLine)
    assert isinstance(obj.Line[0].SalesItemLineDetail, SalesItemLineDetail)
    # The SDK's own defaults (TxnDate "", Deposit 0, TaxInclusiveAmt 0, Ref name "") are not sent.
    assert json.loads(obj.to_json()) == payload
    assert "Deposit" in json.loads(Invoice.from_json(payload).to_json())  # what the plain SDK would send

    customer = sdk_object(Customer, {"Id": "5", "SyncToken": "2", "sparse": True, "DisplayName": "X"})
    assert json.loads(customer.to_json()) == {"Id": "5", "SyncToken": "2", "sparse": True, "DisplayName": "X"}


@pytest.mark.parametrize(
    ("fixture", "code", "text"),
    [
        ("stale_object_fault.json", STALE_OBJECT, "Stale Object Error"),
        ("required_param_fault.json", 2020, "Required parameter Line.SalesItemLineDetail.ItemRef is missing"),
        ("query_parser_fault.json", 4000, "QueryParserError"),
    ],
)
def test_intuit_faults_become_permanent_errors_with_intuits_message(
    fixture: str, code: int, text: str
) -> None:
    fault = json.loads((FIXTURES / fixture).read_text())["Fault"]
    with pytest.raises(QuickbooksException) as raised:
        QuickBooks.handle_exceptions(fault)  # the SDK's own parsing of the Fault envelope
    error = map_sdk_error(raised.value)
    assert isinstance(error, QuickBooksFault) and isinstance(error, PermanentError)
    assert error.code == code
    assert text in error.message


def test_an_unreadable_body_is_transient() -> None:
    error = map_sdk_error(QuickbooksException("Error reading json response: <html>", 10000))
    assert isinstance(error, TransientError)
