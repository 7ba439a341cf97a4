"""QuickBooks Online (Intuit): the `intuit-signature` header.

Procedure, as Intuit documents it ("Webhooks", https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks,
and "Configure webhooks", https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks/configure-webhooks):

1. HMAC-SHA256 of the raw body keyed with the app's webhook verifier token (developer portal), base64-encoded.
2. Compare it (constant time) with `intuit-signature`.

Two payload shapes are accepted, since Intuit is moving apps from one to the other
(https://blogs.intuit.com/2025/11/12/upcoming-change-to-webhooks-payload-structure/,
https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks/data-objects):
- legacy: `{"eventNotifications": [{"realmId": ..., "dataChangeEvent": {"entities": [...]}}]}` — no event id,
  so the body hash is the id;
- CloudEvents: `[{"specversion": "1.0", "id": ..., "type": "qbo.customer.created.v1",
  "intuitaccountid": ...}]` — a single event's `id` is the id.
The account is the company (realm): `realmId`, or `intuitaccountid` in CloudEvents.
"""

from __future__ import annotations

from typing import Any

from connectors.webhooks.base import (
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

HEADER = "intuit-signature"


def _notifications(payload: Any) -> list[Any]:
    if isinstance(payload, dict) and isinstance(payload.get("eventNotifications"), list):
        return payload["eventNotifications"]
    return []


def _entities(payload: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for notification in _notifications(payload):
        change = notification.get("dataChangeEvent") if isinstance(notification, dict) else None
        entities = change.get("entities") if isinstance(change, dict) else None
        out.extend(e for e in entities or [] if isinstance(e, dict))
    return out


class QuickBooksVerifier(WebhookVerifier):
    provider = "quickbooks"
    key_field = "webhook_verifier_token"

    def account_hints(self, request: WebhookRequest) -> tuple[str, ...]:
        payload = request.json()
        if isinstance(payload, list):
            return distinct(string_at(event, "intuitaccountid") for event in payload)
        return distinct(string_at(n, "realmId") for n in _notifications(payload))

    def verify(self, request: WebhookRequest, key: WebhookKey, *, now: float, tolerance: int) -> None:
        signature = require_header(request, HEADER)
        if not matches_any(hmac_base64(key.secret, request.body), [signature]):
            raise SignatureError(f"{HEADER} does not match the body")

    def parse(self, request: WebhookRequest) -> WebhookEvent:
        payload = request.json()
        if isinstance(payload, list):
            if len(payload) == 1:
                return json_event(request, string_at(payload[0], "id"), string_at(payload[0], "type"))
            return json_event(request, None, "cloudevents.batch")
        entities = _entities(payload)
        if len(entities) == 1:
            kind = f"{entities[0].get('name')}.{entities[0].get('operation')}"
        else:
            kind = "dataChangeEvent" if entities else None
        return json_event(request, None, kind)
