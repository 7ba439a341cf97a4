"""The Stripe assets, materialised for real: the Stripe sandbox over HTTP through the official `stripe` SDK →
warehouse.stripe_* → app.clients and app.payments; webhook events from the sandbox's signed deliveries,
through the API's intake, applied once by `stripe_webhooks_job`."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import dagster as dg
import httpx
import pytest
from sqlalchemy import text

from core_api.db import tenant_session
from pipelines.assets.stripe import APP_PAYMENTS, CHARGES, CUSTOMERS, REFUNDS, stripe
from pipelines.partitions import stripe_connections
from pipelines.resources import FirmsyncDatabase, StripeApi
from pipelines.sensors import webhook_inbox
from pipelines.stripe_webhooks import stripe_webhooks_job
from tests.pipelines.conftest import SyncTarget, add_connection, new_firm
from tests.support.stripe_receiver import StripeWebhookReceiver

DAY = 86_400
STREAMS = ("customers", "charges", "payment_intents", "refunds")


@pytest.fixture(autouse=True)
def _database(database_url):
    return database_url


@pytest.fixture
def resources():
    return {
        "db": FirmsyncDatabase(),
        "stripe": StripeApi(timeout_seconds=5, max_attempts=10, retry_base_delay_seconds=0.2),
    }


def make_stripe_target(sandbox, instance, *, secret: str = "whsec_unused", **spec) -> SyncTarget:
    """A fresh seeded sandbox account (history ending two days ago) connected to a new firm."""
    body = {
        "customers": 8,
        "payments": 20,
        "refund_share": 0.2,
        "seed": 11,
        "anchor": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
        "spread_days": 20,
        **spec,
    }
    account = sandbox.new_stripe_account(**body)
    tenant = new_firm()
    connection_id = add_connection(tenant, sandbox.stripe_connection_body(account, secret))
    target = SyncTarget(tenant=tenant, connection_id=connection_id, realm=account)
    instance.add_dynamic_partitions(stripe_connections.name, [target.key])
    return target


def _materialize(target, instance, resources):
    return dg.materialize(
        [*stripe.assets, *stripe.checks],
        partition_key=target.key,
        instance=instance,
        resources=resources,
        raise_on_error=False,
    )


def _metadata(result, key) -> dict:
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key == key)
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _rows(target, sql: str, **params):
    with tenant_session(target.tenant) as session:
        return session.execute(text(sql), {"c": target.connection_id, **params}).all()


def _admin(sandbox, method: str, path: str, **kwargs):
    response = httpx.request(method, f"{sandbox.stripe}/_sandbox{path}", timeout=30, **kwargs)
    response.raise_for_status()
    return response.json() if response.content else None


def _account(target) -> str:
    return target.realm["account_id"]


def source(sandbox, target, stream: str) -> dict[str, dict]:
    """Every object of a list, read straight from the emulated API (not through our connector)."""
    out: dict[str, dict] = {}
    after = None
    while True:
        params = {"limit": 100} | ({"starting_after": after} if after else {})
        response = httpx.get(
            f"{sandbox.stripe}/v1/{stream}",
            params=params,
            headers={"Authorization": f"Bearer {target.realm['secret_key']}"},
            timeout=30,
        )
        if response.status_code == 429:
            time.sleep(0.5)
            continue
        response.raise_for_status()
        body = response.json()
        out.update({o["id"]: o for o in body["data"]})
        if not body["has_more"]:
            return out
        after = body["data"][-1]["id"]


def warehouse(target, stream: str, *, live: bool = True) -> dict[str, dict]:
    where = " and deleted_at is null" if live else ""
    return dict(
        _rows(
            target, f"select external_id, raw from warehouse.stripe_{stream} where connection_id = :c{where}"
        )
    )


def stats(sandbox, target) -> dict:
    return _admin(sandbox, "GET", f"/accounts/{_account(target)}/stats")


def test_the_first_sync_loads_every_stream_as_stripe_has_it(sandbox, instance, resources):
    target = make_stripe_target(sandbox, instance)
    result = _materialize(target, instance, resources)
    assert result.success
    for stream in STREAMS:
        assert warehouse(target, stream) == source(sandbox, target, stream), stream
    assert _metadata(result, CUSTOMERS)["rows_inserted"] == 8
    # Typed columns: a charge's amounts in major units, exactly.
    charge = next(iter(source(sandbox, target, "charges").values()))
    (row,) = _rows(
        target,
        "select amount, amount_refunded, currency, customer_id, payment_intent_id "
        "from warehouse.stripe_charges where connection_id = :c and external_id = :id",
        id=charge["id"],
    )
    assert row == (
        Decimal(charge["amount"]) / 100,
        Decimal(charge["amount_refunded"]) / 100,
        "USD",
        charge["customer"],
        charge["payment_intent"],
    )
    # Every customer became (or was linked to) a client; every live charge is a payment.
    (clients,) = _rows(
        target, "select count(*) from app.external_refs where connection_id = :c and entity = 'client'"
    )
    assert clients == (8,)
    charges = source(sandbox, target, "charges").values()
    live = [c for c in charges if c["amount_refunded"] < c["amount"]]
    payments = _rows(
        target,
        "select r.external_id, p.amount from app.payments p join app.external_refs r on r.entity_id = p.id "
        "where r.connection_id = :c and r.entity = 'payment' and p.deleted_at is null",
    )
    assert dict(payments) == {c["id"]: Decimal(c["amount"] - c["amount_refunded"]) / 100 for c in live}


def test_a_second_sync_reads_only_what_is_new(sandbox, instance, resources):
    target = make_stripe_target(sandbox, instance)
    assert _materialize(target, instance, resources).success
    account = _account(target)
    new = [
        _admin(
            sandbox,
            "POST",
            f"/accounts/{account}/customers",
            json={"name": f"New {i}", "email": f"n{i}@x.example"},
        )
        for i in range(2)
    ]
    _admin(sandbox, "POST", f"/accounts/{account}/payments", json={"amount": 4200, "customer": new[0]["id"]})
    _admin(sandbox, "DELETE", f"/accounts/{account}/stats")

    result = _materialize(target, instance, resources)
    assert result.success
    assert _metadata(result, CUSTOMERS)["rows_inserted"] == 2
    assert _metadata(result, CHARGES)["rows_inserted"] == 1
    assert _metadata(result, REFUNDS)["rows_inserted"] == 0
    for stream in ("customers", "charges"):
        meta = _metadata(result, dg.AssetKey(["stripe", stream]))
        assert meta["rows_updated"] == 0  # nothing old was written again
    by_path = stats(sandbox, target)["by_path"]
    # One page per list (only the new objects), one walk of the events shared by the four streams.
    for stream in STREAMS:
        assert sum(by_path[f"/v1/{stream}"].values()) == 1, by_path
    assert sum(by_path["/v1/events"].values()) == 1, by_path
    assert warehouse(target, "customers") == source(sandbox, target, "customers")


def test_refunds_and_deleted_customers_arrive_through_the_events_api(sandbox, instance, resources):
    target = make_stripe_target(sandbox, instance, refund_share=0)
    assert _materialize(target, instance, resources).success
    account = _account(target)
    charges = sorted(source(sandbox, target, "charges").values(), key=lambda c: c["created"])
    old = charges[0]  # created well before the cursor: only the events can say it changed
    _admin(sandbox, "POST", f"/accounts/{account}/refunds", json={"charge": old["id"], "amount": 1000})
    gone = sorted(source(sandbox, target, "customers").values(), key=lambda c: c["created"])[0]
    response = httpx.delete(
        f"{sandbox.stripe}/v1/customers/{gone['id']}",
        headers={"Authorization": f"Bearer {target.realm['secret_key']}"},
        timeout=10,
    )
    assert response.status_code == 200 and response.json()["deleted"] is True

    result = _materialize(target, instance, resources)
    assert result.success
    (row,) = _rows(
        target,
        "select amount_refunded, refunded from warehouse.stripe_charges "
        "where connection_id = :c and external_id = :i",
        i=old["id"],
    )
    assert row == (Decimal("10.00"), False)
    assert {r["charge"] for r in warehouse(target, "refunds").values()} == {old["id"]}
    (customer,) = _rows(
        target,
        "select deleted_at is not null, name from warehouse.stripe_customers where connection_id = :c "
        "and external_id = :i",
        i=gone["id"],
    )
    assert customer == (True, gone["name"])  # soft-deleted, last known columns kept
    assert gone["id"] not in warehouse(target, "customers")
    # The app payment of the refunded charge is what is left of it, and says so.
    (payment,) = _rows(
        target,
        "select p.amount, p.notes from app.payments p join app.external_refs r on r.entity_id = p.id "
        "where r.connection_id = :c and r.external_id = :i",
        i=old["id"],
    )
    assert payment[0] == (Decimal(old["amount"]) - 1000) / 100
    assert "refunded 10.00 USD" in payment[1]


def test_an_expired_cursor_falls_back_to_a_full_refresh(sandbox, instance, resources):
    target = make_stripe_target(sandbox, instance, payments=4)
    assert _materialize(target, instance, resources).success
    customer = next(iter(source(sandbox, target, "customers").values()))
    httpx.delete(
        f"{sandbox.stripe}/v1/customers/{customer['id']}",
        headers={"Authorization": f"Bearer {target.realm['secret_key']}"},
        timeout=10,
    ).raise_for_status()
    stale = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    with tenant_session(target.tenant) as session:
        session.execute(
            text("update app.sync_state set cursor = :s where connection_id = :c and stream = any(:streams)"),
            {"s": stale, "c": target.connection_id, "streams": list(STREAMS)},
        )
    result = _materialize(target, instance, resources)
    assert result.success
    meta = _metadata(result, CUSTOMERS)
    assert meta["fell_back_to_full_refresh"] is True
    assert meta["rows_marked_deleted"] == 1  # no longer listed
    assert warehouse(target, "customers") == source(sandbox, target, "customers")
    cursor = _rows(
        target, "select cursor from app.sync_state where connection_id = :c and stream = 'customers'"
    )
    assert datetime.fromisoformat(cursor[0][0]) > datetime.now(UTC) - timedelta(days=2)


def test_a_429_storm_converges_without_a_failed_run(sandbox, instance):
    target = make_stripe_target(sandbox, instance, customers=30, payments=60)
    account = _account(target)
    _admin(sandbox, "PUT", f"/accounts/{account}/limits", json={"read_per_second": 3})
    # A few 429s with Retry-After and 5xx answers on top of the limiter (faults are by account).
    _admin(sandbox, "POST", "/faults", json={"kind": "429", "realm": account, "times": 3, "retry_after": 1})
    _admin(sandbox, "POST", "/faults", json={"kind": "503", "realm": account, "path_contains": "/v1/charges"})
    resources = {
        "db": FirmsyncDatabase(),
        # The client's own bucket assumes Stripe's 25/s test limit: the account's 3/s answers 429s.
        "stripe": StripeApi(timeout_seconds=5, max_attempts=12, retry_base_delay_seconds=0.2, page_size=10),
    }
    result = _materialize(target, instance, resources)
    assert result.success
    assert stats(sandbox, target)["throttled"] > 0
    # Every injected fault was met, and retried past.
    assert not [f for f in _admin(sandbox, "GET", "/faults")["faults"] if f["realm"] == account]
    for stream in STREAMS:
        assert warehouse(target, stream) == source(sandbox, target, stream), stream


# --------------------------------------------------------------------------- payments → invoices


def _client_and_invoice(
    target, *, email: str, number: str, total: str, currency: str
) -> tuple[uuid.UUID, uuid.UUID]:
    client_id, invoice_id = uuid.uuid4(), uuid.uuid4()
    with tenant_session(target.tenant) as session:
        session.execute(
            text("insert into app.clients (id, firm_id, name, email) values (:id, :f, :name, :email)"),
            {"id": client_id, "f": target.tenant.firm_id, "name": f"Client {email}", "email": email},
        )
        session.execute(
            text(
                "insert into app.invoices (id, firm_id, number, client_id, status, currency, issue_date, "
                "due_date, subtotal, tax_total, total, amount_paid, sent_at) "
                "values (:id, :f, :n, :c, 'sent', :cur, current_date, current_date + 30, :t, 0, :t, 0, now())"
            ),
            {
                "id": invoice_id,
                "f": target.tenant.firm_id,
                "n": number,
                "c": client_id,
                "cur": currency,
                "t": total,
            },
        )
    return client_id, invoice_id


def _invoice(target, invoice_id) -> tuple:
    return _rows(target, "select amount_paid, status from app.invoices where id = :i", i=invoice_id)[0]


def test_payments_land_to_the_cent_and_settle_the_invoice_they_name(sandbox, instance, resources):
    target = make_stripe_target(sandbox, instance, customers=0, payments=0)
    account = _account(target)
    usd_client, usd_invoice = _client_and_invoice(
        target, email="ada@lovelace.example", number="INV-2001", total="150.25", currency="USD"
    )
    jpy_client, jpy_invoice = _client_and_invoice(
        target, email="kenji@tokyo.example", number="INV-2002", total="120000", currency="JPY"
    )
    ada = _admin(
        sandbox,
        "POST",
        f"/accounts/{account}/customers",
        json={"name": "Ada", "email": "ADA@lovelace.example"},
    )
    kenji = _admin(
        sandbox,
        "POST",
        f"/accounts/{account}/customers",
        json={"name": "Kenji", "email": "kenji@tokyo.example"},
    )
    usd = _admin(
        sandbox,
        "POST",
        f"/accounts/{account}/payments",
        json={
            "amount": 15025,
            "currency": "usd",
            "customer": ada["id"],
            "metadata": {"invoice_number": "INV-2001"},
        },
    )["charge"]
    _admin(
        sandbox,
        "POST",
        f"/accounts/{account}/payments",
        json={
            "amount": 120000,
            "currency": "jpy",
            "customer": kenji["id"],
            "metadata": {"firmsync_invoice_id": str(jpy_invoice)},
        },
    )
    # A payment naming no invoice stays unallocated.
    _admin(sandbox, "POST", f"/accounts/{account}/payments", json={"amount": 999, "customer": ada["id"]})

    result = _materialize(target, instance, resources)
    assert result.success
    payments = {
        (row[0], row[1]): row[2:]
        for row in _rows(
            target,
            "select p.client_id, p.currency, p.amount, p.amount_allocated, p.method from app.payments p "
            "join app.external_refs r on r.entity_id = p.id "
            "where r.connection_id = :c and p.deleted_at is null",
        )
    }
    assert payments[(jpy_client, "JPY")] == (Decimal("120000.00"), Decimal("120000.00"), "card")
    usd_rows = _rows(
        target,
        "select p.amount, p.amount_allocated from app.payments p "
        "where p.client_id = :cl and p.deleted_at is null order by p.amount",
        cl=usd_client,
    )
    assert usd_rows == [(Decimal("9.99"), Decimal("0.00")), (Decimal("150.25"), Decimal("150.25"))]
    assert _invoice(target, usd_invoice) == (Decimal("150.25"), "paid")
    assert _invoice(target, jpy_invoice) == (Decimal("120000.00"), "paid")
    assert _metadata(result, APP_PAYMENTS)["payments_unmatched"] == 1

    # A partial refund reduces what was paid; the invoice re-opens as partly paid.
    _admin(sandbox, "POST", f"/accounts/{account}/refunds", json={"charge": usd["id"], "amount": 5025})
    assert _materialize(target, instance, resources).success
    assert _invoice(target, usd_invoice) == (Decimal("100.00"), "partial")
    (notes,) = _rows(
        target,
        "select p.notes from app.payments p join app.external_refs r on r.entity_id = p.id "
        "where r.connection_id = :c and r.external_id = :i",
        i=usd["id"],
    )
    assert "refunded 50.25 USD" in notes[0]

    # Refunded in full: no payment left, the invoice owes everything again.
    _admin(sandbox, "POST", f"/accounts/{account}/refunds", json={"charge": usd["id"]})
    assert _materialize(target, instance, resources).success
    assert _invoice(target, usd_invoice) == (Decimal("0.00"), "sent")
    (deleted,) = _rows(
        target,
        "select p.deleted_at is not null from app.payments p join app.external_refs r on r.entity_id = p.id "
        "where r.connection_id = :c and r.external_id = :i",
        i=usd["id"],
    )
    assert deleted == (True,)


# --------------------------------------------------------------------------- webhooks


def _api(settings):
    from fastapi.testclient import TestClient

    from core_api.app import create_app

    return TestClient(create_app(settings))


def _inbox(target) -> list[tuple]:
    return _rows(
        target,
        "select event_id, event_type, status, error from app.webhook_inbox "
        "where connection_id = :c order by seq",
    )


def _apply(target, instance, resources):
    result = stripe_webhooks_job.execute_in_process(
        partition_key=target.key, instance=instance, resources=resources
    )
    assert result.success
    return result.output_for_node("stripe_apply_webhooks")


def test_webhook_events_are_applied_once_even_when_delivered_twice(sandbox, instance, resources, settings):
    secret = "whsec_pipelines_test_secret"
    target = make_stripe_target(sandbox, instance, secret=secret, customers=2, payments=2)
    account = _account(target)
    assert _materialize(target, instance, resources).success
    receiver = StripeWebhookReceiver()
    try:
        _admin(
            sandbox,
            "POST",
            f"/accounts/{account}/webhook_endpoints",
            json={"url": receiver.url, "secret": secret},
        )
        customer = _admin(
            sandbox,
            "POST",
            f"/accounts/{account}/customers",
            json={"name": "Webhook Ltd", "email": "wh@x.example"},
        )
        charge = _admin(
            sandbox,
            "POST",
            f"/accounts/{account}/payments",
            json={"amount": 2550, "customer": customer["id"]},
        )["charge"]
        # customer.created, payment_intent.created, charge.succeeded, payment_intent.succeeded
        receiver.wait_for(lambda deliveries: len(deliveries) >= 4, timeout=20)
    finally:
        receiver.close()

    api = _api(settings)
    path = f"/webhooks/stripe/{target.connection_id}"
    statuses = []
    for delivery in receiver.deliveries * 2:  # every event delivered twice
        headers = {
            "Content-Type": "application/json",
            "Stripe-Signature": delivery.headers["stripe-signature"],
        }
        statuses.append(api.post(path, content=delivery.body, headers=headers).json()["status"])
    assert statuses == ["stored"] * 4 + ["duplicate"] * 4
    # A tampered body is refused and never stored.
    first = receiver.deliveries[0]
    tampered = first.body.replace(b'"livemode": false', b'"livemode": true')
    refused = api.post(
        path,
        content=tampered,
        headers={"Content-Type": "application/json", "Stripe-Signature": first.headers["stripe-signature"]},
    )
    assert refused.status_code == 401
    assert len(_inbox(target)) == 4

    # The sensor asks for the Stripe webhook job, keyed by the newest event.
    context = dg.build_sensor_context(instance=instance, resources={"db": FirmsyncDatabase()})
    runs = [r for r in webhook_inbox(context).run_requests if r.partition_key == target.key]
    assert [r.job_name for r in runs] == ["stripe_webhooks_job"]

    counts = _apply(target, instance, resources)
    assert counts["events_applied"] == 3 and counts["events_ignored"] == 1  # payment_intent.created
    assert {status for _, _, status, _ in _inbox(target)} == {"processed"}
    assert charge["id"] in warehouse(target, "charges") and customer["id"] in warehouse(target, "customers")
    (payment,) = _rows(
        target,
        "select p.amount, p.currency from app.payments p join app.external_refs r on r.entity_id = p.id "
        "where r.connection_id = :c and r.external_id = :i and p.deleted_at is null",
        i=charge["id"],
    )
    assert payment == (Decimal("25.50"), "USD")
    versions = _rows(target, "select id, version from app.payments order by id")

    # Applying again changes nothing: every event is processed, and re-delivery added none.
    again = _apply(target, instance, resources)
    assert again["events_applied"] == 0
    assert _rows(target, "select id, version from app.payments order by id") == versions


def test_a_webhook_event_of_another_account_is_dead_lettered(sandbox, instance, resources):
    target = make_stripe_target(sandbox, instance, customers=1, payments=0)
    event = {
        "id": "evt_1OtherAccount0001",
        "object": "event",
        "account": "acct_1SomeoneElse",
        "type": "charge.succeeded",
        "created": int(time.time()),
        "data": {"object": {"id": "ch_1Other", "object": "charge"}},
    }
    _store(target, event)
    counts = _apply(target, instance, resources)
    assert counts["events_dead_lettered"] == 1
    ((status, error),) = [(s, e) for _, _, s, e in _inbox(target)]
    assert status == "failed" and "acct_1SomeoneElse" in error
    letters = _rows(
        target,
        "select stream, external_id, status from app.dead_letters where connection_id = :c",
    )
    assert letters == [("webhook_events", event["id"], "open")]
    assert warehouse(target, "charges") == {}


def test_stripe_is_declared_like_the_other_vendors():
    from pipelines.definitions import defs

    jobs = {job.name for job in defs.resolve_all_job_defs()}
    assert {"stripe_sync_job", "stripe_sweep_job", "stripe_webhooks_job"} <= jobs
    sync = defs.get_assets_def(CUSTOMERS)
    assert {key.path[1] for key in sync.keys} == set(STREAMS)
    assert sync.partitions_def == stripe_connections and sync.op.pool == "stripe"
    payments = defs.get_assets_def(APP_PAYMENTS)
    assert dg.AssetKey(["app", "clients_from_stripe"]) in set(payments.asset_deps[payments.key])
    assert "stripe_sweep" in {s.name for s in defs.get_repository_def().schedule_defs}
    assert isinstance((defs.resources or {})["stripe"], StripeApi)


def test_the_demo_firm_is_connected_to_the_sandbox_demo_stripe_account(
    sandbox, instance, resources, settings
):
    """`make run`'s demo firm syncs the sandbox's demo Stripe account (seeded from fixed settings)."""
    from core_api.demo import DEMO_STRIPE_ACCOUNT, seed_demo
    from core_api.tenancy import Role, issue_tenant_context

    firm_id = seed_demo(settings, sandbox_url=sandbox.url)
    assert seed_demo(settings, sandbox_url=sandbox.url) == firm_id  # idempotent
    tenant = issue_tenant_context(firm_id, Role.firm_admin)
    with tenant_session(tenant) as session:
        [(connection_id, account_id)] = session.execute(
            text("select id, account_id from app.connections where provider = 'stripe'")
        ).all()
    assert account_id == DEMO_STRIPE_ACCOUNT
    key = str(connection_id)
    instance.add_dynamic_partitions(stripe_connections.name, [key])
    result = dg.materialize(stripe.assets, partition_key=key, instance=instance, resources=resources)
    assert result.success
    demo = _admin(sandbox, "GET", f"/accounts/{DEMO_STRIPE_ACCOUNT}")
    assert _metadata(result, CUSTOMERS)["dagster/row_count"] == demo["counts"]["customers"]
    assert _metadata(result, CHARGES)["dagster/row_count"] == demo["counts"]["charges"]
    with tenant_session(tenant) as session:
        payments = session.execute(
            text(
                "select count(*) from app.payments p join app.external_refs r on r.entity_id = p.id "
                "where r.connection_id = :c and p.deleted_at is null"
            ),
            {"c": connection_id},
        ).scalar_one()
    assert payments > 0


def _deliver_all(api, target, deliveries) -> list[str]:
    path = f"/webhooks/stripe/{target.connection_id}"
    return [
        api.post(
            path,
            content=d.body,
            headers={"Content-Type": "application/json", "Stripe-Signature": d.headers["stripe-signature"]},
        ).json()["status"]
        for d in deliveries
    ]


def test_refunds_deletions_and_paid_invoices_arrive_by_webhook(sandbox, instance, resources, settings):
    secret = "whsec_pipelines_test_refunds"
    target = make_stripe_target(sandbox, instance, secret=secret, customers=3, payments=0)
    account = _account(target)
    customers = sorted(source(sandbox, target, "customers"))
    charge = _admin(
        sandbox, "POST", f"/accounts/{account}/payments", json={"amount": 10000, "customer": customers[0]}
    )["charge"]
    assert _materialize(target, instance, resources).success
    receiver = StripeWebhookReceiver()
    try:
        _admin(
            sandbox,
            "POST",
            f"/accounts/{account}/webhook_endpoints",
            json={"url": receiver.url, "secret": secret},
        )
        _admin(sandbox, "POST", f"/accounts/{account}/refunds", json={"charge": charge["id"], "amount": 2500})
        httpx.delete(
            f"{sandbox.stripe}/v1/customers/{customers[1]}",
            headers={"Authorization": f"Bearer {target.realm['secret_key']}"},
            timeout=10,
        ).raise_for_status()
        _admin(
            sandbox,
            "POST",
            f"/accounts/{account}/invoices/paid",
            json={"customer": customers[2], "amount": 5000, "currency": "usd"},
        )
        # charge.refunded, refund.created, customer.deleted, invoice.paid, invoice.payment_succeeded
        receiver.wait_for(lambda deliveries: len(deliveries) >= 5, timeout=20)
    finally:
        receiver.close()
    api = _api(settings)
    assert _deliver_all(api, target, receiver.deliveries) == ["stored"] * 5
    counts = _apply(target, instance, resources)
    assert counts["events_applied"] == 4 and counts["events_ignored"] == 1  # invoice.paid
    (row,) = _rows(
        target,
        "select amount_refunded from warehouse.stripe_charges where connection_id = :c and external_id = :i",
        i=charge["id"],
    )
    assert row == (Decimal("25.00"),)
    assert len(warehouse(target, "refunds")) == 1
    (deleted,) = _rows(
        target,
        "select deleted_at is not null from warehouse.stripe_customers where connection_id = :c "
        "and external_id = :i",
        i=customers[1],
    )
    assert deleted == (True,)
    (payment,) = _rows(
        target,
        "select p.amount from app.payments p join app.external_refs r on r.entity_id = p.id "
        "where r.connection_id = :c and r.external_id = :i",
        i=charge["id"],
    )
    assert payment == (Decimal("75.00"),)
    # A redelivery of all of them is stored as duplicates and changes nothing.
    assert _deliver_all(api, target, receiver.deliveries) == ["duplicate"] * 5
    assert _apply(target, instance, resources)["events_applied"] == 0


def test_a_time_range_backfill_rereads_objects_created_since_its_start(sandbox, instance, resources):
    target = make_stripe_target(sandbox, instance, payments=10)
    assert _materialize(target, instance, resources).success
    cursors = _rows(target, "select stream, cursor from app.sync_state where connection_id = :c order by 1")
    start = datetime.now(UTC) - timedelta(days=12)
    result = dg.materialize(
        stripe.assets,
        partition_key=target.key,
        instance=instance,
        resources=resources,
        run_config={"ops": {"stripe_sync": {"config": {"start": start.isoformat()}}}},
    )
    assert result.success
    recent = [c for c in source(sandbox, target, "charges").values() if c["created"] >= start.timestamp()]
    meta = _metadata(result, CHARGES)
    assert meta["rows_unchanged"] + meta["rows_updated"] == len(recent) > 0
    after = _rows(target, "select stream, cursor from app.sync_state where connection_id = :c order by 1")
    assert [r for r in after if r[0] in STREAMS] == [r for r in cursors if r[0] in STREAMS]


def test_two_runs_applying_the_same_events_at_once_apply_each_once(sandbox, instance, resources):
    from concurrent.futures import ThreadPoolExecutor

    from pipelines.stripe_webhooks import apply_pending_events

    target = make_stripe_target(sandbox, instance, customers=1, payments=0)
    account = _account(target)
    (customer,) = source(sandbox, target, "customers")
    _admin(sandbox, "POST", f"/accounts/{account}/payments", json={"amount": 1234, "customer": customer})
    events = httpx.get(
        f"{sandbox.stripe}/v1/events",
        params={"limit": 10},
        headers={"Authorization": f"Bearer {target.realm['secret_key']}"},
        timeout=10,
    ).json()["data"]
    for event in events:  # what the intake would have stored
        _store(target, event)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(
            pool.map(
                lambda _: apply_pending_events(FirmsyncDatabase(), resources["stripe"], target.connection_id),
                range(2),
            )
        )
    applied = sum(r["events_applied"] for r in runs)
    handled = sum(r["events_applied"] + r["events_ignored"] for r in runs)
    assert handled == len(events) and applied == len(events) - 1  # payment_intent.created is ignored
    payments = _rows(
        target,
        "select p.amount, p.version from app.payments p join app.external_refs r on r.entity_id = p.id "
        "where r.connection_id = :c",
    )
    assert payments == [(Decimal("12.34"), 1)]


def _store(target, event: dict) -> None:
    """An inbox row as the intake stores a verified event."""
    with tenant_session(target.tenant) as session:
        session.execute(
            text(
                "insert into app.webhook_inbox (id, firm_id, connection_id, provider, event_id, "
                "event_type, payload) values (gen_random_uuid(), :f, :c, 'stripe', :e, :t, cast(:p as jsonb))"
            ),
            {
                "f": target.tenant.firm_id,
                "c": target.connection_id,
                "e": event["id"],
                "t": event["type"],
                "p": json.dumps(event),
            },
        )


def test_a_sweep_syncs_many_stripe_connections_in_one_run(sandbox, instance, resources):
    targets = [make_stripe_target(sandbox, instance, customers=3, payments=5, seed=s) for s in (1, 2)]
    result = stripe.sweep_job.execute_in_process(
        instance=instance,
        resources=resources,
        run_config={"ops": {"stripe_sweep": {"config": {"connection_ids": [t.key for t in targets]}}}},
    )
    assert result.success
    for target in targets:
        for stream in STREAMS:
            assert warehouse(target, stream) == source(sandbox, target, stream), stream
        (payments,) = _rows(
            target,
            "select count(*) from app.payments p join app.external_refs r on r.entity_id = p.id "
            "where r.connection_id = :c and p.deleted_at is null",
        )
        charges = source(sandbox, target, "charges").values()
        assert payments == (sum(1 for c in charges if c["amount_refunded"] < c["amount"]),)


def test_one_webhook_run_applies_every_pending_event_batch_by_batch(
    sandbox, instance, resources, monkeypatch
):
    import pipelines.stripe_webhooks as webhooks

    monkeypatch.setattr(webhooks, "BATCH", 2)
    target = make_stripe_target(sandbox, instance, customers=5, payments=0)
    events = httpx.get(
        f"{sandbox.stripe}/v1/events",
        params={"limit": 10},
        headers={"Authorization": f"Bearer {target.realm['secret_key']}"},
        timeout=10,
    ).json()["data"]
    assert len(events) == 5
    for event in events:
        _store(target, event)
    counts = _apply(target, instance, resources)
    assert counts["events_read"] == 5 and counts["events_applied"] == 5
    assert len(warehouse(target, "customers")) == 5
    assert {status for _, _, status, _ in _inbox(target)} == {"processed"}
