"""QuickBooks invoices, payments, credit memos, items and accounts (Intuit's published examples, see
tests/fixtures/quickbooks/SOURCES.md) → warehouse rows, with Decimal amounts and aware timestamps."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.quickbooks.mapping import (
    ACCOUNT_COLUMNS,
    CREDIT_MEMO_COLUMNS,
    CREDIT_MEMO_LINE_COLUMNS,
    INVOICE_COLUMNS,
    INVOICE_LINE_COLUMNS,
    ITEM_COLUMNS,
    PAYMENT_ALLOCATION_COLUMNS,
    PAYMENT_COLUMNS,
    ROW_MAPPERS,
    account_to_row,
    credit_memo_lines,
    credit_memo_to_row,
    customer_to_row,
    deleted_at,
    invoice_lines,
    invoice_to_row,
    is_deleted,
    is_voided,
    item_to_row,
    payment_allocations,
    payment_to_row,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "quickbooks"
PDT = timezone(timedelta(hours=-7))
PST = timezone(timedelta(hours=-8))


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_invoice_maps_amounts_dates_and_customer() -> None:
    payload = load("invoice_create_response.json")["Invoice"]
    row = invoice_to_row(payload)
    assert tuple(row) == INVOICE_COLUMNS
    assert row == {
        "external_id": "239",
        "sync_token": "0",
        "doc_number": "1070",
        "customer_id": "1",
        "customer_name": "Amy's Bird Sanctuary",
        "txn_date": date(2015, 7, 24),
        "due_date": date(2015, 8, 23),
        "currency": None,  # a single-currency company's invoices carry no CurrencyRef
        "exchange_rate": None,
        "subtotal": Decimal("150.0"),
        "tax_total": Decimal("0"),
        "total": Decimal("150.0"),
        "balance": Decimal("150.0"),
        "amount_paid": Decimal("0.0"),
        "voided": False,
        "email_status": "NotSet",
        "customer_memo": None,
        "private_note": None,
        "created_at": datetime(2015, 7, 24, 10, 35, 8, tzinfo=PDT),
        "updated_at": datetime(2015, 7, 24, 10, 35, 8, tzinfo=PDT),
        "raw": payload,
    }
    assert all(isinstance(row[c], Decimal) for c in ("subtotal", "tax_total", "total", "balance"))


def test_invoice_lines_skip_the_computed_subtotal() -> None:
    payload = load("invoice_create_response.json")["Invoice"]
    lines = invoice_lines(payload)
    assert [tuple(line) for line in lines] == [INVOICE_LINE_COLUMNS]
    (line,) = lines
    assert line == {
        "invoice_external_id": "239",
        "line_id": "1",
        "line_number": 1,
        "detail_type": "SalesItemLineDetail",
        "description": None,
        "item_id": "1",
        "item_name": "Services",
        "quantity": None,
        "unit_price": None,
        "amount": Decimal("150.0"),
        "tax_code": "NON",
        "service_date": None,
        "raw": payload["Line"][0],
    }
    # The SubTotalLineDetail line repeats the total: storing it would double every invoice.
    assert sum(line["amount"] for line in lines) == invoice_to_row(payload)["total"]


def test_voided_invoice_is_recognised_and_paid_nothing() -> None:
    payload = load("invoice_voided.json")["Invoice"]
    row = invoice_to_row(payload)
    assert is_voided(payload) and row["voided"] is True
    assert row["total"] == row["balance"] == row["amount_paid"] == Decimal(0)
    assert row["currency"] == "USD"
    assert row["updated_at"] == datetime(2016, 3, 29, 14, 15, 4, tzinfo=PDT)
    assert deleted_at(row) is None  # voided invoices stay in QuickBooks: they are not deletions
    # "Voided" in a note of an invoice that still has amounts is just a note.
    assert not is_voided({**payload, "TotalAmt": 10})


def test_payment_maps_and_allocates_to_its_invoice() -> None:
    payload = load("payment_read_response.json")["Payment"]
    row = payment_to_row(payload)
    assert tuple(row) == PAYMENT_COLUMNS
    assert row["external_id"] == "163"
    assert row["customer_id"] == "20" and row["customer_name"] == "Red Rock Diner"
    assert row["txn_date"] == date(2015, 1, 16)
    assert row["total"] == Decimal("65.0") and row["unapplied"] == Decimal("10.0")
    assert row["deposit_account_id"] == "4"
    assert row["voided"] is False
    assert row["created_at"] == datetime(2015, 1, 16, 15, 8, 12, tzinfo=PST)

    allocations = payment_allocations(payload)
    assert allocations == [
        {"payment_external_id": "163", "txn_type": "Invoice", "txn_id": "70", "amount": Decimal("55.0")}
    ]
    assert all(tuple(a) == PAYMENT_ALLOCATION_COLUMNS for a in allocations)
    # What was allocated plus what was not is what was received.
    assert sum(a["amount"] for a in allocations) + row["unapplied"] == row["total"]


def test_payment_applying_a_credit_memo_allocates_both_transactions() -> None:
    # Intuit's "apply a credit memo" payment: a zero payment whose lines pay an invoice with a credit.
    payload = {
        "Id": "170",
        "TotalAmt": 0,
        "CustomerRef": {"value": "1"},
        "Line": [
            {"Amount": 100.0, "LinkedTxn": [{"TxnId": "239", "TxnType": "Invoice"}]},
            {"Amount": 100.0, "LinkedTxn": [{"TxnId": "73", "TxnType": "CreditMemo"}]},
            {"Amount": 20.5, "LinkedTxn": [{"TxnId": "239", "TxnType": "Invoice"}]},
        ],
        "MetaData": {"LastUpdatedTime": "2015-07-28T15:16:15-07:00"},
    }
    by_txn = {(a["txn_type"], a["txn_id"]): a["amount"] for a in payment_allocations(payload)}
    assert by_txn == {("Invoice", "239"): Decimal("120.5"), ("CreditMemo", "73"): Decimal("100.0")}


def test_a_payment_line_linked_to_several_transactions_is_refused_not_guessed() -> None:
    payload = {"Id": "9", "Line": [{"Amount": 10, "LinkedTxn": [{"TxnId": "1", "TxnType": "Invoice"}] * 2}]}
    with pytest.raises(ValueError, match="linked to 2 transactions"):
        payment_allocations(payload)


def test_credit_memo_maps_remaining_credit_and_lines() -> None:
    payload = load("credit_memo_read_response.json")["CreditMemo"]
    row = credit_memo_to_row(payload)
    assert tuple(row) == CREDIT_MEMO_COLUMNS
    assert row["external_id"] == "73" and row["doc_number"] == "1026" and row["sync_token"] == "3"
    assert row["total"] == Decimal("100.0") and row["remaining_credit"] == Decimal("0")
    assert row["customer_memo"] == "Updated customer memo."
    assert row["updated_at"] == datetime(2015, 7, 1, 9, 16, 28, tzinfo=PDT)
    (line,) = credit_memo_lines(payload)
    assert tuple(line) == CREDIT_MEMO_LINE_COLUMNS
    assert line["credit_memo_external_id"] == "73"
    assert (line["item_id"], line["quantity"], line["unit_price"]) == ("10", Decimal("1"), Decimal("100"))
    assert line["description"] == "Pest Control Services"


def test_group_lines_are_flattened_and_unnumbered_discounts_keep_a_stable_id() -> None:
    payload = {
        "Id": "500",
        "Line": [
            {
                "Id": "3",
                "LineNum": 1,
                "Amount": 30,
                "DetailType": "GroupLineDetail",
                "GroupLineDetail": {
                    "GroupItemRef": {"value": "19"},
                    "Line": [
                        {
                            "Id": "4",
                            "Amount": 10,
                            "DetailType": "SalesItemLineDetail",
                            "SalesItemLineDetail": {},
                        },
                        {
                            "Id": "5",
                            "Amount": 20,
                            "DetailType": "SalesItemLineDetail",
                            "SalesItemLineDetail": {},
                        },
                    ],
                },
            },
            {"LineNum": 2, "Amount": 5, "DetailType": "DiscountLineDetail", "DiscountLineDetail": {}},
            {"Amount": 25, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}},
        ],
    }
    assert [(line["line_id"], line["amount"]) for line in invoice_lines(payload)] == [
        ("4", Decimal(10)),
        ("5", Decimal(20)),
        ("#2", Decimal(5)),
    ]


def test_item_maps_its_income_account() -> None:
    payload = load("item_read_response.json")["Item"]
    row = item_to_row(payload)
    assert tuple(row) == ITEM_COLUMNS
    assert row["external_id"] == "3" and row["name"] == "Concrete" and row["type"] == "Service"
    assert row["income_account_id"] == "48"
    assert row["income_account_name"] == "Landscaping Services:Job Materials:Fountains and Garden Lighting"
    assert row["unit_price"] == Decimal(0) and row["taxable"] is True and row["active"] is True
    assert deleted_at(row) is None
    assert deleted_at(item_to_row({**payload, "Active": False})) == row["updated_at"]


def test_account_maps_type_and_classification() -> None:
    payload = load("account_read_response.json")["Account"]
    row = account_to_row(payload)
    assert tuple(row) == ACCOUNT_COLUMNS
    assert row["external_id"] == "94" and row["name"] == "MyJobs"
    assert (row["account_type"], row["account_sub_type"], row["classification"]) == (
        "Accounts Receivable",
        "AccountsReceivable",
        "Asset",
    )
    assert row["currency"] == "USD" and row["current_balance"] == Decimal(0)
    assert row["sub_account"] is False and row["parent_id"] is None and row["active"] is True
    assert row["created_at"] == datetime(2014, 12, 31, 9, 29, 5, tzinfo=PST)


def test_cdc_deletion_stubs_map_to_soft_deleted_rows_in_every_stream() -> None:
    queries = load("cdc_response.json")["CDCResponse"][0]["QueryResponse"]
    (stub,) = next(q["Invoice"] for q in queries if "Invoice" in q)
    (customer,) = next(q["Customer"] for q in queries if "Customer" in q)
    assert is_deleted(stub) and not is_deleted(customer)
    for stream, to_row in ROW_MAPPERS.items():
        row = to_row(stub)  # any entity's deletion is the same stub
        assert row["external_id"] == "147", stream
        assert deleted_at(row) == datetime(2015, 12, 23, 9, 57, 3, tzinfo=PST), stream
        assert row["raw"] == stub
    assert invoice_to_row(stub)["total"] is None  # a stub says nothing about amounts
    assert invoice_lines(stub) == [] and payment_allocations(stub) == []
    assert deleted_at(customer_to_row(customer)) is None


def test_amounts_are_exact_decimals_not_floats() -> None:
    payload = {**load("invoice_create_response.json")["Invoice"], "TotalAmt": 0.1 + 0.2, "Balance": 0.1}
    row = invoice_to_row(payload)
    assert row["total"] == Decimal("0.30000000000000004")  # what the JSON said, not a rounded guess
    assert row["balance"] == Decimal("0.1")


@pytest.mark.parametrize("to_row", list(ROW_MAPPERS.values()))
def test_every_mapper_rejects_a_payload_without_id(to_row) -> None:
    with pytest.raises(ValueError, match="no Id"):
        to_row({"MetaData": {"LastUpdatedTime": "2015-01-01T00:00:00Z"}})


def test_raw_payloads_stay_json_serialisable() -> None:
    for name, key, to_row in (
        ("invoice_create_response.json", "Invoice", invoice_to_row),
        ("payment_read_response.json", "Payment", payment_to_row),
        ("credit_memo_read_response.json", "CreditMemo", credit_memo_to_row),
        ("item_read_response.json", "Item", item_to_row),
        ("account_read_response.json", "Account", account_to_row),
    ):
        payload = load(name)[key]
        assert json.loads(json.dumps(to_row(payload)["raw"])) == payload
