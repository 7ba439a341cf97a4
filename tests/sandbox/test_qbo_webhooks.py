"""Webhooks: every write (API or admin) is delivered in the background to a real HTTP endpoint, batched,
signed as Intuit signs them (verified here from the documented formula), and retried until acknowledged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from connectors.sandbox.settings import SandboxSettings
from tests.sandbox.conftest import QboRealm

TOKEN = "verifier-token-from-the-developer-portal"
UTC_MILLIS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    # Near-real-time batches and quick retries; the delivery code is the same as with Intuit's delays.
    return SandboxSettings(
        qbo_demo_customers=5, qbo_webhook_batch_seconds=0.3, qbo_webhook_retry_seconds=(0.3,)
    )


class Receiver:
    """A webhook endpoint: records each POST; answers the statuses queued in ``answers``, then 200."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/intuit"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def wait_for(self, posts: int, timeout: float = 8.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.posts) >= posts:
                    return list(self.posts)
            time.sleep(0.05)
        raise AssertionError(f"expected {posts} webhook posts, got {len(self.posts)}")

    def events(self) -> list[dict[str, Any]]:
        return [
            entity
            for _, body in self.posts
            for notification in json.loads(body)["eventNotifications"]
            for entity in notification["dataChangeEvent"]["entities"]
        ]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()


def _verified(headers: dict[str, str], body: bytes) -> Any:
    """Intuit's procedure: base64(HMAC-SHA256(verifier token, raw body)) must equal intuit-signature."""
    expected = base64.b64encode(hmac.new(TOKEN.encode(), body, hashlib.sha256).digest()).decode()
    assert hmac.compare_digest(headers["intuit-signature"], expected)
    assert headers["content-type"] == "application/json"
    return json.loads(body)


def _subscribe(realm: QboRealm, receiver: Receiver, **extra: Any) -> dict[str, Any]:
    response = realm.admin("POST", "/webhooks", json={"url": receiver.url, "verifier_token": TOKEN, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def _invoice_body(realm: QboRealm, customer_id: str) -> dict[str, Any]:
    item = realm.objects("SELECT * FROM Item WHERE Name = 'Bookkeeping'")[0]["Id"]
    line = {
        "Amount": 350,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": item}},
    }
    return {"CustomerRef": {"value": customer_id}, "Line": [line]}


def test_writes_are_delivered_signed_and_batched(new_realm, receiver: Receiver) -> None:
    realm = new_realm(customers=3)
    subscription = _subscribe(realm, receiver)
    assert (subscription["format"], subscription["entities"]) == ("classic", None)
    customer = realm.rows("SELECT * FROM Customer")[0]
    invoice = realm.post("invoice", _invoice_body(realm, customer["Id"])).json()["Invoice"]
    payment = realm.post(
        "payment",
        {
            "CustomerRef": {"value": customer["Id"]},
            "TotalAmt": 350,
            "Line": [{"Amount": 350, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    ).json()["Payment"]
    realm.admin("POST", f"/entities/Customer/{customer['Id']}/edit", json={"changes": {"Notes": "VIP"}})

    receiver.wait_for(1)
    time.sleep(0.5)  # let a straggler batch arrive, if the writes were split
    expected = [
        ("Invoice", invoice["Id"], "Create"),
        ("Payment", payment["Id"], "Create"),
        ("Invoice", invoice["Id"], "Update"),  # the payment lowered its balance
        ("Customer", customer["Id"], "Update"),
    ]
    assert [(e["name"], e["id"], e["operation"]) for e in receiver.events()] == expected
    assert len(receiver.posts) < len(expected)  # batched, not one POST per event
    for headers, body in receiver.posts:
        payload = _verified(headers, body)
        (notification,) = payload["eventNotifications"]
        assert notification["realmId"] == realm.realm_id
    first = receiver.events()[0]
    assert UTC_MILLIS.fullmatch(first["lastUpdated"])
    created = datetime.fromisoformat(invoice["MetaData"]["CreateTime"])
    assert datetime.fromisoformat(first["lastUpdated"].replace("Z", "+00:00")) == created.astimezone(UTC)
    deliveries = realm.admin("GET", "/webhooks/deliveries").json()["deliveries"]
    assert [d["status"] for d in deliveries] == [200] * len(receiver.posts)
    assert sum(d["entities"] for d in deliveries) == len(expected)


def test_void_and_delete_events(new_realm, receiver: Receiver) -> None:
    realm = new_realm(customers=2)
    customer = realm.rows("SELECT * FROM Customer")[0]["Id"]
    first = realm.post("invoice", _invoice_body(realm, customer)).json()["Invoice"]
    second = realm.post("invoice", _invoice_body(realm, customer)).json()["Invoice"]
    _subscribe(realm, receiver)
    realm.post("invoice", {"Id": first["Id"], "SyncToken": "0"}, operation="void")
    realm.admin("POST", f"/entities/Invoice/{second['Id']}/delete", json={})
    receiver.wait_for(1)
    time.sleep(0.5)
    assert [(e["id"], e["operation"]) for e in receiver.events()] == [
        (first["Id"], "Void"),
        (second["Id"], "Delete"),
    ]


def test_subscriptions_filter_by_entity_and_can_be_removed(new_realm, receiver: Receiver) -> None:
    realm = new_realm(customers=2)
    subscription = _subscribe(realm, receiver, entities=["Invoice"])
    customer = realm.rows("SELECT * FROM Customer")[0]
    realm.write({"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True, "Notes": "quiet"})
    invoice = realm.post("invoice", _invoice_body(realm, customer["Id"])).json()["Invoice"]
    receiver.wait_for(1)
    assert [(e["name"], e["id"]) for e in receiver.events()] == [("Invoice", invoice["Id"])]
    listed = realm.admin("GET", "/webhooks").json()["subscriptions"]
    assert [s["id"] for s in listed] == [subscription["id"]]
    assert realm.admin("DELETE", f"/webhooks/{subscription['id']}").status_code == 204
    realm.post("invoice", _invoice_body(realm, customer["Id"]))
    time.sleep(0.8)
    assert len(receiver.posts) == 1
    assert realm.admin("DELETE", f"/webhooks/{subscription['id']}").status_code == 404


def test_a_failed_delivery_is_retried_before_later_events(new_realm, receiver: Receiver) -> None:
    realm = new_realm(customers=2)
    receiver.answers = [500]
    _subscribe(realm, receiver)
    customer = realm.rows("SELECT * FROM Customer")[0]["Id"]
    first = realm.post("invoice", _invoice_body(realm, customer)).json()["Invoice"]
    receiver.wait_for(1)
    second = realm.post("invoice", _invoice_body(realm, customer)).json()[
        "Invoice"
    ]  # queued behind the retry
    posts = receiver.wait_for(3)
    (failed_headers, failed), (retried_headers, retried), (_, later) = posts[:3]
    assert retried == failed and retried_headers["intuit-signature"] == failed_headers["intuit-signature"]
    assert [e["id"] for e in json.loads(later)["eventNotifications"][0]["dataChangeEvent"]["entities"]] == [
        second["Id"]
    ]
    assert [e["id"] for e in json.loads(failed)["eventNotifications"][0]["dataChangeEvent"]["entities"]] == [
        first["Id"]
    ]
    deliveries = realm.admin("GET", "/webhooks/deliveries").json()["deliveries"]
    assert [(d["status"], d["attempt"], d["delivered"]) for d in deliveries[:3]] == [
        (500, 1, False),
        (200, 2, True),
        (200, 1, True),
    ]


def test_cloudevents_format(new_realm, receiver: Receiver) -> None:
    realm = new_realm(customers=2)
    _subscribe(realm, receiver, format="cloudevents")
    customer = realm.rows("SELECT * FROM Customer")[0]["Id"]
    invoice = realm.post("invoice", _invoice_body(realm, customer)).json()["Invoice"]
    ((headers, body),) = receiver.wait_for(1)
    (event,) = _verified(headers, body)
    assert event["specversion"] == "1.0"
    assert (event["type"], event["intuitentityid"], event["intuitaccountid"]) == (
        "qbo.invoice.created.v1",
        invoice["Id"],
        realm.realm_id,
    )
    assert event["source"].startswith("intuit.") and event["datacontenttype"] == "application/json"
    assert UTC_MILLIS.fullmatch(event["time"]) and event["data"] == {}


def test_subscriptions_are_validated(new_realm) -> None:
    realm = new_realm(customers=0)
    assert (
        realm.admin("POST", "/webhooks", json={"url": "not a url", "verifier_token": TOKEN}).status_code
        == 422
    )
    unknown = {"url": "http://127.0.0.1:9/x", "verifier_token": TOKEN, "entities": ["Widget"]}
    assert realm.admin("POST", "/webhooks", json=unknown).status_code == 404


def test_admin_bulk_writes_are_notified_too(new_realm, receiver: Receiver) -> None:
    realm = new_realm(customers=1)
    _subscribe(realm, receiver, entities=["Customer"])
    added = realm.admin("POST", "/customers/bulk", json={"count": 3, "seed": 2}).json()
    receiver.wait_for(1)
    assert [(e["id"], e["operation"]) for e in receiver.events()] == [
        (str(n), "Create") for n in range(int(added["first_id"]), int(added["last_id"]) + 1)
    ]
