"""Push from the outbox to QuickBooks and Xero, for real: API writes → outbox → push → the sandboxes over
HTTP through the official SDKs (python-quickbooks, xero-python) → external refs, warehouse, conflicts."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import dagster as dg
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from core_api.db import app_engine, owner_engine, tenant_session
from core_api.tenancy import Role, issue_tenant_context
from pipelines import push as push_module
from pipelines.push import STREAM, push_connection
from pipelines.push_jobs import PUSH_JOBS, outbox_push
from pipelines.resources import FirmsyncDatabase, QuickBooksApi, XeroApi
from tests.factories import PASSWORD, create_firm_user

pytestmark = pytest.mark.timeout(120)

XERO_APP = ("firmsync-xero-sandbox-client", "firmsync-xero-sandbox-secret")


@dataclass
class World:
    """One firm with a QuickBooks company and a Xero organisation connected, and the API to edit it."""

    api: TestClient
    headers: dict[str, str]
    tenant: Any
    sandbox: Any
    realm: dict
    qbo_token: str
    xero: dict
    qbo_id: uuid.UUID
    xero_id: uuid.UUID
    item_id: str

    # ---- the API
    def call(self, method: str, path: str, expect: int = 200, **kwargs) -> dict:
        response = self.api.request(method, f"/api/v1{path}", headers=self.headers, **kwargs)
        assert response.status_code == expect, response.text
        return response.json() if response.content else {}

    def new_client(self, name: str, **fields) -> dict:
        return self.call("POST", "/clients", 201, json={"name": name, **fields})

    def new_invoice(self, client_id: str, *, tax_rate: str | None = None, send: bool = True) -> dict:
        line = {"description": "Monthly bookkeeping", "quantity": "2", "unit_price": "450.00"}
        if tax_rate is not None:
            line["tax_rate"] = tax_rate
        invoice = self.call("POST", "/invoices", 201, json={"client_id": client_id, "lines": [line]})
        return self.call("POST", f"/invoices/{invoice['id']}/send") if send else invoice

    # ---- the push
    def push(self, connection_id: uuid.UUID, resources=None):
        factory = (resources or RESOURCES)["quickbooks" if connection_id == self.qbo_id else "xero"]
        return push_connection(FirmsyncDatabase(), factory, connection_id)

    def push_both(self):
        return self.push(self.qbo_id), self.push(self.xero_id)

    def sql(self, statement: str, **params):
        with tenant_session(self.tenant) as session:
            return session.execute(text(statement), params).all()

    def ref(self, connection_id: uuid.UUID, entity: str, entity_id: str) -> str | None:
        rows = self.sql(
            "select external_id from app.external_refs where connection_id = :c and entity = :e "
            "and entity_id = :i",
            c=connection_id,
            e=entity,
            i=entity_id,
        )
        return rows[0][0] if rows else None

    # ---- QuickBooks, read back directly
    def qbo(self, resource: str, entity_id: str) -> dict:
        base = f"{self.sandbox.quickbooks}/v3/company/{self.realm['realm_id']}"
        response = httpx.get(
            f"{base}/{resource}/{entity_id}",
            headers={"Authorization": f"Bearer {self.qbo_token}", "Accept": "application/json"},
        )
        assert response.status_code == 200, response.text
        return next(iter(response.json().values()))

    def qbo_query(self, statement: str) -> list[dict]:
        base = f"{self.sandbox.quickbooks}/v3/company/{self.realm['realm_id']}"
        response = httpx.get(
            f"{base}/query",
            params={"query": statement},
            headers={"Authorization": f"Bearer {self.qbo_token}", "Accept": "application/json"},
        )
        assert response.status_code == 200, response.text
        answer = response.json()["QueryResponse"]
        return next((v for v in answer.values() if isinstance(v, list)), [])

    def qbo_edit(self, entity: str, entity_id: str, changes: dict) -> None:
        response = httpx.post(
            f"{self.sandbox.quickbooks}/_sandbox/realms/{self.realm['realm_id']}/entities/{entity}/{entity_id}/edit",
            json={"changes": changes},
        )
        assert response.status_code == 200, response.text

    # ---- Xero, read back directly
    def xero_api(self, method: str, path: str, **kwargs) -> dict:
        response = httpx.request(
            method,
            f"{self.sandbox.url}/xero/api.xro/2.0/{path}",
            headers={
                "Authorization": f"Bearer {self.xero['access_token']}",
                "xero-tenant-id": self.xero["tenant_id"],
                "Accept": "application/json",
            },
            **kwargs,
        )
        assert response.status_code == 200, response.text
        return response.json()


RESOURCES = {
    "db": FirmsyncDatabase(),
    "quickbooks": QuickBooksApi(timeout_seconds=5, max_attempts=3),
    "xero": XeroApi(timeout_seconds=5, max_attempts=3),
}


def _login(api: TestClient, email: str) -> dict[str, str]:
    response = api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _xero_body(sandbox, grant: dict) -> dict:
    x = f"{sandbox.url}/xero"
    return {
        "provider": "xero",
        "config": {
            "tenant_id": grant["tenant_id"],
            "client_id": grant.get("client_id") or XERO_APP[0],
            "accounting_url": f"{x}/api.xro/2.0",
            "connections_url": f"{x}/connections",
            "authorize_url": f"{x}/identity/connect/authorize",
            "token_url": f"{x}/identity/connect/token",
            "revocation_url": f"{x}/identity/connect/revocation",
        },
        "credentials": {
            "client_secret": grant.get("client_secret") or XERO_APP[1],
            "refresh_token": grant["refresh_token"],
        },
    }


@pytest.fixture
def world(database_url, settings, sandbox) -> World:
    from core_api.app import create_app

    with app_engine().connect() as conn:
        user = create_firm_user(conn, name="Push Test LLP")
        conn.commit()
    realm = sandbox.new_realm(customers=0, seed=3)
    grant = httpx.post(
        f"{sandbox.url}/xero/_sandbox/tenants",
        json={"seed": 7, "contacts": 0, "items": 0, "invoices": 0, "credit_notes": 0},
    )
    assert grant.status_code == 201, grant.text
    xero = grant.json()
    # The access tokens of the grants are for the test's own reads; the connections refresh their own.
    qbo_token = httpx.post(f"{sandbox.quickbooks}/_sandbox/realms/{realm['realm_id']}/grant").json()
    xero_read = httpx.post(f"{sandbox.url}/xero/_sandbox/tenants/{xero['tenant_id']}/grant").json()
    with TestClient(create_app(settings)) as api:
        headers = _login(api, user.email)
        qbo_conn = api.post(
            "/api/v1/connections", headers=headers, json=sandbox.quickbooks_connection_body(realm)
        )
        assert qbo_conn.status_code == 201, qbo_conn.text
        xero_conn = api.post("/api/v1/connections", headers=headers, json=_xero_body(sandbox, xero))
        assert xero_conn.status_code == 201, xero_conn.text
        w = World(
            api=api,
            headers=headers,
            tenant=issue_tenant_context(user.firm_id, Role.firm_admin, user_id=user.user_id),
            sandbox=sandbox,
            realm=realm,
            qbo_token=qbo_token["access_token"],
            xero={**xero, "access_token": xero_read["access_token"]},
            qbo_id=uuid.UUID(qbo_conn.json()["id"]),
            xero_id=uuid.UUID(xero_conn.json()["id"]),
            item_id="",
        )
        bookkeeping = w.qbo_query("select * from Item where Name = 'Bookkeeping'")
        w.item_id = str(bookkeeping[0]["Id"])
        yield w


def map_both(w: World, *, qbo_item: str | None = None, xero_account: str = "210") -> None:
    qbo = {
        "default_item": {"value": qbo_item or w.item_id},
        "exempt_tax_code": {"value": "NON"},
        "taxable_tax_code": {"value": "TAX"},
    }
    w.call("PUT", f"/connections/{w.qbo_id}/mapping", json=qbo)
    xero = {"sales_account_code": xero_account, "untaxed_tax_type": "NONE", "taxed_tax_type": "OUTPUT"}
    w.call("PUT", f"/connections/{w.xero_id}/mapping", json=xero)


def test_clients_and_invoices_reach_both_vendors_then_updates_and_voids_follow(world: World):
    w = world
    map_both(w)
    client = w.new_client("Harbour Dental", email="office@harbour.example", city="Portland")
    invoice = w.new_invoice(client["id"])
    qbo, xero = w.push_both()
    assert (qbo.pushed, qbo.dead_lettered, xero.pushed, xero.dead_lettered) == (2, 0, 2, 0)

    # QuickBooks: a Customer and an Invoice with the mapped item and tax code, linked both ways.
    customer_id = w.ref(w.qbo_id, "client", client["id"])
    customer = w.qbo("customer", customer_id)
    assert customer["DisplayName"] == "Harbour Dental"
    assert customer["PrimaryEmailAddr"]["Address"] == "office@harbour.example"
    qbo_invoice = w.qbo("invoice", w.ref(w.qbo_id, "invoice", invoice["id"]))
    detail = next(line for line in qbo_invoice["Line"] if line["DetailType"] == "SalesItemLineDetail")
    assert detail["SalesItemLineDetail"]["ItemRef"]["value"] == w.item_id
    assert detail["SalesItemLineDetail"]["TaxCodeRef"]["value"] == "NON"
    assert qbo_invoice["CustomerRef"]["value"] == customer_id and qbo_invoice["TotalAmt"] == 900
    # Xero: a Contact and an approved invoice on the mapped account.
    contact_id = w.ref(w.xero_id, "client", client["id"])
    assert w.xero_api("GET", f"Contacts/{contact_id}")["Contacts"][0]["Name"] == "Harbour Dental"
    xero_invoice = w.xero_api("GET", f"Invoices/{w.ref(w.xero_id, 'invoice', invoice['id'])}")["Invoices"][0]
    assert xero_invoice["Contact"]["ContactID"] == contact_id and xero_invoice["Status"] == "AUTHORISED"
    assert [(li["AccountCode"], li["TaxType"]) for li in xero_invoice["LineItems"]] == [("210", "NONE")]
    # The vendors' records are in the warehouse, with the tokens the next push sends.
    [(token,)] = w.sql(
        "select sync_token from warehouse.quickbooks_invoices where connection_id = :c", c=w.qbo_id
    )
    assert token == qbo_invoice["SyncToken"]
    assert w.sql(
        "select count(*) from warehouse.xero_invoice_lines where connection_id = :c", c=w.xero_id
    ) == [(1,)]

    # Nothing new: nothing is sent. Then an update of each, and a void.
    assert w.push(w.qbo_id).changes == 0
    w.call("PATCH", f"/clients/{client['id']}", json={"email": "billing@harbour.example"})
    w.call("PATCH", f"/invoices/{invoice['id']}", json={"notes": "PO 4411"})
    qbo, xero = w.push_both()
    assert (qbo.pushed, xero.pushed) == (2, 2)
    assert w.qbo("customer", customer_id)["PrimaryEmailAddr"]["Address"] == "billing@harbour.example"
    assert w.qbo("invoice", qbo_invoice["Id"])["CustomerMemo"]["value"] == "PO 4411"
    assert (
        w.xero_api("GET", f"Contacts/{contact_id}")["Contacts"][0]["EmailAddress"]
        == "billing@harbour.example"
    )
    assert w.xero_api("GET", f"Invoices/{xero_invoice['InvoiceID']}")["Invoices"][0]["Reference"] == "PO 4411"

    w.call("POST", f"/invoices/{invoice['id']}/void")
    w.push_both()
    voided = w.qbo("invoice", qbo_invoice["Id"])
    assert voided["TotalAmt"] == 0 and "Voided" in voided.get("PrivateNote", "")
    assert w.xero_api("GET", f"Invoices/{xero_invoice['InvoiceID']}")["Invoices"][0]["Status"] == "VOIDED"
    # Still one customer each: updates never re-created anything.
    assert len(w.qbo_query("select * from Customer where DisplayName = 'Harbour Dental'")) == 1


def test_a_conflict_is_resolved_by_the_rule_in_each_direction(world: World):
    w = world
    map_both(w)
    client = w.new_client("Conflict & Co")
    invoice = w.new_invoice(client["id"])
    w.push_both()
    qbo_invoice = w.ref(w.qbo_id, "invoice", invoice["id"])
    xero_invoice = w.ref(w.xero_id, "invoice", invoice["id"])

    # Vendor edits first, the platform after: the platform is newer and wins (retried on the new token).
    w.qbo_edit("Invoice", qbo_invoice, {"CustomerMemo": {"value": "edited by the accountant"}})
    w.xero_api("POST", f"Invoices/{xero_invoice}", json={"Invoices": [{"Reference": "edited in Xero"}]})
    time.sleep(1.1)  # QuickBooks stamps whole seconds
    w.call("PATCH", f"/invoices/{invoice['id']}", json={"notes": "platform edit"})
    qbo, xero = w.push_both()
    assert (qbo.conflicts, xero.conflicts) == (1, 1)
    assert w.qbo("invoice", qbo_invoice)["CustomerMemo"]["value"] == "platform edit"
    assert w.xero_api("GET", f"Invoices/{xero_invoice}")["Invoices"][0]["Reference"] == "platform edit"

    # The platform edits first, the vendor after: the vendor's copy is newer and wins.
    w.call("PATCH", f"/invoices/{invoice['id']}", json={"notes": "stale platform edit"})
    time.sleep(1.1)
    w.qbo_edit("Invoice", qbo_invoice, {"CustomerMemo": {"value": "accountant wins"}})
    w.xero_api("POST", f"Invoices/{xero_invoice}", json={"Invoices": [{"Reference": "Xero wins"}]})
    qbo, xero = w.push_both()
    assert (qbo.conflicts, xero.conflicts) == (1, 1)
    assert w.qbo("invoice", qbo_invoice)["CustomerMemo"]["value"] == "accountant wins"
    assert w.xero_api("GET", f"Invoices/{xero_invoice}")["Invoices"][0]["Reference"] == "Xero wins"
    # The vendor's record is in the warehouse (with its token), ready for the pull merge.
    [(memo,)] = w.sql(
        "select customer_memo from warehouse.quickbooks_invoices where connection_id = :c", c=w.qbo_id
    )
    assert memo == "accountant wins"

    rows = w.sql(
        "select c.provider, resolution, platform_payload->>'notes', vendor_updated_at < platform_updated_at "
        "from app.sync_conflicts c where entity = 'invoice' and entity_id = :i order by created_at, provider",
        i=invoice["id"],
    )
    assert rows == [
        ("quickbooks", "platform_wins", "platform edit", True),
        ("xero", "platform_wins", "platform edit", True),
        ("quickbooks", "vendor_wins", "stale platform edit", False),
        ("xero", "vendor_wins", "stale platform edit", False),
    ]
    listed = w.call("GET", "/sync-conflicts", params={"connection_id": str(w.qbo_id)})
    assert listed["total"] == 2 and {c["resolution"] for c in listed["items"]} == {
        "platform_wins",
        "vendor_wins",
    }


def test_refusals_dead_letter_with_the_reason_and_later_changes_still_push(world: World):
    w = world
    # QuickBooks: a mapping that validates but names an item the company does not have (vendor refusal).
    w.call(
        "PUT",
        f"/connections/{w.qbo_id}/mapping",
        json={"default_item": {"value": "999999"}, "exempt_tax_code": {"value": "NON"}},
    )
    # Xero: no mapping at all.
    first = w.new_client("Refused Ltd")
    invoice = w.new_invoice(first["id"])
    later = w.new_client("Later Ltd")
    qbo, xero = w.push_both()
    assert (qbo.dead_lettered, xero.dead_lettered) == (1, 1)
    letters = dict(
        w.sql(
            "select connection_id::text, error from app.dead_letters where stream = 'push:invoice' "
            "and external_id = :i and status = 'open'",
            i=invoice["id"],
        )
    )
    assert "Invalid Reference Id" in letters[str(w.qbo_id)]  # QuickBooks' own message
    assert "sales_account_code" in letters[str(w.xero_id)]  # which mapping field to set
    # Both clients (no mapping needed) reached both vendors, and the cursors passed every row.
    for connection_id in (w.qbo_id, w.xero_id):
        assert w.ref(connection_id, "client", first["id"]) and w.ref(connection_id, "client", later["id"])
        [(cursor,)] = w.sql(
            "select cursor from app.sync_state where connection_id = :c and stream = :s",
            c=connection_id,
            s=STREAM,
        )
        [(newest,)] = w.sql("select max(seq) from app.outbox where entity in ('client', 'invoice')")
        assert int(cursor.split(":")[1]) == newest  # "<xid>:<seq>" of the last row

    # Fixing the mapping and touching the invoice pushes it, and settles the dead letter.
    map_both(w)
    w.call("PATCH", f"/invoices/{invoice['id']}", json={"notes": "fixed"})
    w.push_both()
    assert w.ref(w.qbo_id, "invoice", invoice["id"]) and w.ref(w.xero_id, "invoice", invoice["id"])
    assert w.sql("select count(*) from app.dead_letters where status = 'open'") == [(0,)]


def test_a_killed_run_rerun_creates_nothing_twice(world: World, monkeypatch):
    w = world
    map_both(w)
    client = w.new_client("Once Only LLC")
    w.new_invoice(client["id"])
    commit = push_module._commit

    def killed(*args, **kwargs):
        raise SystemExit("killed after the vendor answered, before the commit")

    monkeypatch.setattr(push_module, "_commit", killed)
    for connection_id in (w.qbo_id, w.xero_id):
        with pytest.raises(SystemExit):
            w.push(connection_id)
    monkeypatch.setattr(push_module, "_commit", commit)
    qbo, xero = w.push_both()
    assert (qbo.pushed, xero.pushed) == (2, 2)
    assert len(w.qbo_query("select * from Customer where DisplayName = 'Once Only LLC'")) == 1
    assert len(w.qbo_query("select * from Invoice")) == 1
    contacts = w.xero_api("GET", "Contacts", params={"where": 'Name=="Once Only LLC"'})["Contacts"]
    assert len(contacts) == 1
    assert len(w.xero_api("GET", "Invoices")["Invoices"]) == 1


def test_sensor_launches_a_push_run_per_connection_and_the_job_pushes(world: World):
    w = world
    map_both(w)
    with dg.instance_for_test() as instance:
        # A writer whose transaction began before the client's and is still running (it holds a transaction
        # id) may yet commit a lower outbox seq: nothing past it is read until it ends, so nothing is skipped.
        with owner_engine().connect() as slow_writer:
            slow_writer.execute(text("select pg_current_xact_id()"))
            client = w.new_client("Sensor Partners")
            with dg.build_sensor_context(instance=instance, resources={"db": FirmsyncDatabase()}) as context:
                early = outbox_push(context)
            early_keys = {r.partition_key for r in getattr(early, "run_requests", None) or []}
            assert str(w.qbo_id) not in early_keys
            assert push_connection(FirmsyncDatabase(), RESOURCES["quickbooks"], w.qbo_id).changes == 0
        with dg.build_sensor_context(instance=instance, resources={"db": FirmsyncDatabase()}) as context:
            result = outbox_push(context)
        mine = {
            r.partition_key: r
            for r in result.run_requests
            if r.partition_key in (str(w.qbo_id), str(w.xero_id))
        }
        assert set(mine) == {str(w.qbo_id), str(w.xero_id)}
        [(newest,)] = w.sql("select max(seq) from app.outbox where entity in ('client', 'invoice')")
        assert mine[str(w.qbo_id)].run_key == f"push:{w.qbo_id}:{newest}"
        assert mine[str(w.qbo_id)].job_name == "quickbooks_push_outbox"
        instance.add_dynamic_partitions("quickbooks_connections", [str(w.qbo_id)])
        run = PUSH_JOBS["quickbooks"].execute_in_process(
            partition_key=str(w.qbo_id), instance=instance, resources=RESOURCES
        )
        assert run.success
        assert w.ref(w.qbo_id, "client", client["id"])
        with dg.build_sensor_context(instance=instance, resources={"db": FirmsyncDatabase()}) as context:
            again = outbox_push(context)
        keys = {r.partition_key for r in getattr(again, "run_requests", None) or []}
        assert str(w.qbo_id) not in keys and str(w.xero_id) in keys


def test_transient_failures_keep_the_cursor_and_a_lost_grant_marks_needs_reauth(world: World):
    w = world
    client = w.new_client("Flaky Ventures")
    fault = {"kind": "503", "realm": w.realm["realm_id"], "path_contains": "/customer", "times": 10}
    assert httpx.post(f"{w.sandbox.quickbooks}/_sandbox/faults", json=fault).status_code in (200, 201)
    fast = {**RESOURCES, "quickbooks": QuickBooksApi(timeout_seconds=5, max_attempts=2)}
    with pytest.raises(Exception) as failed:
        w.push(w.qbo_id, fast)
    assert not isinstance(failed.value, push_module.PushFailed)  # transient: the step's RetryPolicy re-runs
    assert (
        w.sql(
            "select cursor from app.sync_state where connection_id = :c and stream = :s", c=w.qbo_id, s=STREAM
        )
        == []
    )
    httpx.delete(f"{w.sandbox.quickbooks}/_sandbox/faults")
    assert w.push(w.qbo_id).pushed == 1 and w.ref(w.qbo_id, "client", client["id"])

    # The firm revokes the app in Xero: the push stops and the connection asks to be re-authorised.
    httpx.post(f"{w.sandbox.url}/xero/_sandbox/tenants/{w.xero['tenant_id']}/revoke").raise_for_status()
    with pytest.raises(push_module.PushFailed) as lost:
        w.push(w.xero_id)
    assert lost.value.permanent
    assert w.sql("select status from app.connections where id = :c", c=w.xero_id) == [("needs_reauth",)]


def test_a_push_run_that_fails_is_recorded_on_its_connection_by_the_failure_sensor(world: World):
    from pipelines.push_jobs import push_failures

    w = world
    w.new_client("Revoked Holdings")
    httpx.post(f"{w.sandbox.url}/xero/_sandbox/tenants/{w.xero['tenant_id']}/revoke").raise_for_status()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("xero_connections", [str(w.xero_id)])
        run = PUSH_JOBS["xero"].execute_in_process(
            partition_key=str(w.xero_id), instance=instance, resources=RESOURCES, raise_on_error=False
        )
        assert not run.success
        failure = next(e for e in run.all_events if e.event_type_value == "PIPELINE_FAILURE")
        context = dg.build_run_status_sensor_context(
            sensor_name="push_failures",
            dagster_instance=instance,
            dagster_run=run.dagster_run,
            dagster_event=failure,
            resources={"db": FirmsyncDatabase()},
        ).for_run_failure()
        push_failures(context)
    [(status, outcome, error)] = w.sql(
        "select status, last_sync_status, last_sync_error from app.connections where id = :c", c=w.xero_id
    )
    assert (status, outcome) == ("needs_reauth", "failed")
    assert error.startswith("push: AuthError") and "xero_push_outbox" not in error  # the step's reason
