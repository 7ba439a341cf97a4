"""Verifying a Stripe webhook delivery with the SDK (`stripe.Webhook.construct_event`: the
`Stripe-Signature` scheme of docs.stripe.com/webhooks#verify-manually, timestamp tolerance included).

The API's webhook intake verifies through `connectors.webhooks.stripe.StripeVerifier`, which implements
the same published procedure with an injectable clock; this function is for code that holds one raw
delivery and wants the event, and the tests hold the two to the same verdicts.
"""

from __future__ import annotations

import json
from typing import Any

import stripe

from connectors.webhooks.base import SignatureError

DEFAULT_TOLERANCE = 300  # seconds, as Stripe's libraries default


def construct_event(
    payload: bytes, signature_header: str | None, secret: str, tolerance: int = DEFAULT_TOLERANCE
) -> dict[str, Any]:
    """The event of a delivery signed with `secret` (`whsec_...`), as raw JSON; SignatureError otherwise."""
    try:
        stripe.Webhook.construct_event(payload, signature_header, secret, tolerance)
    except stripe.SignatureVerificationError as error:
        raise SignatureError(f"Stripe-Signature rejected: {error.user_message or error}") from None
    except ValueError as error:  # the signature matched but the body is not JSON
        raise SignatureError(f"signed body is not an event: {error}") from None
    event = json.loads(payload)
    if not isinstance(event, dict) or event.get("object") != "event":
        raise SignatureError("signed body is not a Stripe event")
    return event
