"""Stripe webhooks from the emulator: each event POSTed on its own to the endpoint, signed as Stripe signs
(`Stripe-Signature: t=…,v1=hex HMAC-SHA256(whsec, "t.body")`, docs.stripe.com/webhooks#verify-manually),
filtered by the endpoint's enabled events, retried until a 2xx. Signatures are checked here with hmac
directly, from the published formula."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import pytest

from tests.sandbox.stripe_fixtures import StripeAccount
from tests.support.stripe_receiver import Delivery, StripeWebhookReceiver


@pytest.fixture
def receiver() -> Iterator[StripeWebhookReceiver]:
    receiver = StripeWebhookReceiver()
    yield receiver
    receiver.close()


def _signed_by(secret: str, delivery: Delivery) -> bool:
    parts = dict(item.split("=", 1) for item in delivery.headers["stripe-signature"].split(","))
    expected = hmac.new(
        secret.encode(), f"{parts['t']}.".encode() + delivery.body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) < 60


def _events(receiver: StripeWebhookReceiver, count: int) -> list[dict]:
    deliveries = receiver.wait_for(lambda ds: sum(d.status == 200 for d in ds) >= count)
    return [json.loads(d.body) for d in deliveries if d.status == 200]


def test_changes_are_delivered_as_signed_events(
    stripe_account: StripeAccount, receiver: StripeWebhookReceiver
) -> None:
    endpoint = stripe_account.act("/webhook_endpoints", url=receiver.url)
    assert endpoint["secret"].startswith("whsec_") and endpoint["enabled_events"] == ["*"]
    customer = stripe_account.act("/customers", name="Webhook Works LLC", email="ap@webhookworks.example")
    paid = stripe_account.act(
        "/payments", amount=125_000, currency="usd", customer=customer["id"], description="Retainer"
    )
    stripe_account.act("/refunds", charge=paid["charge"]["id"], amount=25_000)
    stripe_account.act(f"/customers/{customer['id']}", email="billing@webhookworks.example")
    stripe_account.act("/invoices/paid", customer=customer["id"], amount=50_000, currency="usd")
    events = _events(receiver, 9)
    assert [e["type"] for e in events] == [
        "customer.created",
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "charge.refunded",
        "refund.created",
        "customer.updated",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    by_type = {e["type"]: e for e in events}
    for delivery in receiver.deliveries:
        assert _signed_by(endpoint["secret"], delivery)
        assert delivery.headers["content-type"].startswith("application/json")
    refunded = by_type["charge.refunded"]["data"]
    assert (refunded["object"]["amount_refunded"], refunded["previous_attributes"]) == (
        25_000,
        {"amount_refunded": 0, "refunded": False},
    )
    updated = by_type["customer.updated"]["data"]
    assert updated["previous_attributes"] == {"email": "ap@webhookworks.example"}
    assert by_type["invoice.payment_succeeded"]["data"]["object"]["amount_paid"] == 50_000
    # What was delivered is what the events API lists.
    listed = {
        e["id"]: e["type"] for e in stripe_account.walk("events", **{"created[gte]": customer["created"]})
    }
    assert {e["id"]: e["type"] for e in events}.items() <= listed.items()


def test_enabled_events_filter_and_failed_deliveries_are_retried(
    stripe_account: StripeAccount, receiver: StripeWebhookReceiver
) -> None:
    answers = iter([500, 200])
    receiver.answer = lambda body, headers: next(answers, 200)
    endpoint = stripe_account.act(
        "/webhook_endpoints", url=receiver.url, enabled_events=["customer.deleted"], secret="whsec_test_fixed"
    )
    victim = stripe_account.walk("customers")[0]
    stripe_account.act("/customers", name="Not wanted")  # customer.created: not enabled
    stripe_account.client.delete(
        f"/stripe/v1/customers/{victim['id']}", headers=stripe_account.headers
    ).raise_for_status()
    deliveries = receiver.wait_for(lambda ds: any(d.status == 200 for d in ds))
    assert [d.status for d in deliveries] == [500, 200]
    first, retry = (json.loads(d.body) for d in deliveries)
    assert first["id"] == retry["id"] and first["type"] == "customer.deleted"
    assert all(_signed_by("whsec_test_fixed", d) for d in deliveries)
    state = _settled(stripe_account, endpoint["id"])
    assert (state["delivered_events"], state["failed_attempts"], state["pending_events"]) == (1, 1, 0)
    assert stripe_account.ok(f"events/{first['id']}")["pending_webhooks"] == 0


def _settled(stripe_account: StripeAccount, endpoint_id: str, timeout: float = 5.0) -> dict:
    """The endpoint's state once nothing is queued (the hub books a delivery just after the answer)."""
    deadline = time.monotonic() + timeout
    while True:
        state = stripe_account.client.get(f"/stripe/_sandbox/webhook_endpoints/{endpoint_id}").json()
        if state["pending_events"] == 0 or time.monotonic() > deadline:
            return state
        time.sleep(0.02)
