"""Stripe webhook verification against deliveries the sandbox signs and sends over HTTP: the SDK-backed
`construct_event` and the API intake's `StripeVerifier` accept them and reject any tampering."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from connectors.stripe import construct_event, event_change
from connectors.webhooks import SignatureError, WebhookKey, WebhookRequest, verifier_for
from tests.support.stripe_receiver import Delivery, StripeWebhookReceiver


@pytest.fixture
def delivery(sandbox) -> Iterator[tuple[Delivery, str]]:
    """One real delivery of `customer.created` and the endpoint's signing secret."""
    receiver = StripeWebhookReceiver()
    try:
        account = sandbox.new_stripe_account(customers=1)
        admin = f"{sandbox.stripe}/_sandbox/accounts/{account['account_id']}"
        endpoint = httpx.post(f"{admin}/webhook_endpoints", json={"url": receiver.url}).json()
        httpx.post(f"{admin}/customers", json={"name": "Signed Sealed LLC"}).raise_for_status()
        [first] = receiver.wait_for(lambda ds: len(ds) >= 1)
        yield first, endpoint["secret"]
        httpx.delete(f"{sandbox.stripe}/_sandbox/webhook_endpoints/{endpoint['id']}").raise_for_status()
    finally:
        receiver.close()


def _verify_with_intake(body: bytes, header: str, secret: str) -> None:
    request = WebhookRequest("https://firmsync.example/webhooks/stripe/1", {"Stripe-Signature": header}, body)
    verifier_for("stripe").verify(request, WebhookKey(secret), now=time.time(), tolerance=300)


def test_a_sandbox_signed_event_is_accepted(delivery: tuple[Delivery, str]) -> None:
    received, secret = delivery
    header = received.headers["stripe-signature"]
    event = construct_event(received.body, header, secret)
    assert (event["object"], event["type"]) == ("event", "customer.created")
    assert event["data"]["object"]["name"] == "Signed Sealed LLC"
    change = event_change(event)
    assert change is not None and change.stream == "customers" and not change.deleted
    _verify_with_intake(received.body, header, secret)


def test_tampering_a_wrong_secret_or_a_stale_timestamp_is_rejected(delivery: tuple[Delivery, str]) -> None:
    received, secret = delivery
    header = received.headers["stripe-signature"]
    tampered = received.body.replace(b"Signed Sealed LLC", b"Signed Sealed LLP")
    for body, key in ((tampered, secret), (received.body, "whsec_someone_else")):
        with pytest.raises(SignatureError):
            construct_event(body, header, key)
        with pytest.raises(SignatureError):
            _verify_with_intake(body, header, key)
    with pytest.raises(SignatureError):
        construct_event(received.body, None, secret)
    stale = int(time.time()) - 3600  # correctly signed, an hour ago: a replay
    signature = hmac.new(secret.encode(), f"{stale}.".encode() + received.body, hashlib.sha256).hexdigest()
    with pytest.raises(SignatureError):
        construct_event(received.body, f"t={stale},v1={signature}", secret)
    with pytest.raises(SignatureError, match="tolerance"):
        _verify_with_intake(received.body, f"t={stale},v1={signature}", secret)
    assert (
        construct_event(received.body, f"t={stale},v1={signature}", secret, tolerance=7200)["type"]
        == (json.loads(received.body)["type"])
    )
