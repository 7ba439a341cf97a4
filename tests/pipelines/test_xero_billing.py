"""The Xero billing merge, materialised for real: a fresh sandbox organisation with sales invoices, payments
and credit notes → warehouse.xero_* → app.invoices / invoice_lines / payments / payment_allocations. The
sandbox (read straight through its Accounting API, not our connector) is the truth every table is compared
with."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from decimal import Decimal

import dagster as dg
import httpx
import pytest
from sqlalchemy import text

from core_api.db import tenant_session
from pipelines.assets.quickbooks import quickbooks
from pipelines.assets.xero import APP_INVOICES, APP_PAYMENTS, STREAM_KEYS, xero
from pipelines.partitions import quickbooks_connections, xero_connections
from tests.pipelines.conftest import make_xero_target

CENT = Decimal("0.01")
QUANTITY = Decimal("0.0001")
BOOK = {"contacts": 25, "invoices": 60, "credit_notes": 6, "seed": 13}
LOCAL_STATUS = {"DRAFT": "draft", "SUBMITTED": "draft", "DELETED": "draft", "VOIDED": "void"}


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _admin(sandbox, method: str, path: str, **kwargs):
    response = httpx.request(method, f"{sandbox.xero}/_sandbox{path}", timeout=10, **kwargs)
    response.raise_for_status()
    return response.json() if response.content else None


class Xero:
    """One organisation as Xero holds it now, read and written straight through the emulated Accounting API
    (not our connector), with a consent of its own."""

    def __init__(self, sandbox, organisation: dict) -> None:
        tenant_id = organisation["tenant_id"]
        token = _admin(sandbox, "POST", f"/tenants/{tenant_id}/grant", json={})["access_token"]
        self.base = f"{sandbox.xero}/api.xro/2.0"
        self.headers = {
            "Authorization": f"Bearer {token}",
            "xero-tenant-id": tenant_id,
            "Accept": "application/json",
        }

    def call(self, method: str, path: str, body: dict | None = None, params: dict | None = None) -> dict:
        response = httpx.request(
            method, f"{self.base}/{path}", json=body, params=params, headers=self.headers, timeout=10
        )
        assert response.status_code == 200, response.text
        return json.loads(response.text, parse_float=Decimal)

    def all(self, collection: str, id_field: str) -> dict[str, dict]:
        records, page = {}, 1
        while True:
            batch = self.call("GET", collection, params={"page": page})[collection]
            records.update({r[id_field]: r for r in batch})
            if len(batch) < 100:
                return records
            page += 1

    def books(self) -> dict[str, dict[str, dict]]:
        return {
            "invoices": self.all("Invoices", "InvoiceID"),
            "payments": self.all("Payments", "PaymentID"),
            "credit_notes": self.all("CreditNotes", "CreditNoteID"),
        }

    def create_invoice(self, contact_id: str, **fields) -> dict:
        body = {"Type": "ACCREC", "Contact": {"ContactID": contact_id}, "Status": "AUTHORISED", **fields}
        body.setdefault("LineItems", [{"Description": "Advisory", "Quantity": 2, "UnitAmount": 150}])
        return self.call("PUT", "Invoices", body)["Invoices"][0]

    def pay(self, invoice_id: str, amount) -> dict:
        body = {"Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": "090"}, "Amount": amount}
        return self.call("PUT", "Payments", body)["Payments"][0]


@pytest.fixture
def books(database_url, sandbox, instance):
    """An organisation with 25 contacts and 60 sales invoices (over half paid, some in part, a few voided
    or draft, six credited by credit notes), its minute limit raised so the tests' own reads never wait."""
    target = make_xero_target(sandbox, **BOOK)
    _admin(sandbox, "PUT", f"/tenants/{target.realm['tenant_id']}/limits", json={"minute_limit": 1000})
    instance.add_dynamic_partitions(xero_connections.name, [target.key])
    return target


def _materialize(target, instance, resources):
    result = dg.materialize(
        xero.assets, partition_key=target.key, instance=instance, resources=resources, raise_on_error=False
    )
    assert result.success
    return result


def _meta(result, key) -> dict:
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key == key)
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _rows(target, sql: str, **params) -> list:
    with tenant_session(target.tenant) as session:
        return list(session.execute(text(sql), {"c": target.connection_id, **params}))


def _local_invoices(target) -> dict[str, object]:
    return {
        r.external_id: r
        for r in _rows(
            target,
            "select r.external_id, i.id, i.number, i.status, i.subtotal, i.tax_total, i.total, "
            "i.amount_paid, i.notes, i.voided_at, i.deleted_at, i.version from app.external_refs r "
            "join app.invoices i on i.id = r.entity_id where r.connection_id = :c and r.entity = 'invoice'",
        )
    }


def _expected(invoice: dict) -> tuple[str, Decimal]:
    """(local status, amount paid) as Xero's amounts say: an issued invoice is paid, partial or sent by
    what its payments and credit notes cover (Total - AmountDue)."""
    if invoice["Status"] not in ("AUTHORISED", "PAID"):
        return LOCAL_STATUS[invoice["Status"]], Decimal("0.00")
    total, paid = _money(invoice["Total"]), _money(invoice["Total"]) - _money(invoice["AmountDue"])
    return ("paid" if paid >= total else "sent" if paid == 0 else "partial"), paid


def _expected_lines(invoice: dict) -> list[tuple]:
    inclusive = invoice.get("LineAmountTypes") == "Inclusive"
    return [
        (
            n,
            line["Description"],
            Decimal(str(line.get("Quantity", 1))).quantize(QUANTITY),
            Decimal(str(line["UnitAmount"])).quantize(QUANTITY),
            _money(line["LineAmount"]) - (_money(line["TaxAmount"]) if inclusive else 0),
            _money(line["TaxAmount"]),
        )
        for n, line in enumerate(invoice["LineItems"], start=1)
    ]


def _applied(books: dict[str, dict[str, dict]]) -> dict[tuple[str, str, str], Decimal]:
    """What Xero applies to which invoice now: (entity, payment or credit note id, invoice id) → amount."""
    out: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for payment_id, p in books["payments"].items():
        if p["PaymentType"] == "ACCRECPAYMENT" and p["Status"] == "AUTHORISED":
            out[("payment", payment_id, p["Invoice"]["InvoiceID"])] += _money(p["Amount"])
    for note_id, n in books["credit_notes"].items():
        if n["Status"] in ("AUTHORISED", "PAID"):
            for a in n.get("Allocations") or []:
                out[("credit_note", note_id, a["Invoice"]["InvoiceID"])] += _money(a["Amount"])
    return dict(out)


def assert_books_match(target, xero_api: Xero) -> dict[str, dict[str, dict]]:
    """Every sales invoice of the organisation (all its contacts are clients) has a local twin with Xero's
    number, lines, totals, paid amount and status, to the cent; every payment and credit note is a local
    payment allocated exactly as Xero applies it; bills and their payments stay out."""
    books = xero_api.books()
    sales = {k: i for k, i in books["invoices"].items() if i["Type"] == "ACCREC"}
    local = _local_invoices(target)
    assert set(local) == set(sales)  # bills (ACCPAY) are not the firm's receivables
    lines: dict[str, list[tuple]] = defaultdict(list)
    for r in _rows(
        target,
        "select r.external_id, l.position, l.description, l.quantity, l.unit_price, l.amount, l.tax_amount "
        "from app.invoice_lines l join app.external_refs r on r.entity_id = l.invoice_id "
        "where r.connection_id = :c and r.entity = 'invoice' order by r.external_id, l.position",
    ):
        lines[r.external_id].append(tuple(r[1:]))
    for invoice_id, invoice in sales.items():
        row = local[invoice_id]
        status, paid = _expected(invoice)
        assert (row.status, row.amount_paid) == (status, paid), (invoice_id, invoice["Status"])
        assert (row.subtotal, row.tax_total, row.total) == (
            _money(invoice["SubTotal"]),
            _money(invoice["TotalTax"]),
            _money(invoice["Total"]),
        )
        assert (row.deleted_at is not None) == (invoice["Status"] == "DELETED")
        assert (row.voided_at is not None) == (invoice["Status"] == "VOIDED")
        assert row.notes == (invoice.get("Reference") or None)
        assert lines[invoice_id] == _expected_lines(invoice), invoice_id
        assert sum(line[4] for line in lines[invoice_id]) == row.subtotal  # the lines add up, to the cent
        if _money(invoice["Total"]) > 0:  # Xero's own PAID agrees with the status settled from allocations
            assert (row.status == "paid") == (invoice["Status"] == "PAID"), invoice_id
    allocated = _rows(
        target,
        "select rp.entity, rp.external_id, ri.external_id as invoice_id, a.amount "
        "from app.payment_allocations a "
        "join app.external_refs rp on rp.entity_id = a.payment_id and rp.connection_id = :c "
        "join app.external_refs ri on ri.entity_id = a.invoice_id and ri.connection_id = :c "
        "where a.deleted_at is null",
    )
    assert len(allocated) == len({tuple(r[:3]) for r in allocated})  # one allocation per pair
    assert {tuple(r[:3]): r.amount for r in allocated} == _applied(books)

    held = {
        (r.entity, r.external_id): r
        for r in _rows(
            target,
            "select r.entity, r.external_id, p.amount, p.amount_allocated, p.method, p.deleted_at "
            "from app.external_refs r join app.payments p on p.id = r.entity_id "
            "where r.connection_id = :c and r.entity in ('payment', 'credit_note')",
        )
    }
    for payment_id, p in books["payments"].items():
        if p["PaymentType"] != "ACCRECPAYMENT":
            assert ("payment", payment_id) not in held  # a bill's payment is not the firm's receipt
            continue
        row = held[("payment", payment_id)]
        if p["Status"] == "DELETED":
            assert row.deleted_at is not None and row.amount_allocated == 0
        else:
            assert (row.amount, row.amount_allocated, row.deleted_at) == (
                _money(p["Amount"]),
                _money(p["Amount"]),
                None,
            )
    for note_id, n in books["credit_notes"].items():
        used = sum((_money(a["Amount"]) for a in n.get("Allocations") or []), Decimal(0))
        row = held[("credit_note", note_id)]
        # Its amount is the credit it gave or can still give: unallocated is exactly Xero's RemainingCredit.
        assert (row.amount, row.amount_allocated, row.method, row.deleted_at) == (
            used + _money(n["RemainingCredit"]),
            used,
            "other",
            None,
        )
    # Pulled changes never echo back into the outbox (ADR 0009).
    assert _rows(target, "select count(*) from app.outbox")[0][0] == 0
    return books


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
    invoices, payments = _meta(result, APP_INVOICES), _meta(result, APP_PAYMENTS)
    assert (invoices["invoices_created"], invoices["invoices_updated"], invoices["invoices_settled"]) == (
        0,
        0,
        0,
    )
    assert all(payments[k] == 0 for k in payments if not k.endswith("unchanged")), payments


def _first(records, predicate) -> dict:
    return next(r for _, r in sorted(records.items()) if predicate(r))


def test_every_sales_invoice_payment_and_credit_note_lands_equal_to_xero(books, instance, resources, sandbox):
    api = Xero(sandbox, books.realm)
    seeded = api.books()["invoices"]
    contact = next(iter(sorted(seeded.values(), key=lambda i: i["InvoiceNumber"])))["Contact"]["ContactID"]
    # Beyond the seeded book: tax inclusive and exclusive lines with a discount, an invoice awaiting
    # approval, and a bill (with its payment) that must stay out of the firm's receivables.
    api.create_invoice(
        contact,
        LineAmountTypes="Inclusive",
        LineItems=[
            {"Description": "Tax return", "Quantity": 1, "UnitAmount": 650, "TaxType": "OUTPUT"},
            {"Description": "Filing fee", "Quantity": 3, "UnitAmount": 33.33, "TaxType": "OUTPUT"},
        ],
    )
    api.create_invoice(
        contact,
        LineItems=[
            {
                "Description": "Advisory (per hour)",
                "Quantity": 7.5,
                "UnitAmount": 225,
                "DiscountRate": 10,
                "TaxType": "OUTPUT",
            }
        ],
    )
    api.create_invoice(contact, Status="SUBMITTED")
    bill = api.create_invoice(contact, Type="ACCPAY")
    api.pay(bill["InvoiceID"], 100)

    result = _materialize(books, instance, resources)
    now = assert_books_match(books, api)
    sales = [i for i in now["invoices"].values() if i["Type"] == "ACCREC"]
    assert {_expected(i)[0] for i in sales} == {"draft", "sent", "partial", "paid", "void"}
    assert any(i["LineAmountTypes"] == "Inclusive" and _money(i["TotalTax"]) > 0 for i in sales)
    assert len(now["credit_notes"]) == BOOK["credit_notes"] and any(
        n.get("Allocations") for n in now["credit_notes"].values()
    )
    invoices = _meta(result, APP_INVOICES)
    assert (invoices["invoices_created"], invoices["invoices_skipped_bills"]) == (len(sales), 1)
    assert invoices["invoices_skipped_unlinked"] == 0
    payments = _meta(result, APP_PAYMENTS)
    receipts = [p for p in now["payments"].values() if p["PaymentType"] == "ACCRECPAYMENT"]
    assert payments["payments_created"] == len(receipts) + len(now["credit_notes"])
    assert payments["allocations_created"] == len(_applied(now))

    # Re-materialising with no change at Xero writes nothing, anywhere.
    before = _versions(books)
    _assert_nothing_written(_materialize(books, instance, resources))
    assert _versions(books) == before


def test_an_incremental_sync_reopens_voids_deletes_and_settles_what_changed_at_xero(
    books, instance, resources, sandbox
):
    api = Xero(sandbox, books.realm)
    seeded = api.books()["invoices"]
    contact = _first(seeded, lambda i: True)["Contact"]["ContactID"]
    draft = api.create_invoice(contact, Status="DRAFT")
    _materialize(books, instance, resources)
    before = api.books()
    invoices = before["invoices"]
    paid_by = defaultdict(list)
    for p in before["payments"].values():
        if p["Status"] == "AUTHORISED":
            paid_by[p["Invoice"]["InvoiceID"]].append(p)
    settled = _first(
        invoices,
        lambda i: i["Status"] == "PAID" and len(paid_by[i["InvoiceID"]]) == 1 and not i["CreditNotes"],
    )
    unpaid = [
        i
        for _, i in sorted(invoices.items())
        if i["Status"] == "AUTHORISED" and _money(i["AmountPaid"]) == 0 and _money(i["AmountCredited"]) == 0
    ]
    voided, partly, edited = unpaid[0], unpaid[1], unpaid[2]
    gone = paid_by[settled["InvoiceID"]][0]

    api.call("POST", f"Payments/{gone['PaymentID']}", {"Status": "DELETED"})
    api.call("POST", f"Invoices/{voided['InvoiceID']}", {"Status": "VOIDED"})
    api.call("POST", f"Invoices/{draft['InvoiceID']}", {"Status": "DELETED"})
    api.call("POST", f"Invoices/{edited['InvoiceID']}", {"Reference": "Thanks!"})
    half = (_money(partly["Total"]) / 2).quantize(CENT)
    fresh = api.pay(partly["InvoiceID"], float(half))  # JSON numbers, as Xero takes them

    result = _materialize(books, instance, resources)
    # Only the changes were read: five invoices (two revised by a payment made or deleted), two payments.
    synced = {k: _meta(result, STREAM_KEYS[k]) for k in ("invoices", "payments")}
    assert (synced["invoices"]["rows_updated"], synced["invoices"]["rows_inserted"]) == (5, 0)
    assert (synced["payments"]["rows_updated"], synced["payments"]["rows_inserted"]) == (1, 1)
    # Headers changed for three (void, deleted, edited); the payments merge settles the other two.
    assert _meta(result, APP_INVOICES)["invoices_updated"] == 3
    payments = _meta(result, APP_PAYMENTS)
    assert (payments["payments_created"], payments["payments_removed"]) == (1, 1)
    assert (payments["allocations_created"], payments["allocations_removed"]) == (1, 1)

    assert_books_match(books, api)
    local = _local_invoices(books)
    reopened = local[settled["InvoiceID"]]
    assert (reopened.status, reopened.amount_paid) == ("sent", Decimal("0.00"))
    assert local[voided["InvoiceID"]].status == "void" and local[voided["InvoiceID"]].voided_at is not None
    assert local[draft["InvoiceID"]].deleted_at is not None and local[draft["InvoiceID"]].status == "draft"
    assert (local[partly["InvoiceID"]].status, local[partly["InvoiceID"]].amount_paid) == ("partial", half)
    assert (local[edited["InvoiceID"]].notes, local[edited["InvoiceID"]].version) == ("Thanks!", 2)
    (gone_local,) = _rows(
        books,
        "select p.deleted_at, p.amount_allocated, (select count(*) from app.payment_allocations a "
        "where a.payment_id = p.id and a.deleted_at is null) as live "
        "from app.payments p join app.external_refs r on r.entity_id = p.id "
        "where r.connection_id = :c and r.entity = 'payment' and r.external_id = :id",
        id=gone["PaymentID"],
    )
    assert gone_local.deleted_at is not None and (gone_local.amount_allocated, gone_local.live) == (0, 0)
    assert fresh["PaymentID"] in {
        r.external_id for r in _rows(books, "select external_id from app.external_refs")
    }

    before_versions = _versions(books)
    _assert_nothing_written(_materialize(books, instance, resources))
    assert _versions(books) == before_versions


def test_an_invoice_with_a_pending_push_keeps_its_local_copy_until_pushed(
    books, instance, resources, sandbox
):
    _materialize(books, instance, resources)
    api = Xero(sandbox, books.realm)
    invoice = _first(
        api.books()["invoices"], lambda i: i["Status"] == "AUTHORISED" and _money(i["AmountPaid"]) == 0
    )
    local = _local_invoices(books)[invoice["InvoiceID"]]
    with tenant_session(books.tenant) as session:  # a local edit waiting in the outbox (ADR 0009)
        session.execute(
            text(
                "insert into app.outbox (id, firm_id, entity, entity_id, operation, payload) "
                "values (gen_random_uuid(), :f, 'invoice', :id, 'updated', '{}')"
            ),
            {"f": books.tenant.firm_id, "id": local.id},
        )
    api.call("POST", f"Invoices/{invoice['InvoiceID']}", {"Reference": "Changed at Xero"})
    held = _meta(_materialize(books, instance, resources), APP_INVOICES)
    assert (held["invoices_held_pending_push"], held["invoices_updated"]) == (1, 0)
    after = _local_invoices(books)[invoice["InvoiceID"]]
    assert (after.notes, after.version) == (local.notes, local.version)

    with tenant_session(books.tenant) as session:  # the push handled it (its cursor passed the row)
        [(position,)] = session.execute(
            text("select xid::text || ':' || seq from app.outbox where entity_id = :i"), {"i": local.id}
        ).all()
        session.execute(
            text(
                "insert into app.sync_state (connection_id, stream, firm_id, cursor) "
                "values (:c, 'push:outbox', :f, :p) "
                "on conflict (connection_id, stream) do update set cursor = excluded.cursor"
            ),
            {"c": books.connection_id, "f": books.tenant.firm_id, "p": position},
        )
    released = _meta(_materialize(books, instance, resources), APP_INVOICES)
    assert (released["invoices_held_pending_push"], released["invoices_updated"]) == (0, 1)
    assert _local_invoices(books)[invoice["InvoiceID"]].notes == "Changed at Xero"


def test_an_invoice_number_taken_locally_gets_the_xero_suffix(books, instance, resources, sandbox):
    api = Xero(sandbox, books.realm)
    taken = _first(api.books()["invoices"], lambda i: i["InvoiceNumber"] == "INV-0001")
    local = uuid.uuid4()
    with tenant_session(books.tenant) as session:
        client = session.execute(
            text(
                "insert into app.clients (id, firm_id, name) "
                "values (gen_random_uuid(), :f, 'Local') returning id"
            ),
            {"f": books.tenant.firm_id},
        ).scalar_one()
        session.execute(
            text(
                "insert into app.invoices (id, firm_id, number, client_id, currency, issue_date, due_date) "
                "values (:id, :f, 'INV-0001', :client, 'USD', current_date, current_date)"
            ),
            {"id": local, "f": books.tenant.firm_id, "client": client},
        )
    _materialize(books, instance, resources)
    numbers = {k: r.number for k, r in _local_invoices(books).items()}
    suffixed = f"INV-0001-XERO{taken['InvoiceID'][:8]}"
    assert numbers[taken["InvoiceID"]] == suffixed
    vendor = {k: i["InvoiceNumber"] for k, i in api.books()["invoices"].items() if i["Type"] == "ACCREC"}
    assert all(numbers[k] == n for k, n in vendor.items() if k != taken["InvoiceID"])
    assert _rows(books, "select number from app.invoices where id = :id", id=local)[0].number == "INV-0001"
    _materialize(books, instance, resources)  # stable: the suffixed number is kept
    assert _local_invoices(books)[taken["InvoiceID"]].number == suffixed


def test_the_demo_overlap_keeps_each_vendors_invoices_on_its_own_refs(
    database_url, sandbox, instance, resources, settings
):
    """The demo firm has the same 20 clients in QuickBooks and Xero: one client, two refs. Each vendor's
    invoices and payments land on twins linked to that vendor's connection only, for the client its own
    customer record is linked to, with its own amounts."""
    from core_api.demo import seed_demo
    from core_api.tenancy import Role, issue_tenant_context

    firm_id = seed_demo(settings, sandbox_url=sandbox.url)
    tenant = issue_tenant_context(firm_id, Role.firm_admin)
    with tenant_session(tenant) as session:
        connections = dict(session.execute(text("select provider, id from app.connections")).all())
    instance.add_dynamic_partitions(xero_connections.name, [str(connections["xero"])])
    instance.add_dynamic_partitions(quickbooks_connections.name, [str(connections["quickbooks"])])
    for assets, key in ((quickbooks.assets, connections["quickbooks"]), (xero.assets, connections["xero"])):
        assert dg.materialize(assets, partition_key=str(key), instance=instance, resources=resources).success

    def one(sql: str):
        with tenant_session(tenant) as session:
            return session.execute(text(sql)).scalar_one()

    # No invoice or payment holds refs of two connections (a client or a contact, the same party or person
    # in both books, may), and no allocation crosses connections.
    assert (
        one(
            "select count(*) from (select entity_id from app.external_refs "
            "where entity not in ('client', 'contact') "
            "group by entity_id having count(distinct connection_id) > 1) x"
        )
        == 0
    )
    assert (
        one(
            "select count(*) from app.payment_allocations a "
            "join app.external_refs rp on rp.entity_id = a.payment_id "
            "join app.external_refs ri on ri.entity_id = a.invoice_id and ri.entity = 'invoice' "
            "where rp.connection_id <> ri.connection_id"
        )
        == 0
    )
    # Each vendor's invoice is on the client its own customer is linked to, with its own total.
    for table, customer in (("xero_invoices", "contact_id"), ("quickbooks_invoices", "customer_id")):
        assert (
            one(
                f"select count(*) from app.external_refs ri join app.invoices i on i.id = ri.entity_id "
                f"join warehouse.{table} w on w.connection_id = ri.connection_id "
                f"and w.external_id = ri.external_id "
                f"join app.external_refs rc on rc.connection_id = ri.connection_id and rc.entity = 'client' "
                f"and rc.external_id = w.{customer} "
                f"where ri.entity = 'invoice' "
                f"and (rc.entity_id <> i.client_id or i.total <> round(w.total, 2))"
            )
            == 0
        )
    # Every Xero sales invoice of a linked contact is merged (bills are not), and the clients the two
    # vendors share carry invoices from both.
    merged = one("select count(*) from app.external_refs where entity = 'invoice' and provider = 'xero'")
    wanted = one(
        "select count(*) from warehouse.xero_invoices w where w.type = 'ACCREC' and exists (select 1 from "
        "app.external_refs rc where rc.connection_id = w.connection_id and rc.entity = 'client' "
        "and rc.external_id = w.contact_id)"
    )
    assert merged == wanted > 300
    assert (
        one(
            "select count(*) from (select i.client_id from app.invoices i "
            "join app.external_refs r on r.entity_id = i.id and r.entity = 'invoice' "
            "group by i.client_id having count(distinct r.provider) = 2) x"
        )
        >= 5
    )
    # The Xero twins are settled as Xero says: total - amount_paid is Xero's AmountDue.
    assert (
        one(
            "select count(*) from app.external_refs r join app.invoices i on i.id = r.entity_id "
            "join warehouse.xero_invoices w "
            "on w.connection_id = r.connection_id and w.external_id = r.external_id "
            "where r.entity = 'invoice' and w.status in ('AUTHORISED', 'PAID') "
            "and i.total - i.amount_paid <> round(w.amount_due, 2)"
        )
        == 0
    )


def _sweep(instance, resources, target):
    result = xero.sweep_job.execute_in_process(
        instance=instance,
        resources=resources,
        run_config={"ops": {"xero_sweep": {"config": {"connection_ids": [target.key]}}}},
        raise_on_error=False,
    )
    assert result.success
    return {
        e.materialization.asset_key.to_user_string()
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION" and e.materialization.asset_key.path[0] == "app"
    }


def test_a_sweep_runs_the_billing_merges_only_when_what_they_read_changed(
    books, instance, resources, sandbox
):
    """A sweep (many connections per run) merges only what is due: a payment deleted at Xero revises its
    invoice too, so the merges reading invoices or payments run and re-open it; a contact's phone edited at
    Xero re-runs the clients and contacts merges only (no link changed, so nothing billing is due)."""
    api = Xero(sandbox, books.realm)
    assert _sweep(instance, resources, books) == {
        "app/clients_from_xero",
        "app/contacts_from_xero",
        "app/invoices_from_xero",
        "app/payments_from_xero",
    }
    assert_books_match(books, api)
    payment = _first(
        api.books()["payments"],
        lambda p: p["PaymentType"] == "ACCRECPAYMENT" and p["Invoice"]["AmountDue"] == 0,
    )
    api.call("POST", f"Payments/{payment['PaymentID']}", {"Status": "DELETED"})

    assert _sweep(instance, resources, books) == {
        "app/clients_from_xero",  # it reads the invoices stream too (who is a customer)
        "app/invoices_from_xero",
        "app/payments_from_xero",
    }
    assert_books_match(books, api)
    reopened = _local_invoices(books)[payment["Invoice"]["InvoiceID"]]
    assert reopened.status in ("sent", "partial") and reopened.amount_paid < reopened.total

    before = _versions(books)
    _admin(sandbox, "POST", f"/tenants/{books.realm['tenant_id']}/touch", json={"contacts": 1, "seed": 3})
    # The contacts stream changed: its people are merged again too.
    assert _sweep(instance, resources, books) == {"app/clients_from_xero", "app/contacts_from_xero"}
    assert _sweep(instance, resources, books) == set()  # nothing changed at Xero: no merge is due
    assert _versions(books) == before
