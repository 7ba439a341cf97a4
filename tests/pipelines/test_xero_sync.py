"""The Xero assets, materialised for real: the Xero sandbox over HTTP → warehouse.xero_* → app.clients."""

from __future__ import annotations

import json
from decimal import Decimal

import dagster as dg
import httpx
import pytest
from sqlalchemy import text

from connectors.xero.config import XeroCredentials
from core_api.connections.secrets import open_credentials, seal_credentials
from core_api.db import tenant_session
from core_api.models import Connection
from pipelines.assets.quickbooks import quickbooks
from pipelines.assets.xero import APP_CLIENTS, APP_CONTACTS, STREAM_KEYS, XERO, xero
from pipelines.partitions import quickbooks_connections, xero_connections
from pipelines.resources import FirmsyncDatabase, XeroApi
from pipelines.sensors import webhook_inbox
from pipelines.sync_engine import sync_connection
from tests.pipelines.conftest import make_xero_target

# Small books: every collection fits one page, so a sync is a handful of calls under Xero's 60/minute.
BOOK = {"contacts": 30, "invoices": 50, "credit_notes": 4, "seed": 11}
COLLECTIONS = {
    "contacts": ("Contacts", "ContactID", {"includeArchived": "true"}),
    "invoices": ("Invoices", "InvoiceID", {}),
    "payments": ("Payments", "PaymentID", {}),
    "credit_notes": ("CreditNotes", "CreditNoteID", {}),
    "items": ("Items", "ItemID", None),  # None: unpaged
    "accounts": ("Accounts", "AccountID", None),
}


@pytest.fixture
def target(database_url, sandbox, instance):
    target = make_xero_target(sandbox, **BOOK)
    instance.add_dynamic_partitions(xero_connections.name, [target.key])
    return target


def _materialize(target, instance, resources, assets=xero.assets):
    return dg.materialize(
        assets, partition_key=target.key, instance=instance, resources=resources, raise_on_error=False
    )


def _metadata(result, key) -> dict:
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key == key)
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _rows(target, sql: str, **params):
    with tenant_session(target.tenant) as session:
        return session.execute(text(sql), {"c": target.connection_id, **params}).all()


def _admin(sandbox, method: str, path: str, **kwargs):
    response = httpx.request(method, f"{sandbox.xero}/_sandbox{path}", timeout=10, **kwargs)
    response.raise_for_status()
    return response.json() if response.content else None


def source(sandbox, organisation: dict) -> dict[str, dict[str, dict]]:
    """Every record of every collection, read straight from the emulated Xero API (not our connector),
    with a consent of its own."""
    tenant_id = organisation["tenant_id"]
    token = _admin(sandbox, "POST", f"/tenants/{tenant_id}/grant", json={})["access_token"]
    headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": tenant_id, "Accept": "application/json"}
    out: dict[str, dict[str, dict]] = {}
    for stream, (collection, id_field, params) in COLLECTIONS.items():
        records, page = {}, 1
        while True:
            query = None if params is None else {**params, "page": page}
            response = httpx.get(
                f"{sandbox.xero}/api.xro/2.0/{collection}", params=query, headers=headers, timeout=10
            )
            response.raise_for_status()
            batch = json.loads(response.text, parse_float=Decimal)[collection]
            records.update({r[id_field]: r for r in batch})
            if params is None or len(batch) < 100:
                break
            page += 1
        out[stream] = records
    return out


def warehouse(target) -> dict[str, dict[str, dict]]:
    return {
        stream: {
            external_id: json.loads(json.dumps(raw), parse_float=Decimal)
            for external_id, raw in _rows(
                target, f"select external_id, raw from warehouse.xero_{stream} where connection_id = :c"
            )
        }
        for stream in COLLECTIONS
    }


def assert_equal_to_source(target, sandbox):
    expected, synced = source(sandbox, target.realm), warehouse(target)
    for stream in COLLECTIONS:
        assert synced[stream].keys() == expected[stream].keys(), stream
        assert synced[stream] == expected[stream], stream  # content, not just keys
    lines = {
        (invoice_id, n, line.get("LineItemID"), Decimal(str(line["LineAmount"])))
        for invoice_id, invoice in expected["invoices"].items()
        for n, line in enumerate(invoice.get("LineItems") or [], start=1)
    }
    assert lines and lines == set(
        _rows(
            target,
            "select invoice_id, line_number, line_item_id, line_amount "
            "from warehouse.xero_invoice_lines where connection_id = :c",
        )
    )
    return expected


def customers(expected) -> set[str]:
    """Contacts that are the firm's clients: IsCustomer, or named on a sales invoice."""
    sold_to = {i["Contact"]["ContactID"] for i in expected["invoices"].values() if i["Type"] == "ACCREC"}
    return {k for k, c in expected["contacts"].items() if c.get("IsCustomer") or k in sold_to}


def test_every_stream_lands_equal_to_xero_and_customers_become_clients(target, instance, resources, sandbox):
    # A client the firm already has, with the e-mail of a Xero customer: linked, never duplicated.
    before = source(sandbox, target.realm)
    known = next(c for k, c in before["contacts"].items() if k in customers(before) and c.get("EmailAddress"))
    with tenant_session(target.tenant) as session:
        session.execute(
            text("insert into app.clients (id, firm_id, name, email) values (gen_random_uuid(), :f, :n, :e)"),
            {"f": target.tenant.firm_id, "n": "Known before Xero", "e": known["EmailAddress"].upper()},
        )

    result = _materialize(target, instance, resources, assets=[*xero.assets, *xero.checks])
    assert result.success
    expected = assert_equal_to_source(target, sandbox)
    checks = result.get_asset_check_evaluations()
    assert len(checks) == 6 * 3 + 4 and all(c.passed for c in checks), [c for c in checks if not c.passed]
    counts = {
        c.asset_key.path[1]: c.metadata["source_count"].value
        for c in checks
        if c.check_name == "row_count_matches_source"
    }
    assert counts == {s: len(expected[s]) for s in ("contacts", "invoices", "payments", "credit_notes")}
    for stream, key in STREAM_KEYS.items():
        meta = _metadata(result, key)
        assert meta["rows_inserted"] == len(expected[stream]) > 0, stream
        assert meta["dagster/row_count"] == len(expected[stream])

    clients = _metadata(result, APP_CLIENTS)
    wanted = customers(expected)
    assert clients["clients_matched"] == 1 and clients["clients_created"] == len(wanted) - 1
    assert clients["clients_linked"] == len(wanted) < len(expected["contacts"])  # suppliers stay out
    assert {
        r[0]
        for r in _rows(
            target,
            "select external_id from app.external_refs where connection_id = :c and entity = 'client'",
        )
    } == (wanted)
    [(name, refs)] = _rows(
        target,
        "select c.name, count(r.id) from app.clients c join app.external_refs r on r.entity_id = c.id "
        "where lower(c.email) = lower(:e) group by c.id",
        e=known["EmailAddress"],
    )
    assert refs == 1 and name == known["Name"]  # the vendor's values now, on the firm's one client
    assert _rows(target, "select count(*) from app.clients")[0][0] == len(wanted)
    with tenant_session(target.tenant) as session:
        connection = session.get(Connection, target.connection_id)
        assert connection.last_sync_status == "succeeded"
        # Xero rotated the refresh token at the first call: the new one was persisted.
        assert open_credentials(connection)["refresh_token"] != target.realm["refresh_token"]


def test_incremental_sync_reads_only_the_changes(target, instance, resources, sandbox):
    assert _materialize(target, instance, resources).success
    tenant_id = target.realm["tenant_id"]
    touched = _admin(
        sandbox, "POST", f"/tenants/{tenant_id}/touch", json={"contacts": 3, "invoices": 4, "seed": 2}
    )
    _admin(sandbox, "DELETE", f"/tenants/{tenant_id}/stats")

    result = _materialize(target, instance, resources)
    assert result.success
    changed = {"contacts": 3, "invoices": 4}
    for stream, key in STREAM_KEYS.items():
        meta = _metadata(result, key)
        assert meta["rows_inserted"] == 0, stream
        assert meta["rows_updated"] == changed.get(stream, 0), stream
    # One request per collection: the If-Modified-Since window held only the edits.
    calls = _admin(sandbox, "GET", f"/tenants/{tenant_id}/stats")["by_path"]
    data_calls = {p: n for p, n in calls.items() if "/api.xro/" in p}
    assert len(data_calls) == 6 and all(sum(n.values()) == 1 for n in data_calls.values()), data_calls
    expected = assert_equal_to_source(target, sandbox)
    phones = dict(
        _rows(
            target,
            "select r.external_id, c.phone from app.clients c join app.external_refs r on r.entity_id = c.id "
            "where r.connection_id = :c and r.external_id = any(:ids)",
            ids=touched["contacts"],
        )
    )
    synced_phones = dict(
        _rows(target, "select external_id, phone from warehouse.xero_contacts where connection_id = :c")
    )
    assert phones and all(phones[k] == synced_phones[k] for k in phones)  # edits reached the clients
    assert set(phones) == set(touched["contacts"]) & customers(expected)


def test_a_pending_local_edit_is_not_undone_by_a_pull(target, instance, resources):
    assert _materialize(target, instance, resources).success
    [(client_id, vendor_name)] = _rows(
        target,
        "select c.id, c.name from app.clients c join app.external_refs r on r.entity_id = c.id "
        "where r.connection_id = :c order by c.name limit 1",
    )
    with tenant_session(target.tenant) as session:  # the firm renames it; the push is pending (ADR 0009)
        session.execute(text("update app.clients set name = 'Renamed here' where id = :i"), {"i": client_id})
        session.execute(
            text(
                "insert into app.outbox (id, firm_id, entity, entity_id, operation, payload) "
                "values (gen_random_uuid(), :f, 'client', :i, 'updated', '{}')"
            ),
            {"f": target.tenant.firm_id, "i": client_id},
        )
    held = _materialize(target, instance, resources)
    assert _metadata(held, APP_CLIENTS)["clients_held_for_push"] == 1
    assert _rows(target, "select name from app.clients where id = :i", i=client_id)[0][0] == "Renamed here"

    with tenant_session(target.tenant) as session:  # pushed (or dropped): the vendor's copy applies again
        session.execute(text("update app.outbox set status = 'done' where entity_id = :i"), {"i": client_id})
    released = _materialize(target, instance, resources)
    assert _metadata(released, APP_CLIENTS)["clients_updated"] == 1
    assert _rows(target, "select name from app.clients where id = :i", i=client_id)[0][0] == vendor_name


def test_a_storm_of_429s_still_converges_without_a_failed_run(target, instance, resources, sandbox):
    tenant_id = target.realm["tenant_id"]
    # Xero's minute limit, time-scaled to two calls per (one-second) minute, and random 429s on top (the
    # client paces itself on X-MinLimit-Remaining, so most 429s here are the injected ones).
    _admin(sandbox, "PUT", f"/tenants/{tenant_id}/limits", json={"minute_limit": 2, "time_scale": 60})
    fault = {
        "kind": "429",
        "realm": tenant_id,
        "times": 1000,
        "probability": 0.3,
        "seed": 4,
        "retry_after": 0,
    }
    _admin(sandbox, "POST", "/faults", json=fault)
    try:
        result = _materialize(target, instance, resources)
        stats = _admin(sandbox, "GET", f"/tenants/{tenant_id}/stats")
    finally:
        _admin(sandbox, "DELETE", "/faults")
        _admin(sandbox, "PUT", f"/tenants/{tenant_id}/limits", json={"minute_limit": 60, "time_scale": 1})
    assert result.success
    failures = [e for e in result.all_events if e.event_type_value in ("STEP_FAILURE", "STEP_UP_FOR_RETRY")]
    assert failures == []  # the client waited out every Retry-After: no step retry, no failed run
    assert stats["by_status"].get("429", 0) >= 3, stats
    assert_equal_to_source(target, sandbox)


class Killed(BaseException):
    """The process dying (not an error anything may catch and handle)."""


class CrashAfterRefresh(XeroApi):
    """The process dies right after Xero rotated the refresh token, before it was saved."""

    def client(self, config: dict, credentials: dict, on_tokens):
        def die(tokens):
            raise Killed("killed between refresh and save")

        return super().client(config, credentials, die)


def test_a_rotated_refresh_token_survives_a_crash_between_refresh_and_save(target, instance, resources):
    def stored_refresh_token() -> str:
        with tenant_session(target.tenant) as session:
            return open_credentials(session.get(Connection, target.connection_id))["refresh_token"]

    with pytest.raises(Killed):
        sync_connection(FirmsyncDatabase(), XERO, CrashAfterRefresh(max_attempts=1), target.connection_id)
    # Nothing was saved: the connection still holds the refresh token Xero has just rotated away …
    assert stored_refresh_token() == target.realm["refresh_token"]
    # … which Xero accepts again within its grace period; the next run refreshes, saves, and syncs.
    recovered = _materialize(target, instance, resources)
    assert recovered.success
    rotated = stored_refresh_token()
    assert rotated != target.realm["refresh_token"]
    assert _metadata(recovered, STREAM_KEYS["contacts"])["token_refreshes"] == 1
    # The saved token is the live one: a run that must refresh again (access token dropped) works too.
    with tenant_session(target.tenant) as session:
        connection = session.get(Connection, target.connection_id)
        creds = XeroCredentials.model_validate(open_credentials(connection))
        seal_credentials(connection, creds.model_copy(update={"access_token": None, "expires_at": None}))
    again = _materialize(target, instance, resources)
    assert again.success and stored_refresh_token() not in (rotated, target.realm["refresh_token"])


def test_the_same_client_in_quickbooks_and_xero_is_one_client_with_two_refs(
    database_url, sandbox, instance, resources, settings
):
    """The demo firm's books: the first 20 Xero demo contacts are the first 20 active QuickBooks demo
    customers. Xero syncs first here, so QuickBooks' merge is the one that must link."""
    from core_api.demo import seed_demo
    from core_api.tenancy import Role, issue_tenant_context

    firm_id = seed_demo(settings, sandbox_url=sandbox.url)
    assert seed_demo(settings, sandbox_url=sandbox.url) == firm_id  # idempotent
    tenant = issue_tenant_context(firm_id, Role.firm_admin)
    with tenant_session(tenant) as session:
        connections = dict(session.execute(text("select provider, id from app.connections")).all())
    # (other modules' demo tests may have connected more of the demo firm's vendors in this database)
    assert {"quickbooks", "xero", "google_calendar"} <= set(connections)
    qbo_key, xero_key = str(connections["quickbooks"]), str(connections["xero"])
    instance.add_dynamic_partitions(xero_connections.name, [xero_key])
    instance.add_dynamic_partitions(quickbooks_connections.name, [qbo_key])
    for assets, key in ((xero.assets, xero_key), (quickbooks.assets, qbo_key)):
        result = dg.materialize(assets, partition_key=key, instance=instance, resources=resources)
        assert result.success

    with tenant_session(tenant) as session:
        both = session.execute(
            text(
                "select c.email from app.clients c join app.external_refs r "
                "on r.entity_id = c.id and r.entity = 'client' and r.provider in ('quickbooks', 'xero') "
                "group by c.id having count(distinct r.provider) = 2"
            )
        ).scalars()
        shared = session.execute(
            text(
                "select lower(q.email) from warehouse.quickbooks_customers q "
                "join warehouse.xero_contacts x on lower(x.email) = lower(q.email) "
                "join app.external_refs r "
                "on r.connection_id = x.connection_id and r.external_id = x.external_id"
            )
        ).scalars()
        duplicated = session.execute(
            text(
                "select lower(email) from app.clients where email is not null group by 1 having count(*) > 1"
            )
        ).all()
        refs = dict(
            session.execute(
                text("select provider, count(*) from app.external_refs where entity = 'client' group by 1")
            ).all()
        )
        # (the demo firm's other vendors — Stripe, Salesforce — may have added clients of their own)
        clients = session.execute(
            text(
                "select count(distinct entity_id) from app.external_refs "
                "where entity = 'client' and provider in ('quickbooks', 'xero')"
            )
        ).scalar_one()
    shared_emails = set(shared)
    assert len(shared_emails) >= 15  # most of the 20 shared parties are Xero customers
    assert {e.lower() for e in both} == shared_emails
    assert duplicated == []
    assert clients == refs["quickbooks"] + refs["xero"] - len(shared_emails)


def test_a_xero_webhook_launches_an_incremental_sync_of_its_connection(target, instance, settings):
    """Xero's delivery, signed as Xero signs it, through the real intake (the app-level URL, routed by
    `tenantId`) → app.webhook_inbox → the `webhook_inbox` sensor → a run of this connection's partition."""
    from fastapi.testclient import TestClient

    from connectors.webhooks.base import hmac_base64
    from core_api.app import create_app

    tenant_id = target.realm["tenant_id"]
    event = {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Contacts/{tenant_id}",
        "resourceId": tenant_id,
        "eventDateUtc": "2026-12-02T07:00:00.000",
        "eventType": "UPDATE",
        "eventCategory": "CONTACT",
        "tenantId": tenant_id,
        "tenantType": "ORGANISATION",
    }
    body = json.dumps(
        {"events": [event], "firstEventSequence": 7, "lastEventSequence": 7, "entropy": "QWERTYUIOP"}
    ).encode()
    with TestClient(create_app(settings)) as api:
        forged = api.post("/webhooks/xero", content=body, headers={"x-xero-signature": "AAAA"})
        delivered = api.post(
            "/webhooks/xero",
            content=body,
            headers={"x-xero-signature": hmac_base64("whk", body), "content-type": "application/json"},
        )
    assert forged.status_code == 401
    assert delivered.status_code == 200 and delivered.content == b""  # Xero wants an empty 200

    result = webhook_inbox(dg.build_sensor_context(instance=instance, resources={"db": FirmsyncDatabase()}))
    [run] = [r for r in result.run_requests if r.partition_key == target.key]
    assert run.job_name == "xero_sync_job" and run.tags["firmsync/trigger"] == "webhook"


def test_each_customers_person_becomes_one_contact_of_its_client(target, instance, resources, sandbox):
    before = source(sandbox, target.realm)
    wanted = customers(before)
    people = {
        k: c
        for k, c in before["contacts"].items()
        if k in wanted and (c.get("FirstName") or c.get("LastName"))
    }
    assert people
    first = _materialize(target, instance, resources)
    assert first.success
    assert _metadata(first, APP_CONTACTS)["contacts_created"] == len(people)
    rows = _rows(
        target,
        "select r.external_id, k.first_name, k.last_name, k.email, cr.external_id "
        "from app.contacts k join app.external_refs r on r.entity_id = k.id and r.entity = 'contact' "
        "join app.external_refs cr on cr.entity_id = k.client_id and cr.entity = 'client' "
        "where r.connection_id = :c and cr.connection_id = :c",
    )
    assert {row[0]: tuple(row[1:]) for row in rows} == {
        f"{k}:primary": (c.get("FirstName") or "", c.get("LastName") or "", c.get("EmailAddress") or None, k)
        for k, c in people.items()
    }
    # Nothing changed at Xero: the second run writes no contact.
    again = _materialize(target, instance, resources)
    assert _metadata(again, APP_CONTACTS) == {
        "contacts_created": 0,
        "contacts_updated": 0,
        "contacts_matched": 0,
    }
