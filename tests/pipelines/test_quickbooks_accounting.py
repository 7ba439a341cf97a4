"""QuickBooks accounting streams and the billing merge, materialised for real: a fresh sandbox company with
invoices and payments → warehouse.quickbooks_* → app.invoices / app.payments. The sandbox (read through its
own query API) is the truth every table is compared with."""

from __future__ import annotations

import uuid
from decimal import Decimal

import dagster as dg
import httpx
import pytest
from sqlalchemy import text

from connectors.quickbooks import mapping
from core_api.db import tenant_session
from core_api.models.warehouse_accounting import QBO_INVOICE_LINES, QBO_INVOICES
from pipelines.assets.quickbooks import (
    ACCOUNTS,
    APP_CONTACTS,
    APP_INVOICES,
    APP_PAYMENTS,
    CREDIT_MEMOS,
    CUSTOMERS,
    INVOICES,
    ITEMS,
    PAYMENTS,
    QUICKBOOKS,
    quickbooks,
)
from pipelines.partitions import quickbooks_connections
from pipelines.resources import FirmsyncDatabase, QuickBooksApi
from pipelines.streams import ChildSpec, StreamSpec
from pipelines.sync_engine import mark_tombstones, write_rows
from tests.pipelines.conftest import make_target

STREAMS = (CUSTOMERS, INVOICES, PAYMENTS, CREDIT_MEMOS, ITEMS, ACCOUNTS)
RESOURCES = {
    "db": FirmsyncDatabase(),
    "quickbooks": QuickBooksApi(timeout_seconds=5, max_attempts=8, retry_base_delay_seconds=0.05),
}
CENT = Decimal("0.01")


@pytest.fixture
def books(database_url, sandbox, instance):
    """A company with 25 customers and 60 invoices (about half paid in full, some in part)."""
    target = make_target(sandbox, customers=25, seed=11, invoices=60)
    instance.add_dynamic_partitions(quickbooks_connections.name, [target.key])
    return target


def _materialize(target, instance):
    result = dg.materialize(
        quickbooks.assets,
        partition_key=target.key,
        instance=instance,
        resources=RESOURCES,
        raise_on_error=False,
    )
    assert result.success
    return result


def _meta(result, key) -> dict:
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key == key)
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _rows(target, sql: str, **params) -> list:
    with tenant_session(target.tenant) as session:
        return list(session.execute(text(sql), {"c": target.connection_id, **params}))


def _admin(sandbox, target, path: str, body: dict | None = None) -> dict:
    response = httpx.post(
        f"{sandbox.quickbooks}/_sandbox/realms/{target.realm['realm_id']}/{path}", json=body or {}
    )
    response.raise_for_status()
    return response.json()


def _sandbox(sandbox, target, entity: str) -> dict[str, dict]:
    """Every object of an entity as the sandbox holds it now, by Id (through its query API)."""
    token = _admin(sandbox, target, "grant")["access_token"]
    where = " WHERE Active IN (true, false)" if entity in ("Customer", "Item", "Account") else ""
    response = httpx.get(
        f"{sandbox.quickbooks}/v3/company/{target.realm['realm_id']}/query",
        params={"query": f"SELECT * FROM {entity}{where} MAXRESULTS 1000"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    response.raise_for_status()
    return {row["Id"]: row for row in response.json()["QueryResponse"].get(entity, [])}


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _expected_status(invoice: dict) -> str:
    total, balance = _money(invoice["TotalAmt"]), _money(invoice["Balance"])
    if mapping.is_voided(invoice):
        return "void"
    if balance == 0:
        return "paid"
    return "sent" if balance == total else "partial"


def _assert_warehouse_mirrors_sandbox(sandbox, target) -> dict[str, dict]:
    invoices = _sandbox(sandbox, target, "Invoice")
    held = {
        r.external_id: r
        for r in _rows(
            target,
            "select external_id, total, balance, voided from warehouse.quickbooks_invoices "
            "where connection_id = :c and deleted_at is null",
        )
    }
    assert set(held) == set(invoices)
    for external_id, invoice in invoices.items():
        row = held[external_id]
        assert (row.total, row.balance, row.voided) == (
            _money(invoice["TotalAmt"]),
            _money(invoice["Balance"]),
            mapping.is_voided(invoice),
        )
    lines = {
        (r.invoice_external_id, r.line_id): r.amount
        for r in _rows(
            target,
            "select l.invoice_external_id, l.line_id, l.amount from warehouse.quickbooks_invoice_lines l "
            "join warehouse.quickbooks_invoices i on i.connection_id = l.connection_id "
            "and i.external_id = l.invoice_external_id where l.connection_id = :c and i.deleted_at is null",
        )
    }
    assert lines == {
        (row["invoice_external_id"], row["line_id"]): row["amount"]
        for invoice in invoices.values()
        for row in mapping.invoice_lines(invoice)
    }
    payments = _sandbox(sandbox, target, "Payment")
    assert {
        r.external_id: r.total
        for r in _rows(
            target,
            "select external_id, total from warehouse.quickbooks_payments "
            "where connection_id = :c and deleted_at is null",
        )
    } == {pid: _money(p["TotalAmt"]) for pid, p in payments.items()}
    allocations = {
        (r.payment_external_id, r.txn_type, r.txn_id): r.amount
        for r in _rows(
            target,
            "select a.* from warehouse.quickbooks_payment_allocations a join warehouse.quickbooks_payments p "
            "on p.connection_id = a.connection_id and p.external_id = a.payment_external_id "
            "where a.connection_id = :c and p.deleted_at is null",
        )
    }
    assert allocations == {
        (a["payment_external_id"], a["txn_type"], a["txn_id"]): a["amount"]
        for p in payments.values()
        for a in mapping.payment_allocations(p)
    }
    for entity, table in (("CreditMemo", "credit_memos"), ("Item", "items"), ("Account", "accounts")):
        held_ids = _rows(
            target, f"select external_id from warehouse.quickbooks_{table} where connection_id = :c"
        )
        assert {r.external_id for r in held_ids} == set(_sandbox(sandbox, target, entity))
    return invoices


def _assert_app_books_match(sandbox, target, invoices: dict[str, dict]) -> None:
    """Every sandbox invoice has a local twin with QuickBooks' total, paid amount and status, to the cent."""
    local = {
        r.external_id: r
        for r in _rows(
            target,
            "select r.external_id, i.total, i.amount_paid, i.status, i.deleted_at, "
            "(select coalesce(sum(l.amount), 0) from app.invoice_lines l where l.invoice_id = i.id) as lines "
            "from app.external_refs r join app.invoices i on i.id = r.entity_id "
            "where r.connection_id = :c and r.entity = 'invoice'",
        )
    }
    assert set(invoices) <= set(local)
    for external_id, invoice in invoices.items():
        row = local[external_id]
        total, balance = _money(invoice["TotalAmt"]), _money(invoice["Balance"])
        assert row.deleted_at is None
        assert (row.total, row.amount_paid, row.status) == (
            total,
            total - balance,
            _expected_status(invoice),
        ), external_id
        assert row.lines == total  # the sandbox charges no tax: the lines add up to the total
    # Payments: each live QuickBooks payment's cash, and each credit memo, is a local payment, allocated as
    # QuickBooks applied it (a payment's credits pay first, so its cash covers what they did not).
    held = {
        (r.entity, r.external_id): r
        for r in _rows(
            target,
            "select r.entity, r.external_id, p.amount, p.amount_allocated, p.deleted_at "
            "from app.external_refs r join app.payments p on p.id = r.entity_id where r.connection_id = :c "
            "and r.entity in ('payment', 'credit_memo')",
        )
    }
    for payment_id, payment in _sandbox(sandbox, target, "Payment").items():
        if _money(payment["TotalAmt"]) == 0:
            continue
        links = mapping.payment_allocations(payment)
        cash = sum((a["amount"] for a in links if a["txn_type"] == "Invoice"), Decimal(0)) - sum(
            (a["amount"] for a in links if a["txn_type"] == "CreditMemo"), Decimal(0)
        )
        row = held[("payment", payment_id)]
        assert (row.amount, row.amount_allocated, row.deleted_at) == (_money(payment["TotalAmt"]), cash, None)
    for memo_id, memo in _sandbox(sandbox, target, "CreditMemo").items():
        row = held[("credit_memo", memo_id)]
        used = _money(memo["TotalAmt"]) - _money(memo["RemainingCredit"])
        assert (row.amount, row.amount_allocated) == (_money(memo["TotalAmt"]), used)
    # Pulled changes never echo back into the outbox (ADR 0009).
    assert _rows(target, "select count(*) from app.outbox")[0][0] == 0


def _versions(target) -> dict:
    return {
        r.id: r.version
        for r in _rows(
            target,
            "select id, version from app.invoices union all select id, version from app.payments "
            "union all select id, version from app.payment_allocations",
        )
    }


def _assert_nothing_written(result) -> None:
    for key in STREAMS:
        meta = _meta(result, key)
        assert (meta["rows_inserted"], meta["rows_updated"]) == (0, 0), key
    invoices, payments = _meta(result, APP_INVOICES), _meta(result, APP_PAYMENTS)
    assert (invoices["invoices_created"], invoices["invoices_updated"], invoices["invoices_settled"]) == (
        0,
        0,
        0,
    )
    assert all(payments[k] == 0 for k in payments if not k.endswith("unchanged")), payments


def test_all_six_streams_and_the_app_books_equal_the_sandbox(books, instance, sandbox):
    result = _materialize(books, instance)
    assert _meta(result, INVOICES)["rows_inserted"] == 60
    invoices = _assert_warehouse_mirrors_sandbox(sandbox, books)
    assert {_expected_status(i) for i in invoices.values()} >= {"paid", "partial", "sent"}
    _assert_app_books_match(sandbox, books, invoices)
    assert _meta(result, APP_INVOICES)["invoices_created"] == 60

    # Re-materialising with no vendor change writes nothing, anywhere.
    before = _versions(books)
    _assert_nothing_written(_materialize(books, instance))
    assert _versions(books) == before


def test_incremental_sync_takes_edits_voids_and_deletes_and_a_deleted_payment_reopens_its_invoice(
    books, instance, sandbox
):
    _materialize(books, instance)
    invoices = _sandbox(sandbox, books, "Invoice")
    payments = _sandbox(sandbox, books, "Payment")
    unpaid = sorted(
        (i for i in invoices.values() if _expected_status(i) == "sent"), key=lambda i: int(i["Id"])
    )
    paid_by = {a["txn_id"]: p for p in payments.values() for a in mapping.payment_allocations(p)}
    settled = next(i for i in sorted(invoices.values(), key=lambda i: int(i["Id"])) if i["Id"] in paid_by)
    edited, voided, deleted = unpaid[0], unpaid[1], unpaid[2]
    gone_payment = paid_by[settled["Id"]]

    _admin(
        sandbox,
        books,
        f"entities/Invoice/{edited['Id']}/edit",
        {"changes": {"CustomerMemo": {"value": "Thanks!"}}},
    )
    _admin(sandbox, books, f"entities/Invoice/{voided['Id']}/void")
    _admin(sandbox, books, f"entities/Invoice/{deleted['Id']}/delete")
    _admin(sandbox, books, f"entities/Payment/{gone_payment['Id']}/delete")

    stats_url = f"{sandbox.quickbooks}/_sandbox/realms/{books.realm['realm_id']}/stats"
    httpx.delete(stats_url).raise_for_status()
    result = _materialize(books, instance)
    # Every stream's changes (all six) came in ONE CDC call, and nothing else was asked.
    by_path = httpx.get(stats_url).json()["by_path"]
    assert list(by_path) == [f"/v3/company/{books.realm['realm_id']}/cdc"], by_path
    assert sum(by_path[next(iter(by_path))].values()) == 1, by_path
    # Exactly those: three invoices edited at QuickBooks, one revised by its payment's deletion; one payment.
    assert _meta(result, INVOICES)["rows_updated"] == 4 and _meta(result, INVOICES)["rows_inserted"] == 0
    assert _meta(result, PAYMENTS)["rows_updated"] == 1 and _meta(result, PAYMENTS)["rows_inserted"] == 0
    assert all(_meta(result, key)["rows_updated"] == 0 for key in (CUSTOMERS, ITEMS, ACCOUNTS))

    # The deletions are tombstones: marked deleted, last known amounts kept.
    (tomb,) = _rows(
        books,
        "select total, deleted_at, raw->>'status' as status, "
        "(select count(*) from warehouse.quickbooks_invoice_lines l where l.connection_id = :c "
        " and l.invoice_external_id = :id) as lines "
        "from warehouse.quickbooks_invoices where connection_id = :c and external_id = :id",
        id=deleted["Id"],
    )
    assert tomb.deleted_at is not None and tomb.status == "Deleted"
    assert tomb.total == _money(deleted["TotalAmt"]) and tomb.lines == len(mapping.invoice_lines(deleted))
    (payment_tomb,) = _rows(
        books,
        "select total, deleted_at from warehouse.quickbooks_payments "
        "where connection_id = :c and external_id = :id",
        id=gone_payment["Id"],
    )
    assert payment_tomb.deleted_at is not None and payment_tomb.total == _money(gone_payment["TotalAmt"])

    now = _assert_warehouse_mirrors_sandbox(sandbox, books)
    assert _money(now[settled["Id"]]["Balance"]) == _money(settled["Balance"]) + _money(
        gone_payment["TotalAmt"]
    )
    _assert_app_books_match(sandbox, books, now)
    (local,) = _rows(
        books,
        "select i.deleted_at is not null as deleted from app.invoices i join app.external_refs r "
        "on r.entity_id = i.id where r.connection_id = :c and r.entity = 'invoice' and r.external_id = :id",
        id=deleted["Id"],
    )
    assert local.deleted
    (edited_local,) = _rows(
        books,
        "select i.notes, i.version from app.invoices i join app.external_refs r on r.entity_id = i.id "
        "where r.connection_id = :c and r.entity = 'invoice' and r.external_id = :id",
        id=edited["Id"],
    )
    assert edited_local.notes == "Thanks!" and edited_local.version == 2
    (gone_local,) = _rows(
        books,
        "select p.deleted_at is not null as deleted, p.amount_allocated, "
        "(select count(*) from app.payment_allocations a where a.payment_id = p.id and a.deleted_at is null) "
        "as live from app.payments p join app.external_refs r on r.entity_id = p.id "
        "where r.connection_id = :c and r.entity = 'payment' and r.external_id = :id",
        id=gone_payment["Id"],
    )
    assert gone_local.deleted and gone_local.amount_allocated == 0 and gone_local.live == 0

    before = _versions(books)
    _assert_nothing_written(_materialize(books, instance))
    assert _versions(books) == before


def test_a_credit_memo_applied_in_quickbooks_counts_towards_the_invoice(books, instance, sandbox):
    _materialize(books, instance)
    invoices = _sandbox(sandbox, books, "Invoice")
    open_invoice = next(i for i in invoices.values() if _expected_status(i) == "sent")
    customer = open_invoice["CustomerRef"]["value"]
    item = next(iter(_sandbox(sandbox, books, "Item")))
    credit = _admin(
        sandbox,
        books,
        "entities/CreditMemo",
        {
            "body": {
                "CustomerRef": {"value": customer},
                "Line": [
                    {
                        "Amount": 40.25,
                        "DetailType": "SalesItemLineDetail",
                        "SalesItemLineDetail": {"ItemRef": {"value": item}},
                    }
                ],
            }
        },
    )["CreditMemo"]
    # QuickBooks applies a credit with a payment linking both; here 15.10 of cash comes with it.
    _admin(
        sandbox,
        books,
        "entities/Payment",
        {
            "body": {
                "CustomerRef": {"value": customer},
                "TotalAmt": 15.10,
                "Line": [
                    {"Amount": 55.35, "LinkedTxn": [{"TxnId": open_invoice["Id"], "TxnType": "Invoice"}]},
                    {"Amount": 40.25, "LinkedTxn": [{"TxnId": credit["Id"], "TxnType": "CreditMemo"}]},
                ],
            }
        },
    )
    _materialize(books, instance)
    now = _sandbox(sandbox, books, "Invoice")
    assert _money(now[open_invoice["Id"]]["Balance"]) == _money(open_invoice["TotalAmt"]) - Decimal("55.35")
    _assert_app_books_match(sandbox, books, now)
    allocations = {
        (r.entity, r.amount)
        for r in _rows(
            books,
            "select r.entity, a.amount from app.payment_allocations a join app.external_refs r "
            "on r.entity_id = a.payment_id and r.connection_id = :c join app.external_refs ri "
            "on ri.entity_id = a.invoice_id and ri.entity = 'invoice' "
            "where ri.external_id = :id and a.deleted_at is null",
            id=open_invoice["Id"],
        )
    }
    assert allocations == {("credit_memo", Decimal("40.25")), ("payment", Decimal("15.10"))}


def test_a_doc_number_taken_by_a_local_invoice_gets_the_provider_suffix(database_url, sandbox, instance):
    target = make_target(sandbox, customers=10, seed=3, invoices=5)
    instance.add_dynamic_partitions(quickbooks_connections.name, [target.key])
    doc_number = min(i["DocNumber"] for i in _sandbox(sandbox, target, "Invoice").values())
    local = uuid.uuid4()
    with tenant_session(target.tenant) as session:
        client = session.execute(
            text(
                "insert into app.clients (id, firm_id, name) "
                "values (gen_random_uuid(), :f, 'Local') returning id"
            ),
            {"f": target.tenant.firm_id},
        ).scalar_one()
        session.execute(
            text(
                "insert into app.invoices (id, firm_id, number, client_id, currency, issue_date, due_date) "
                "values (:id, :f, :n, :client, 'USD', current_date, current_date)"
            ),
            {"id": local, "f": target.tenant.firm_id, "n": doc_number, "client": client},
        )
    _materialize(target, instance)
    numbers = {
        r.external_id: r.number
        for r in _rows(
            target,
            "select r.external_id, i.number from app.invoices i "
            "join app.external_refs r on r.entity_id = i.id "
            "where r.connection_id = :c and r.entity = 'invoice'",
        )
    }
    vendor = {i["Id"]: i["DocNumber"] for i in _sandbox(sandbox, target, "Invoice").values()}
    taken = next(ext for ext, number in vendor.items() if number == doc_number)
    assert numbers[taken] == f"{doc_number}-QB{taken}"
    assert all(numbers[ext] == number for ext, number in vendor.items() if ext != taken)
    assert _rows(target, "select number from app.invoices where id = :id", id=local)[0].number == doc_number
    _materialize(target, instance)  # stable: the suffixed number is kept
    assert (
        _rows(target, "select count(*) from app.invoices where number = :n", n=f"{doc_number}-QB{taken}")[0][
            0
        ]
        == 1
    )


def test_a_429_storm_converges_without_a_failed_run(books, instance, sandbox):
    httpx.post(
        f"{sandbox.quickbooks}/_sandbox/faults",
        json={
            "kind": "429",
            "realm": books.realm["realm_id"],
            "times": 12,
            "retry_after": 0,
            "probability": 0.6,
        },
    ).raise_for_status()
    result = _materialize(books, instance)
    failures = [e for e in result.all_events if e.event_type_value in ("STEP_FAILURE", "STEP_UP_FOR_RETRY")]
    assert failures == []
    stats = httpx.get(f"{sandbox.quickbooks}/_sandbox/realms/{books.realm['realm_id']}/stats").json()
    throttled = {str(k): v for k, v in stats["by_status"].items()}.get("429", 0)
    httpx.delete(f"{sandbox.quickbooks}/_sandbox/faults").raise_for_status()  # what the run left unused
    assert throttled >= 4, stats["by_status"]
    _assert_app_books_match(sandbox, books, _assert_warehouse_mirrors_sandbox(sandbox, books))


def test_a_tombstone_marks_the_row_deleted_and_keeps_its_last_known_columns(database_url, sandbox, instance):
    """The engine, generically: a deletion stub only sets deleted_at / synced_at / raw status; idempotent."""
    target = make_target(sandbox, customers=1, seed=5)
    stream = StreamSpec(
        name="invoices",
        asset_key=INVOICES,
        table=QBO_INVOICES,
        description="",
        map_record=mapping.invoice_to_row,
        record_id=lambda p: p["Id"],
        pages=lambda *_: iter(()),
        deleted_at=mapping.deleted_at,
        children=(ChildSpec(QBO_INVOICE_LINES, "invoice_external_id", mapping.invoice_lines),),
        is_tombstone=mapping.is_deleted,
    )
    payload = {
        "Id": "130",
        "DocNumber": "1037",
        "TotalAmt": 362.5,
        "Balance": 362.5,
        "CustomerRef": {"value": "1"},
        "Line": [
            {"Id": "1", "Amount": 362.5, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {}}
        ],
        "MetaData": {
            "CreateTime": "2026-11-01T09:00:00-07:00",
            "LastUpdatedTime": "2026-11-01T09:00:00-07:00",
        },
    }
    stub = {
        "Id": "130",
        "domain": "QBO",
        "status": "Deleted",
        "MetaData": {"LastUpdatedTime": "2026-11-20T10:00:00-08:00"},
    }
    unseen = {**stub, "Id": "131"}

    def owned(row):
        return {**row, "firm_id": target.tenant.firm_id, "connection_id": target.connection_id}

    def load(*payloads):
        from datetime import UTC, datetime

        with tenant_session(target.tenant) as session:
            rows = [owned({**stream.map_record(p), "synced_at": datetime.now(UTC)}) for p in payloads]
            for row in rows:
                row["deleted_at"] = mapping.deleted_at(row)
            live = [(r, p) for r, p in zip(rows, payloads, strict=True) if not stream.tombstone(p)]
            dead = [(r, p) for r, p in zip(rows, payloads, strict=True) if stream.tombstone(p)]
            kids = [[[owned(k) for k in mapping.invoice_lines(p)]] for _, p in live]
            write_rows(session, stream, target.connection_id, [r for r, _ in live], kids)
            return mark_tombstones(session, stream, dead)

    load(payload)
    stats = load(stub, unseen)
    assert (stats.inserted, stats.updated) == (1, 1)
    rows = {
        r.external_id: r
        for r in _rows(
            target,
            "select external_id, total, doc_number, deleted_at, raw->>'status' as status, "
            "raw->>'DocNumber' as doc, "
            "(select count(*) from warehouse.quickbooks_invoice_lines l where l.connection_id = :c "
            " and l.invoice_external_id = i.external_id) as lines "
            "from warehouse.quickbooks_invoices i where connection_id = :c",
        )
    }
    kept = rows["130"]
    assert (kept.total, kept.doc_number, kept.doc, kept.status, kept.lines) == (
        Decimal("362.5"),
        "1037",
        "1037",
        "Deleted",
        1,
    )
    assert kept.deleted_at == mapping.parse_qbo_datetime("2026-11-20T10:00:00-08:00")
    assert rows["131"].deleted_at is not None and rows["131"].total is None
    again = load(stub, unseen)  # the same stubs again (CDC re-reads its last minute): nothing changes
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert QUICKBOOKS.streams[1].tombstone(stub) and not QUICKBOOKS.streams[1].tombstone(payload)


def test_an_invoice_with_a_pending_push_keeps_its_local_copy_until_pushed(books, instance, sandbox):
    _materialize(books, instance)
    invoice = next(i for i in _sandbox(sandbox, books, "Invoice").values() if _expected_status(i) == "sent")
    (local,) = _rows(
        books,
        "select i.id, i.notes, i.version from app.invoices i join app.external_refs r on r.entity_id = i.id "
        "where r.connection_id = :c and r.entity = 'invoice' and r.external_id = :id",
        id=invoice["Id"],
    )
    with tenant_session(books.tenant) as session:  # a local edit waiting in the outbox (ADR 0009)
        session.execute(
            text(
                "insert into app.outbox (id, firm_id, entity, entity_id, operation, payload) "
                "values (gen_random_uuid(), :f, 'invoice', :id, 'updated', '{}')"
            ),
            {"f": books.tenant.firm_id, "id": local.id},
        )
    _admin(
        sandbox,
        books,
        f"entities/Invoice/{invoice['Id']}/edit",
        {"changes": {"CustomerMemo": {"value": "x"}}},
    )
    result = _materialize(books, instance)
    assert _meta(result, APP_INVOICES)["invoices_held_pending_push"] == 1
    assert _meta(result, APP_INVOICES)["invoices_updated"] == 0
    (after,) = _rows(books, "select notes, version from app.invoices where id = :id", id=local.id)
    assert (after.notes, after.version) == (local.notes, local.version)


def test_a_customers_person_becomes_a_contact_and_a_known_one_is_linked(books, instance, sandbox):
    customers = {
        k: c
        for k, c in _sandbox(sandbox, books, "Customer").items()
        if c.get("Active", True) and (c.get("GivenName") or c.get("FamilyName"))
    }
    assert customers
    first = _materialize(books, instance)
    assert _meta(first, APP_CONTACTS)["contacts_created"] == len(customers)
    people = {
        r.external_id: r
        for r in _rows(
            books,
            "select r.external_id, k.id, k.first_name, k.last_name, k.email from app.contacts k "
            "join app.external_refs r on r.entity_id = k.id and r.entity = 'contact' "
            "where r.connection_id = :c",
        )
    }
    assert {k: (p.first_name, p.last_name) for k, p in people.items()} == {
        f"{k}:primary": (c.get("GivenName") or "", c.get("FamilyName") or "") for k, c in customers.items()
    }
    # The firm re-types a contact by hand after losing its link: the next merge links it, never duplicates it.
    some = next(p for p in people.values() if p.email)
    with tenant_session(books.tenant) as session:
        session.execute(text("delete from app.external_refs where entity_id = :k"), {"k": some.id})
    touched = _admin(sandbox, books, "customers/touch", {"count": len(customers) + 5, "seed": 9})
    assert touched["touched"]
    second = _materialize(books, instance)
    assert _meta(second, APP_CONTACTS)["contacts_created"] == 0
    assert _meta(second, APP_CONTACTS)["contacts_matched"] == 1
    [(count,)] = _rows(books, "select count(*) from app.contacts")
    assert count == len(customers)
