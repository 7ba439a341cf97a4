"""Stripe: the `Stripe-Signature` header.

Procedure, as Stripe documents it ("Verify webhook signatures manually",
https://docs.stripe.com/webhooks#verify-manually, formerly
https://stripe.com/docs/webhooks/signatures#verify-manually; the same in stripe-ruby's
`Stripe::Webhook::Signature.compute_signature`, https://www.rubydoc.info/gems/stripe/Stripe/Webhook/Signature):

1. Split the header on `,` into `prefix=value` elements; `t` is the Unix timestamp, every `v1` is a
   signature (there are several while an endpoint secret is being rolled); other schemes (`v0`) are ignored.
2. `signed_payload = "{t}." + raw body`.
3. Expected signature: HMAC-SHA256 of `signed_payload` keyed with the endpoint's signing secret
   (`whsec_...`), hex-encoded. The request is genuine when any `v1` equals it (constant-time compare).
4. Reject a timestamp further than the tolerance from now (Stripe's libraries default to 300 s) as a
   possible replay.

The event id is the event's `id` (`evt_...`; redeliveries keep it), the type its `type`, and the
account its `account` (present on Connect events, which is what the account-routed URL relies on).
"""

from __future__ import annotations

from connectors.webhooks.base import (
    SignatureError,
    WebhookEvent,
    WebhookKey,
    WebhookRequest,
    WebhookVerifier,
    check_timestamp,
    distinct,
    hmac_hex,
    json_event,
    matches_any,
    require_header,
    string_at,
)

HEADER = "Stripe-Signature"


def parse_header(value: str) -> tuple[str | None, list[str]]:
    timestamp: str | None = None
    signatures: list[str] = []
    for element in value.split(","):
        prefix, _, item = element.strip().partition("=")
        if prefix == "t":
            timestamp = item
        elif prefix == "v1" and item:
            signatures.append(item)
    return timestamp, signatures


class StripeVerifier(WebhookVerifier):
    provider = "stripe"
    key_field = "webhook_signing_secret"

    def account_hints(self, request: WebhookRequest) -> tuple[str, ...]:
        return distinct([string_at(request.json(), "account")])

    def verify(self, request: WebhookRequest, key: WebhookKey, *, now: float, tolerance: int) -> None:
        timestamp, signatures = parse_header(require_header(request, HEADER))
        if timestamp is None or not signatures:
            raise SignatureError(f"{HEADER} has no timestamp or no v1 signature")
        expected = hmac_hex(key.secret, timestamp.encode("ascii", "replace") + b"." + request.body)
        if not matches_any(expected, signatures):
            raise SignatureError(f"no v1 signature in {HEADER} matches")
        check_timestamp(timestamp, now=now, tolerance=tolerance, header=f"{HEADER} t")

    def parse(self, request: WebhookRequest) -> WebhookEvent:
        payload = request.json()
        return json_event(request, string_at(payload, "id"), string_at(payload, "type"))
