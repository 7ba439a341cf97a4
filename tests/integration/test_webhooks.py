"""Webhook intake through HTTP: POST /webhooks/{provider}[/{connection_id}] against the real app and database.

Every signature here is computed from the vendor's documented formula with hmac/hashlib, over payloads in
the shape each vendor sends; none is produced by the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from tests.conftest import set_firm
from tests.integration.conftest import login

BASE = "http://testserver"
TWILIO_SID = "AC" + "0f" * 16
XERO_TENANT = "0c5d0b46-2b7a-4c3e-9d6f-4f1e2a3b4c5d"
DOCUSIGN_ACCOUNT = "5e8b2d3c-9f1a-4c6e-8d7b-1a2b3c4d5e6f"
REALM = "4620816365000000001"


def _b64(secret: str, message: bytes, digest=hashlib.sha256) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, digest).digest()).decode()


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- vendors


@dataclass(frozen=True)
class Vendor:
    """One provider: its connection, a realistic delivery and the vendor's signing formula."""

    provider: str
    config: dict[str, Any]
    secret_field: str
    body: Callable[[str], bytes]  # variant tag → body (different tags are different events)
    sign: Callable[[str, str, bytes, int], dict[str, str]]  # (secret, url, body, unix time) → headers
    event_id: Callable[[bytes], str]
    content_type: str = "application/json"
    extra_credentials: dict[str, Any] | None = None
    timestamped: bool = False


def _stripe_body(tag: str) -> bytes:
    return json.dumps(
        {
            "id": f"evt_1NG8Du2eZvKYlo2C{tag}",
            "object": "event",
            "account": "acct_1Nv0FGQ9RKHgCVdK",
            "api_version": "2023-10-16",
            "created": 1686089970,
            "data": {
                "object": {
                    "id": "in_1NG8Dt2eZvKYlo2C",
                    "object": "invoice",
                    "amount_due": 12000,
                    "currency": "usd",
                    "customer": "cus_NffrFeUfNV2Hib",
                    "status": "paid",
                }
            },
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": "invoice.paid",
        },
        indent=2,
    ).encode()


def _stripe_sign(secret: str, url: str, body: bytes, now: int) -> dict[str, str]:
    # Stripe: t=<unix>,v1=hex(HMAC-SHA256(secret, "<t>." + body)); an unrelated v1 first, as during a roll.
    return {"Stripe-Signature": f"t={now},v1={'0' * 64},v1={_hex(secret, f'{now}.'.encode() + body)}"}


def _square_body(tag: str) -> bytes:
    return json.dumps(
        {
            "merchant_id": "6SSW7HV8K2ST5",
            "type": "payment.updated",
            "event_id": f"13b867cf-db3d-4b1c-90b6-2f32a9d7{tag}",
            "created_at": "2020-02-06T21:27:34.308Z",
            "data": {
                "type": "payment",
                "id": "hYy9pRFVxpDsO1FB05SunFWUe9JZY",
                "object": {
                    "payment": {
                        "id": "hYy9pRFVxpDsO1FB05SunFWUe9JZY",
                        "amount_money": {"amount": 100, "currency": "USD"},
                        "status": "COMPLETED",
                        "location_id": "S8GWD5R9QB376",
                    }
                },
            },
        }
    ).encode()


def _square_sign(secret: str, url: str, body: bytes, now: int) -> dict[str, str]:
    # Square: base64(HMAC-SHA256(signature key, notification URL + body)).
    return {"x-square-hmacsha256-signature": _b64(secret, url.encode() + body), "square-retry-number": "0"}


def _twilio_params(tag: str) -> dict[str, str]:
    return {
        "SmsSid": f"SM1f0e8ae6ade43cb3c0ce4525424e{tag}",
        "SmsStatus": "delivered",
        "MessageStatus": "delivered",
        "To": "+15558675310",
        "MessageSid": f"SM1f0e8ae6ade43cb3c0ce4525424e{tag}",
        "AccountSid": TWILIO_SID,
        "From": "+15017122661",
        "ApiVersion": "2010-04-01",
    }


def _twilio_sign(secret: str, url: str, body: bytes, now: int) -> dict[str, str]:
    # Twilio: base64(HMAC-SHA1(auth token, URL + each sorted POST name + value)).
    from urllib.parse import parse_qsl

    params = sorted(parse_qsl(body.decode(), keep_blank_values=True))
    signed = url + "".join(name + value for name, value in params)
    return {
        "X-Twilio-Signature": _b64(secret, signed.encode(), hashlib.sha1),
        "I-Twilio-Idempotency-Token": "tok",
    }


def _docusign_body(tag: str) -> bytes:
    return json.dumps(
        {
            "event": "envelope-completed",
            "apiVersion": "v2.1",
            "uri": f"/restapi/v2.1/accounts/{DOCUSIGN_ACCOUNT}/envelopes/93be49ab-{tag}",
            "retryCount": 0,
            "configurationId": 10418,
            "generatedDateTime": "2024-03-05T17:49:34.1234567Z",
            "data": {
                "accountId": DOCUSIGN_ACCOUNT,
                "userId": "c1d2e3f4-0000-4000-8000-000000000001",
                "envelopeId": f"93be49ab-{tag}",
            },
        }
    ).encode()


def _body_hmac_header(name: str) -> Callable[[str, str, bytes, int], dict[str, str]]:
    # DocuSign, Intuit and Xero: base64(HMAC-SHA256(key, raw body)).
    return lambda secret, url, body, now: {name: _b64(secret, body)}


def _quickbooks_body(tag: str) -> bytes:
    return json.dumps(
        {
            "eventNotifications": [
                {
                    "realmId": REALM,
                    "dataChangeEvent": {
                        "entities": [
                            {
                                "name": "Customer",
                                "id": f"58{tag}",
                                "operation": "Update",
                                "lastUpdated": "2024-03-05T09:41:22.000Z",
                            }
                        ]
                    },
                }
            ]
        }
    ).encode()


def _xero_body(tag: str) -> bytes:
    return json.dumps(
        {
            "events": [
                {
                    "resourceUrl": "https://api.xero.com/api.xro/2.0/Invoices/8f0b6a5e-9f9c-4c1a-a9d1-3c2b1a0f9e8d",
                    "resourceId": "8f0b6a5e-9f9c-4c1a-a9d1-3c2b1a0f9e8d",
                    "eventDateUtc": f"2024-03-05T09:41:22.{tag}",
                    "eventType": "UPDATE",
                    "eventCategory": "INVOICE",
                    "tenantId": XERO_TENANT,
                    "tenantType": "ORGANISATION",
                }
            ],
            "firstEventSequence": 1,
            "lastEventSequence": 1,
            "entropy": "YSXCMKAQBJOEPHFKQHRG",
        }
    ).encode()


def _slack_body(tag: str) -> bytes:
    return json.dumps(
        {
            "token": "XXYYZZ",
            "team_id": "T0001ABCD",
            "api_app_id": "A0KRD7HC3",
            "event": {
                "type": "app_mention",
                "user": "U061F7AUR",
                "text": "<@U0LAN0Z89> is it everything a river should be?",
                "ts": "1515449522.000016",
                "channel": "C0LAN2Q65",
                "event_ts": "1515449522000016",
            },
            "type": "event_callback",
            "event_id": f"Ev0LAN670R{tag}",
            "event_time": 1515449522,
        }
    ).encode()


def _slack_sign(secret: str, url: str, body: bytes, now: int) -> dict[str, str]:
    # Slack: "v0=" + hex(HMAC-SHA256(signing secret, "v0:<timestamp>:" + body)).
    return {
        "X-Slack-Request-Timestamp": str(now),
        "X-Slack-Signature": "v0=" + _hex(secret, f"v0:{now}:".encode() + body),
    }


def _sha(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _docusign_id(body: bytes) -> str:
    message = {k: v for k, v in json.loads(body).items() if k != "retryCount"}
    return (
        "sha256:"
        + hashlib.sha256(json.dumps(message, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    )


VENDORS = {
    v.provider: v
    for v in (
        Vendor(
            "stripe",
            {"account_id": "acct_1Nv0FGQ9RKHgCVdK"},
            "webhook_signing_secret",
            _stripe_body,
            _stripe_sign,
            lambda body: json.loads(body)["id"],
            timestamped=True,
        ),
        Vendor(
            "square",
            {"merchant_id": "6SSW7HV8K2ST5", "environment": "sandbox"},
            "webhook_signature_key",
            _square_body,
            _square_sign,
            lambda body: json.loads(body)["event_id"],
        ),
        Vendor(
            "twilio",
            {"account_sid": TWILIO_SID},
            "auth_token",
            lambda tag: urlencode(_twilio_params(tag)).encode(),
            _twilio_sign,
            _sha,
            content_type="application/x-www-form-urlencoded",
        ),
        Vendor(
            "docusign",
            {"account_id": DOCUSIGN_ACCOUNT},
            "connect_hmac_key",
            _docusign_body,
            _body_hmac_header("X-DocuSign-Signature-1"),
            _docusign_id,
        ),
        Vendor(
            "quickbooks",
            {
                "realm_id": REALM,
                "environment": "sandbox",
                "api_base_url": "http://127.0.0.1:1/quickbooks",
                "discovery_url": "http://127.0.0.1:1/quickbooks/.well-known/openid_sandbox_configuration",
                "client_id": "client-abc",
            },
            "webhook_verifier_token",
            _quickbooks_body,
            _body_hmac_header("intuit-signature"),
            _sha,
            extra_credentials={"client_secret": "shh", "refresh_token": "AB11-refresh"},
        ),
        Vendor(
            "xero",
            {"tenant_id": XERO_TENANT, "client_id": "xero-app"},
            "webhook_key",
            _xero_body,
            _body_hmac_header("x-xero-signature"),
            _sha,
            extra_credentials={"client_secret": "xero-secret", "refresh_token": "xero-refresh"},
        ),
        Vendor(
            "slack",
            {"team_id": "T0001ABCD"},
            "signing_secret",
            _slack_body,
            _slack_sign,
            lambda body: json.loads(body)["event_id"],
            timestamped=True,
        ),
    )
}


# --------------------------------------------------------------------------- helpers


def connect(api: TestClient, headers: dict[str, str], vendor: Vendor, secret: str) -> str:
    credentials = {**(vendor.extra_credentials or {}), vendor.secret_field: secret}
    response = api.post(
        "/api/v1/connections",
        json={"provider": vendor.provider, "config": vendor.config, "credentials": credentials},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def deliver(
    api: TestClient,
    vendor: Vendor,
    path: str,
    body: bytes,
    secret: str,
    *,
    now: int | None = None,
    sign_body: bytes | None = None,
    headers: dict[str, str] | None = None,
):
    signature = vendor.sign(
        secret, BASE + path, sign_body if sign_body is not None else body, now or int(time.time())
    )
    return api.post(
        path, content=body, headers={"Content-Type": vendor.content_type, **signature, **(headers or {})}
    )


def inbox(conn, firm_id: uuid.UUID) -> list[Any]:
    set_firm(conn, firm_id)
    rows = (
        conn.execute(
            text(
                "select provider, connection_id::text as connection_id, event_id, event_type, headers, "
                "payload, raw_body, status, attempts from app.webhook_inbox order by seq"
            )
        )
        .mappings()
        .all()
    )
    set_firm(conn, None)
    return list(rows)


@pytest.fixture
def make_api(app_connection, settings):
    """The real app with some settings overridden (limits), sharing the test's rolled-back transaction."""
    from core_api.app import create_app
    from core_api.auth.dependencies import db_sessions
    from core_api.settings import get_settings

    clients = []

    def build(**overrides: Any) -> TestClient:
        app = create_app(settings)
        factory = sessionmaker(
            bind=app_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        app.dependency_overrides[db_sessions] = lambda: factory
        changed = settings.model_copy(update=overrides)
        app.dependency_overrides[get_settings] = lambda: changed
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


# --------------------------------------------------------------------------- every provider


@pytest.mark.parametrize("route", ["connection", "account"])
@pytest.mark.parametrize("provider", sorted(VENDORS))
def test_signed_events_are_stored_once_and_bad_signatures_write_nothing(
    api, admin_headers, firm_admin, app_connection, provider, route
):
    vendor = VENDORS[provider]
    secret = f"{provider}-signing-secret-7d1c"
    connection_id = connect(api, admin_headers, vendor, secret)
    path = f"/webhooks/{provider}/{connection_id}" if route == "connection" else f"/webhooks/{provider}"
    body = vendor.body("a1")

    wrong_key = deliver(api, vendor, path, body, "not-the-secret")
    assert wrong_key.status_code == 401, wrong_key.text
    assert wrong_key.headers["content-type"] == "application/problem+json"
    # The same signature over a body with one more byte (a field for forms, whitespace for JSON).
    tampered_body = body + (b"&Tampered=1" if vendor.content_type != "application/json" else b" ")
    tampered = deliver(api, vendor, path, tampered_body, secret, sign_body=body)
    assert tampered.status_code == 401
    unsigned = api.post(path, content=body, headers={"Content-Type": vendor.content_type})
    assert unsigned.status_code == 401
    if vendor.timestamped:
        stale = deliver(api, vendor, path, body, secret, now=int(time.time()) - 301)
        assert stale.status_code == 401
    assert inbox(app_connection, firm_admin.firm_id) == []

    first = deliver(api, vendor, path, body, secret)
    assert first.status_code == 200, first.text
    again = deliver(api, vendor, path, body, secret)
    assert again.status_code == 200
    if provider == "xero":
        assert first.content == b"" and again.content == b""  # Xero: no body in the response
    elif provider == "twilio":
        assert first.headers["content-type"].startswith("text/xml") and b"<Response>" in first.content
    else:
        assert first.json() == {"provider": provider, "event_id": vendor.event_id(body), "status": "stored"}
        assert again.json()["status"] == "duplicate"

    rows = inbox(app_connection, firm_admin.firm_id)
    assert len(rows) == 1
    row = rows[0]
    assert (row["provider"], row["connection_id"], row["event_id"]) == (
        provider,
        connection_id,
        vendor.event_id(body),
    )
    assert (row["status"], row["attempts"]) == ("pending", 0)
    assert row["event_type"]
    # Only non-secret headers are kept: never a signature.
    assert not any("signature" in name for name in row["headers"])
    assert row["headers"]["content-type"] == vendor.content_type
    if vendor.content_type == "application/json":
        assert row["payload"] == json.loads(body) and row["raw_body"] is None
    else:
        assert row["raw_body"] == body.decode() and row["payload"]["AccountSid"] == TWILIO_SID

    # A second, different event is a second row.
    assert deliver(api, vendor, path, vendor.body("b2"), secret).status_code == 200
    assert len(inbox(app_connection, firm_admin.firm_id)) == 2


def test_docusign_retries_bump_retry_count_but_are_the_same_event(
    api, admin_headers, firm_admin, app_connection
):
    vendor = VENDORS["docusign"]
    connection_id = connect(api, admin_headers, vendor, "ds-key")
    path = f"/webhooks/docusign/{connection_id}"
    body = vendor.body("c3")
    retry = json.dumps({**json.loads(body), "retryCount": 2}).encode()
    assert deliver(api, vendor, path, body, "ds-key").json()["status"] == "stored"
    assert deliver(api, vendor, path, retry, "ds-key").json()["status"] == "duplicate"
    assert len(inbox(app_connection, firm_admin.firm_id)) == 1


# --------------------------------------------------------------------------- handshakes


def test_xero_intent_to_receive(api, admin_headers, firm_admin, app_connection):
    vendor = VENDORS["xero"]
    connection_id = connect(api, admin_headers, vendor, "xero-webhook-key")
    path = f"/webhooks/xero/{connection_id}"
    itr = b'{"events":[],"lastEventSequence":0,"firstEventSequence":0,"entropy":"S0m3r4Nd0mt3xt"}'
    good = deliver(api, vendor, path, itr, "xero-webhook-key")
    assert good.status_code == 200 and good.content == b"" and "set-cookie" not in good.headers
    bad = deliver(api, vendor, path, itr, "wrong-key")
    assert bad.status_code == 401
    assert inbox(app_connection, firm_admin.firm_id) == []


def test_slack_url_verification_is_echoed_only_after_verification(
    api, admin_headers, firm_admin, app_connection
):
    vendor = VENDORS["slack"]
    connection_id = connect(api, admin_headers, vendor, "slack-signing-secret")
    path = f"/webhooks/slack/{connection_id}"
    body = (
        b'{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",'
        b'"type":"url_verification"}'
    )
    good = deliver(api, vendor, path, body, "slack-signing-secret")
    assert good.status_code == 200
    assert good.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    forged = deliver(api, vendor, path, body, "guess")
    assert forged.status_code == 401 and "3eZbrw1a" not in forged.text
    assert inbox(app_connection, firm_admin.firm_id) == []


# --------------------------------------------------------------------------- URLs the vendor signs


def test_square_and_twilio_sign_the_public_url_or_the_pinned_one(make_api, firm_admin, app_connection):
    api = make_api(webhook_public_base_url="https://hooks.example.com")
    headers = login(api, firm_admin)
    square = VENDORS["square"]
    square_id = connect(api, headers, square, "sq-key")
    path = f"/webhooks/square/{square_id}"
    body = square.body("d4")
    signed_for_public = square.sign("sq-key", "https://hooks.example.com" + path, body, 0)
    response = api.post(path, content=body, headers={"Content-Type": "application/json", **signed_for_public})
    assert response.status_code == 200, response.text
    assert deliver(api, square, path, square.body("e5"), "sq-key").status_code == 401  # signed for testserver

    twilio = Vendor(
        **{
            **VENDORS["twilio"].__dict__,
            "config": {**VENDORS["twilio"].config, "webhook_url": "https://t.example.com/in?x=1"},
        }
    )
    twilio_id = connect(api, headers, twilio, "tw-token")
    body = twilio.body("f6")
    signed = twilio.sign("tw-token", "https://t.example.com/in?x=1", body, 0)
    response = api.post(
        f"/webhooks/twilio/{twilio_id}",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", **signed},
    )
    assert response.status_code == 200, response.text
    assert len(inbox(app_connection, firm_admin.firm_id)) == 2


def test_twilio_json_bodies_verify_through_body_sha256(api, admin_headers, firm_admin, app_connection):
    connection_id = connect(api, admin_headers, VENDORS["twilio"], "tw-token")
    body = json.dumps(
        [
            {
                "specversion": "1.0",
                "type": "com.twilio.messaging.message.delivered",
                "source": f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/SM123.json",
                "id": "EZ8f6f4a0ddf7fe6a51f1d3c3a2b8f2b11",
                "datacontenttype": "application/json",
                "time": "2024-03-05T09:41:22.000Z",
                "data": {"accountSid": TWILIO_SID, "messageSid": "SM123"},
            }
        ]
    ).encode()
    path = f"/webhooks/twilio?bodySHA256={hashlib.sha256(body).hexdigest()}"
    signature = _b64("tw-token", (BASE + path).encode(), hashlib.sha1)
    response = api.post(
        path, content=body, headers={"Content-Type": "application/json", "X-Twilio-Signature": signature}
    )
    assert response.status_code == 200, response.text
    (row,) = inbox(app_connection, firm_admin.firm_id)
    assert row["event_id"] == "EZ8f6f4a0ddf7fe6a51f1d3c3a2b8f2b11" and row["connection_id"] == connection_id


# --------------------------------------------------------------------------- limits


def test_bodies_over_the_limit_get_413_by_header_and_by_bytes_read(make_api, firm_admin, app_connection):
    api = make_api(webhook_max_body_bytes=2048)
    headers = login(api, firm_admin)
    vendor = VENDORS["stripe"]
    connection_id = connect(api, headers, vendor, "whsec_x")
    path = f"/webhooks/stripe/{connection_id}"
    big = b'{"id": "evt_big", "pad": "' + b"x" * 4096 + b'"}'
    declared = deliver(api, vendor, path, big, "whsec_x")
    assert declared.status_code == 413 and declared.headers["content-type"] == "application/problem+json"

    def chunks():  # no Content-Length: the limit must hold on the bytes actually read
        for i in range(0, len(big), 512):
            yield big[i : i + 512]

    signature = vendor.sign("whsec_x", BASE + path, big, int(time.time()))
    streamed = api.post(path, content=chunks(), headers={"Content-Type": "application/json", **signature})
    assert streamed.status_code == 413
    assert inbox(app_connection, firm_admin.firm_id) == []
    small = vendor.body("g7")
    assert deliver(api, vendor, path, small, "whsec_x").status_code == 200


def test_default_limit_is_one_mebibyte(api):
    response = api.post(
        "/webhooks/stripe", content=b"x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_each_provider_is_rate_limited_with_retry_after(make_api, firm_admin, app_connection):
    # Stripe's own rate (an override of the default) with a burst of 3.
    api = make_api(
        webhook_rate_limit_per_minute=6000, webhook_rate_limit_burst=3, webhook_rate_limits={"stripe": 6}
    )
    headers = login(api, firm_admin)
    vendor = VENDORS["stripe"]
    connection_id = connect(api, headers, vendor, "whsec_y")
    path = f"/webhooks/stripe/{connection_id}"
    statuses = [deliver(api, vendor, path, vendor.body(f"h{i}"), "whsec_y").status_code for i in range(3)]
    assert statuses == [200, 200, 200]
    limited = deliver(api, vendor, path, vendor.body("h9"), "whsec_y")
    assert limited.status_code == 429 and limited.headers["content-type"] == "application/problem+json"
    assert limited.headers["retry-after"] == "10"  # one token per 10 s at 6 per minute
    assert len(inbox(app_connection, firm_admin.firm_id)) == 3
    # Another provider has its own bucket.
    assert api.post("/webhooks/xero", content=b"{}").status_code == 404


# --------------------------------------------------------------------------- routing and tenancy


def test_unknown_providers_and_connections_are_404(api, admin_headers):
    vendor = VENDORS["stripe"]
    assert api.post("/webhooks/myspace", content=b"{}").status_code == 404
    assert api.post(f"/webhooks/myspace/{uuid.uuid4()}", content=b"{}").status_code == 404
    assert deliver(api, vendor, f"/webhooks/stripe/{uuid.uuid4()}", vendor.body("i1"), "s").status_code == 404
    # No connection for the account the payload names (and nothing at all without an account).
    assert deliver(api, vendor, "/webhooks/stripe", vendor.body("i2"), "s").status_code == 404
    no_account = json.dumps({"id": "evt_1", "type": "invoice.paid"}).encode()
    assert deliver(api, vendor, "/webhooks/stripe", no_account, "s").status_code == 404
    # A connection of another provider is not a stripe connection; a deleted one is gone.
    slack_id = connect(api, admin_headers, VENDORS["slack"], "slack-secret")
    assert (
        deliver(api, vendor, f"/webhooks/stripe/{slack_id}", vendor.body("i3"), "slack-secret").status_code
        == 404
    )
    stripe_id = connect(api, admin_headers, vendor, "whsec_z")
    assert api.delete(f"/api/v1/connections/{stripe_id}", headers=admin_headers).status_code == 204
    assert (
        deliver(api, vendor, f"/webhooks/stripe/{stripe_id}", vendor.body("i4"), "whsec_z").status_code == 404
    )
    assert api.post("/webhooks/stripe/not-a-uuid", content=b"{}").status_code == 422


def test_an_event_for_firm_a_never_lands_in_firm_b(
    api, admin_headers, firm_admin, other_firm, app_connection
):
    vendor = VENDORS["slack"]
    b_headers = login(api, other_firm)
    a_id = connect(api, admin_headers, vendor, "alpha-secret")
    # Firm B connected the same workspace, with its own (different) signing secret.
    b_id = connect(api, b_headers, vendor, "beta-secret")

    # Signed with A's secret but sent to B's URL: B's secret does not verify it.
    assert (
        deliver(api, vendor, f"/webhooks/slack/{b_id}", vendor.body("j1"), "alpha-secret").status_code == 401
    )
    # On A's URL it lands in A only.
    assert (
        deliver(api, vendor, f"/webhooks/slack/{a_id}", vendor.body("j1"), "alpha-secret").status_code == 200
    )
    # Routed by team_id, both connections are candidates; only the one whose secret verifies gets it.
    assert deliver(api, vendor, "/webhooks/slack", vendor.body("j2"), "alpha-secret").status_code == 200
    assert deliver(api, vendor, "/webhooks/slack", vendor.body("j3"), "beta-secret").status_code == 200

    a_rows = inbox(app_connection, firm_admin.firm_id)
    b_rows = inbox(app_connection, other_firm.firm_id)
    assert [(r["connection_id"], r["event_id"]) for r in a_rows] == [
        (a_id, "Ev0LAN670Rj1"),
        (a_id, "Ev0LAN670Rj2"),
    ]
    assert [(r["connection_id"], r["event_id"]) for r in b_rows] == [(b_id, "Ev0LAN670Rj3")]
    # And without a firm (the API role, RLS on) the inbox shows nothing at all.
    assert app_connection.execute(text("select count(*) from app.webhook_inbox")).scalar() == 0


def test_the_definer_function_is_narrow(app_connection, api, admin_headers):
    connection_id = connect(api, admin_headers, VENDORS["stripe"], "whsec_q")
    call = text("select connection_id from app.webhook_target(:p, :c, :a)")
    found = app_connection.execute(call, {"p": "stripe", "c": connection_id, "a": None}).scalars().all()
    assert [str(x) for x in found] == [connection_id]
    # Neither an id nor an account: no listing of connections.
    assert app_connection.execute(call, {"p": "stripe", "c": None, "a": None}).all() == []
    assert app_connection.execute(call, {"p": "slack", "c": connection_id, "a": None}).all() == []


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize("provider", sorted(VENDORS))
def test_hostile_requests_get_4xx_never_5xx(make_api, firm_admin, app_connection, provider):
    api = make_api(webhook_rate_limit_burst=1000)
    admin_headers = login(api, firm_admin)
    vendor = VENDORS[provider]
    connection_id = connect(api, admin_headers, vendor, "hostile-secret")
    bodies = [b"", b"\xff\xfe\x00garbage", b"[]", b"null", b'{"events": null, "team_id": 7}', b"a=%ZZ&&=&b"]
    header_sets = [
        {},
        {"Stripe-Signature": "t=abc,v1=zz,v1"},
        {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0="},
        {
            "X-Twilio-Signature": "==",
            "X-DocuSign-Signature-1": "",
            "intuit-signature": "x",
            "x-xero-signature": "y",
        },
        {"x-square-hmacsha256-signature": "é".encode("latin-1")},
    ]
    for path in (f"/webhooks/{provider}/{connection_id}", f"/webhooks/{provider}"):
        for body in bodies:
            for headers in header_sets:
                for content_type in ("application/json", "application/x-www-form-urlencoded"):
                    response = api.post(path, content=body, headers={"Content-Type": content_type, **headers})
                    assert response.status_code in (401, 404), (path, body, headers, response.text)
    assert inbox(app_connection, firm_admin.firm_id) == []


def test_a_signed_body_postgres_cannot_hold_as_json_is_kept_as_text(
    api, admin_headers, firm_admin, app_connection
):
    vendor = VENDORS["stripe"]
    connection_id = connect(api, admin_headers, vendor, "whsec_nul")
    body = b'{"id": "evt_nul", "type": "charge.succeeded", "note": "a\\u0000b"}'
    response = deliver(api, vendor, f"/webhooks/stripe/{connection_id}", body, "whsec_nul")
    assert response.status_code == 200, response.text
    (row,) = inbox(app_connection, firm_admin.firm_id)
    assert row["event_id"] == "evt_nul" and row["payload"] is None and row["raw_body"] == body.decode()
