"""Xero: the `x-xero-signature` header and the "intent to receive" handshake.

Procedure, as Xero documents it ("Configuring your server",
https://developer.xero.com/documentation/webhooks/configuring-your-server, now under
https://developer.xero.com/documentation/guides/webhooks/configuring-your-server/):

1. HMAC-SHA256 of the raw body keyed with the app's webhook key, base64-encoded.
2. Compare it (constant time) with `x-xero-signature`.
3. Answer 200 with *no body* (and no cookies) within 5 seconds for a correctly signed payload, and
   401 for an incorrectly signed one. "Intent to receive" is exactly this test: Xero posts
   `{"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": "..."}`, some signed
   correctly and some not, and enables the webhook only if every answer is right.

Xero events carry no id; a redelivery repeats the same body, so the body hash is the id. Each event names
its organisation as `tenantId`; the type is `<eventCategory>.<eventType>` (e.g. `INVOICE.UPDATE`).
"""

from __future__ import annotations

from typing import Any

from connectors.webhooks.base import (
    Reply,
    SignatureError,
    WebhookEvent,
    WebhookKey,
    WebhookRequest,
    WebhookVerifier,
    distinct,
    hmac_base64,
    json_event,
    matches_any,
    require_header,
    string_at,
)

HEADER = "x-xero-signature"
EMPTY_OK = Reply(200, b"", None)


def _events(payload: Any) -> list[Any]:
    events = payload.get("events") if isinstance(payload, dict) else None
    return events if isinstance(events, list) else []


class XeroVerifier(WebhookVerifier):
    provider = "xero"
    key_field = "webhook_key"
    reply = EMPTY_OK

    def account_hints(self, request: WebhookRequest) -> tuple[str, ...]:
        return distinct(string_at(event, "tenantId") for event in _events(request.json()))

    def verify(self, request: WebhookRequest, key: WebhookKey, *, now: float, tolerance: int) -> None:
        signature = require_header(request, HEADER)
        if not matches_any(hmac_base64(key.secret, request.body), [signature]):
            raise SignatureError(f"{HEADER} does not match the body")

    def handshake(self, request: WebhookRequest) -> Reply | None:
        payload = request.json()
        if isinstance(payload, dict) and not _events(payload):
            return EMPTY_OK  # intent to receive: a correctly signed payload with no events
        return None

    def parse(self, request: WebhookRequest) -> WebhookEvent:
        events = [e for e in _events(request.json()) if isinstance(e, dict)]
        if len(events) == 1:
            kind = f"{events[0].get('eventCategory')}.{events[0].get('eventType')}"
        else:
            kind = "events.batch"
        return json_event(request, None, kind)
