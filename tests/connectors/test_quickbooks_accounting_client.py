"""QuickBooksClient's accounting streams and invoice push over real HTTP, through python-quickbooks,
against the QuickBooks sandbox's seeded books (invoices, payments, credit memos, items, accounts).
Every test gets its own company."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import ConflictError, CursorExpiredError, PermanentError, RetryPolicy, StreamCursor
from connectors.quickbooks import QuickBooksAccountingMapping, QuickBooksFault
from connectors.quickbooks.client import QuickBooksClient
from connectors.quickbooks.mapping import (
    ROW_MAPPERS,
    credit_memo_lines,
    deleted_at,
    invoice_lines,
    invoice_to_row,
    is_deleted,
    is_voided,
    payment_allocations,
    payment_to_row,
)
from connectors.quickbooks.push_mapping import check_accounting_mapping, invoice_to_payload
from connectors.records import CanonicalInvoice, CanonicalInvoiceLine

from .conftest import Company

pytestmark = pytest.mark.timeout(60)

ENTITY_OF = {
    "invoices": "Invoice",
    "payments": "Payment",
    "credit_memos": "CreditMemo",
    "items": "Item",
    "accounts": "Account",
}


def everything(client: QuickBooksClient, stream: str, page_size: int = 1000) -> list[dict[str, Any]]:
    return [r for page in client.query_pages(stream, None, page_size) for r in page.records]


def one(client: QuickBooksClient, statement: str, entity: str) -> dict[str, Any]:
    (record,) = client.query(statement)[entity]
    return record


def add_credit_memos(
    company: Company, client: QuickBooksClient, amounts: list[int], customer_id: str | None = None
) -> list[dict]:
    item = one(client, "SELECT * FROM Item WHERE Name = 'Advisory hours'", "Item")
    customer_id = customer_id or everything(client, "customers")[0]["Id"]
    return [
        company.act(
            "/entities/CreditMemo",
            body={
                "CustomerRef": {"value": customer_id},
                "Line": [
                    {
                        "Amount": amount,
                        "Description": "Courtesy credit",
                        "DetailType": "SalesItemLineDetail",
                        "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}},
                    }
                ],
            },
        )["CreditMemo"]
        for amount in amounts
    ]


@pytest.fixture
def books(make_company) -> Company:
    """A firm's company: 25 clients, 40 invoices over the past year, about half of them paid."""
    return make_company(customers=25, invoices=40, anchor=datetime.now(UTC) - timedelta(days=2))


# --------------------------------------------------------------------------- pull


@pytest.mark.parametrize("stream", list(ENTITY_OF))
def test_each_stream_pages_everything_once_then_resumes_with_just_the_changes(books: Company, stream) -> None:
    with books.client() as client:
        if stream == "credit_memos":
            add_credit_memos(books, client, [50, 75, 120, 20])
        pages = list(client.query_pages(stream, None, page_size=3))
        records = [r for page in pages for r in page.records]
        ids = [r["Id"] for r in records]
        assert len(ids) == len(set(ids)) == client.count(stream) >= 4
        assert len(pages) >= 2 and pages[-1].has_more is False
        rows = [ROW_MAPPERS[stream](r) for r in records]  # every record maps
        cursor = pages[-1].cursor
        newest = max(row["updated_at"] for row in rows)
        # The pages' cursors reach the newest record; the last one QuickBooks' settled answer time.
        assert StreamCursor.parse(pages[-2].cursor).value <= newest <= StreamCursor.parse(cursor).value

        touched = books.act(f"/entities/{ENTITY_OF[stream]}/touch", count=2, seed=3)["touched"]
        resumed = [r["Id"] for page in client.query_pages(stream, cursor, page_size=3) for r in page.records]
    at_cursor = {
        r["Id"] for r in records if StreamCursor.parse(r["MetaData"]["LastUpdatedTime"]).serialise() == cursor
    }
    assert len(touched) == 2 and set(touched) <= set(resumed)
    assert set(resumed) - set(touched) <= at_cursor  # `>=` re-reads only the cursor's own second


def test_synced_payments_allocate_exactly_what_the_invoices_show_as_paid(books: Company) -> None:
    with books.client() as client:
        invoices = [invoice_to_row(r) for r in everything(client, "invoices")]
        payments = everything(client, "payments")
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for payment in payments:
        allocations = payment_allocations(payment)
        row = payment_to_row(payment)
        assert sum(a["amount"] for a in allocations) + row["unapplied"] == row["total"]
        for allocation in allocations:
            paid[allocation["txn_id"]] += allocation["amount"]
    assert paid, "the seeded books have payments"
    for invoice in invoices:
        assert invoice["amount_paid"] == paid.get(invoice["external_id"], Decimal(0)), invoice["external_id"]
    partly = [i for i in invoices if Decimal(0) < i["amount_paid"] < i["total"]]
    assert partly, "the books have partly paid invoices"
    for invoice in invoices:  # lines add up to the invoice (no tax in these books)
        lines = invoice_lines(invoice["raw"])
        assert sum(line["amount"] for line in lines) == invoice["subtotal"] == invoice["total"]


def test_a_credit_memo_applied_through_a_payment_is_an_allocation(books: Company) -> None:
    with books.client() as client:
        invoice = one(client, "SELECT * FROM Invoice WHERE Balance > '100' MAXRESULTS 1", "Invoice")
        (credit,) = add_credit_memos(books, client, [100], invoice["CustomerRef"]["value"])
        # A zero payment that settles part of the invoice with the credit, as QuickBooks records it.
        applied = books.act(
            "/entities/Payment",
            body={
                "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
                "TotalAmt": 0,
                "Line": [
                    {"Amount": 100, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]},
                    {"Amount": 100, "LinkedTxn": [{"TxnId": credit["Id"], "TxnType": "CreditMemo"}]},
                ],
            },
        )["Payment"]
        payment = client.get("payments", applied["Id"])
        after = invoice_to_row(client.get("invoices", invoice["Id"]))
        credit_after = client.get("credit_memos", credit["Id"])
    by_txn = {(a["txn_type"], a["txn_id"]): a["amount"] for a in payment_allocations(payment)}
    assert by_txn == {("Invoice", invoice["Id"]): Decimal(100), ("CreditMemo", credit["Id"]): Decimal(100)}
    assert after["amount_paid"] == invoice_to_row(invoice)["amount_paid"] + 100
    assert Decimal(str(credit_after["RemainingCredit"])) == 0


# --------------------------------------------------------------------------- change data capture


def test_cdc_reports_edits_voids_and_deletions_of_transactions(books: Company) -> None:
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    with books.client() as client:
        unpaid = client.query("SELECT * FROM Invoice WHERE Balance > '0' MAXRESULTS 3")["Invoice"]
        voided, deleted = unpaid[0], unpaid[1]
        books.act(f"/entities/Invoice/{voided['Id']}/void")
        books.act(f"/entities/Invoice/{deleted['Id']}/delete")
        edited = books.act("/entities/Payment/touch", count=1, seed=5)["touched"]
        items = books.act("/entities/Item/touch", count=1, seed=5)["touched"]

        changes = client.changes_since(["invoices", "payments", "items", "accounts"], since)
        pages = list(client.stream_pages("invoices", since))

    assert not changes.truncated
    invoices = {r["Id"]: r for r in changes.records["invoices"]}
    assert set(invoices) == {voided["Id"], deleted["Id"]}
    assert changes.deleted("invoices") == [deleted["Id"]] and is_deleted(invoices[deleted["Id"]])
    assert is_voided(invoices[voided["Id"]]) and invoice_to_row(invoices[voided["Id"]])["total"] == 0
    assert [r["Id"] for r in changes.records["payments"]] == edited
    assert [r["Id"] for r in changes.records["items"]] == items and changes.records["accounts"] == []

    # The sync engine's path: one page, the deletion a soft delete, the cursor past every change.
    (page,) = pages
    assert sorted(r["Id"] for r in page.records) == sorted(invoices)
    rows = {r["external_id"]: r for r in map(invoice_to_row, page.records)}
    assert deleted_at(rows[deleted["Id"]]) is not None and deleted_at(rows[voided["Id"]]) is None
    assert StreamCursor.parse(page.cursor) >= max(
        StreamCursor.parse(r["MetaData"]["LastUpdatedTime"]) for r in page.records
    )
    assert books.outcomes("/cdc") == {"200": 2}


def test_credit_memo_lines_and_counts_through_cdc_and_the_query(books: Company) -> None:
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    with books.client() as client:
        made = add_credit_memos(books, client, [40, 60])
        (page,) = list(client.stream_pages("credit_memos", since))
        assert client.count("credit_memos") == 2
    assert sorted(r["Id"] for r in page.records) == sorted(m["Id"] for m in made)
    lines = [line for r in page.records for line in credit_memo_lines(r)]
    assert sorted(line["amount"] for line in lines) == [Decimal(40), Decimal(60)]


# --------------------------------------------------------------------------- push


def firm_mapping(client: QuickBooksClient) -> QuickBooksAccountingMapping:
    """The firm's choices, made from its own company's items and accounts (nothing hard-coded)."""
    services = one(client, "SELECT * FROM Item WHERE Name = 'Services'", "Item")
    advisory = one(client, "SELECT * FROM Item WHERE Name = 'Advisory hours'", "Item")
    tax_prep = one(client, "SELECT * FROM Item WHERE Name = 'Tax preparation'", "Item")
    return QuickBooksAccountingMapping.model_validate(
        {
            "default_item": {"value": services["Id"], "name": services["Name"]},
            "service_items": {
                "advisory": {"value": advisory["Id"]},
                "tax_return": {"value": tax_prep["Id"]},
            },
            "taxable_tax_code": {"value": "TAX"},
            "exempt_tax_code": {"value": "NON"},
        }
    )


def app_invoice(customer_id: str, number: str = "FS-0042", **changes: Any) -> CanonicalInvoice:
    lines = (
        CanonicalInvoiceLine(
            description="Advisory: cash-flow forecast",
            quantity=Decimal("2.5"),
            unit_price=Decimal("175"),
            amount=Decimal("437.50"),
            service="advisory",
        ),
        CanonicalInvoiceLine(
            description="2025 income tax returns",
            quantity=Decimal("1"),
            unit_price=Decimal("650"),
            amount=Decimal("650"),
            service="tax_return",
        ),
    )
    fields = {
        "number": number,
        "customer_external_id": customer_id,
        "currency": "USD",
        "issue_date": date(2026, 1, 15),
        "due_date": date(2026, 2, 14),
        "lines": lines,
    }
    return CanonicalInvoice(**(fields | changes))


def test_invoice_push_create_update_and_void(books: Company) -> None:
    with books.client() as client:
        mapping = firm_mapping(client)
        assert (
            check_accounting_mapping(mapping, everything(client, "items"), everything(client, "accounts"))
            == []
        )
        customer = everything(client, "customers")[0]

        created = client.upsert_invoice(invoice_to_payload(app_invoice(customer["Id"]), mapping))
        row = invoice_to_row(created)
        assert (row["doc_number"], row["customer_id"], row["total"]) == (
            "FS-0042",
            customer["Id"],
            Decimal("1087.5"),
        )
        assert row["balance"] == row["total"] and row["due_date"] == date(2026, 2, 14)
        assert [(line["item_id"], line["amount"]) for line in invoice_lines(created)] == [
            (mapping.service_items["advisory"].value, Decimal("437.5")),
            (mapping.service_items["tax_return"].value, Decimal("650")),
        ]

        # The app edits the invoice: one line now. A sparse update replaces the lines.
        edited = app_invoice(customer["Id"], lines=(app_invoice(customer["Id"]).lines[1],))
        updated = client.upsert_invoice(
            invoice_to_payload(edited, mapping), external_id=created["Id"], sync_token=created["SyncToken"]
        )
        assert int(updated["SyncToken"]) == int(created["SyncToken"]) + 1
        assert invoice_to_row(updated)["total"] == Decimal(650) and len(invoice_lines(updated)) == 1
        assert client.get("invoices", created["Id"]) == updated

        voided = client.void_invoice(updated["Id"], updated["SyncToken"])
        assert is_voided(voided) and invoice_to_row(voided)["total"] == 0
        # A retried void (its first answer lost) finds its own work done instead of a conflict.
        assert client.void_invoice(updated["Id"], updated["SyncToken"]) == voided


def test_an_invoice_edited_in_quickbooks_meanwhile_is_a_conflict_with_their_version(books: Company) -> None:
    with books.client() as client:
        mapping = firm_mapping(client)
        customer = everything(client, "customers")[0]
        created = client.upsert_invoice(invoice_to_payload(app_invoice(customer["Id"]), mapping))
        theirs = books.act(
            f"/entities/Invoice/{created['Id']}/edit",
            changes={"DueDate": "2026-03-31"},
            editor="Ada (bookkeeper)",
        )["Invoice"]
        with pytest.raises(ConflictError) as raised:
            client.upsert_invoice(
                invoice_to_payload(app_invoice(customer["Id"], due_date=date(2026, 2, 28)), mapping),
                external_id=created["Id"],
                sync_token=created["SyncToken"],
            )
        with pytest.raises(ConflictError) as void_raised:
            client.void_invoice(created["Id"], created["SyncToken"])
    assert raised.value.current == theirs and raised.value.current["DueDate"] == "2026-03-31"
    assert "Stale Object" in raised.value.message
    assert void_raised.value.current == theirs and not is_voided(theirs)


@pytest.mark.parametrize(
    ("breakage", "code", "says"),
    [
        ("unknown item", 2500, "Line.SalesItemLineDetail.ItemRef"),
        ("unknown customer", 2500, "CustomerRef"),
        ("no customer", 2020, "CustomerRef"),
    ],
)
def test_invoices_quickbooks_rejects_raise_permanent_errors_with_its_message(
    books: Company, breakage: str, code: int, says: str
) -> None:
    with books.client() as client:
        mapping = firm_mapping(client)
        customer_id = "9999" if breakage == "unknown customer" else everything(client, "customers")[0]["Id"]
        if breakage == "unknown item":
            mapping = QuickBooksAccountingMapping.model_validate(
                {"default_item": {"value": "9999"}, "exempt_tax_code": {"value": "NON"}}
            )
        payload = invoice_to_payload(app_invoice(customer_id), mapping)
        if breakage == "no customer":
            del payload["CustomerRef"]
        with pytest.raises(QuickBooksFault) as raised:
            client.upsert_invoice(payload)
    fault = raised.value
    assert isinstance(fault, PermanentError)  # the pipeline dead-letters these, with this message
    assert fault.code == code and says in fault.message and fault.vendor_message in fault.message
    assert books.outcomes("/invoice") == {"400": 1}  # refused once, never retried


# --------------------------------------------------------------------------- throttling


def test_a_429_storm_while_paging_is_waited_out(books: Company) -> None:
    books.fault("429", path_contains="/query", times=3, retry_after=0)
    with books.client() as client:
        assert len(everything(client, "invoices", page_size=10)) == 40
    assert books.outcomes("/query").get("429") == 3


def test_the_per_company_concurrency_limit_is_retried_until_every_stream_is_read(books: Company) -> None:
    # Intuit allows 10 requests in flight per company; here 2, with slow answers, for 3 readers at once.
    books.sandbox.admin(
        "PUT", f"/realms/{books.realm_id}/limits", json={"concurrent_requests": 2, "response_delay_ms": 300}
    )
    patient = RetryPolicy(max_attempts=8, base_delay=0.05, max_delay=0.5, max_retry_after=5.0)
    start = threading.Barrier(3)
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def read(stream: str) -> None:
        try:
            with books.client(books.with_access_token(), retry_policy=patient) as client:
                start.wait()
                results[stream] = len(everything(client, stream))
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=read, args=(s,)) for s in ("invoices", "payments", "items")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert results == {"invoices": 40, "payments": books_count(books, "Payment"), "items": 7}
    assert books.stats()["by_status"].get("429", 0) >= 1


def books_count(company: Company, entity: str) -> int:
    return company.sandbox.admin("GET", f"/realms/{company.realm_id}")["counts"][entity]


def test_a_burst_of_edits_reads_lists_by_query_and_transactions_past_cdcs_cap_ask_for_a_full_refresh(
    make_company,
) -> None:
    company: Company = make_company(customers=1300, anchor=datetime.now(UTC) - timedelta(days=3))
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    company.act("/customers/touch", count=1000, seed=1)  # 1,000 edits: CDC's cap
    company.sandbox.admin(
        "POST", f"/realms/{company.realm_id}/invoices/bulk", json={"count": 1000, "days": 0.01, "seed": 1}
    )
    with company.client() as client:
        assert client.changes_since(["customers"], since).truncated
        customers = [r["Id"] for page in client.stream_pages("customers", since) for r in page.records]
        assert len(customers) == len(set(customers)) == 1000  # every edit, by query, no capped CDC first
        with pytest.raises(CursorExpiredError, match="more than 1000 invoices"):
            list(client.stream_pages("invoices", since))
    assert company.outcomes("/cdc") == {"200": 2}  # changes_since above, and the invoices' capped call
