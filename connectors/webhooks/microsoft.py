"""Microsoft Graph change notifications: the `validationToken` handshake and `clientState`.

Procedure, as Microsoft documents it ("Receive change notifications through webhooks",
https://learn.microsoft.com/graph/change-notifications-delivery-webhooks):

1. Creating a subscription, Graph POSTs to the notificationUrl with `?validationToken=<token>` and no
   notification. The endpoint must answer within 10 seconds with 200 OK, `Content-Type: text/plain` and the
   URL-decoded token as the body; otherwise the subscription is not created. The request carries nothing
   to verify — it proves only that the endpoint is reachable and willing — so it is answered before any
   check (and never stored).
2. Every notification then arrives as `{"value": [{"subscriptionId", "changeType", "resource",
   "resourceData", "clientState", "tenantId", ...}]}`. Graph does not sign basic notifications: the
   `clientState` the app chose when subscribing (up to 128 characters) is what authenticates them, so each
   one's must equal the connection's secret (constant time); one that does not rejects the whole delivery
   (401, nothing stored). Graph expects 202 Accepted within 3 seconds.

Notifications carry no id and Graph may redeliver; the body hash is the event id. They name the mailbox by
object id, not by address, so the per-connection URL (`/webhooks/microsoft_calendar/{connection_id}`) is the
one to subscribe with.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectors.webhooks.base import (
    Reply,
    SignatureError,
    WebhookEvent,
    WebhookKey,
    WebhookRequest,
    WebhookVerifier,
    json_event,
    matches_any,
)

ACCEPTED = Reply(202, b"", None)
MAX_TOKEN = 1024  # Graph's tokens are short; anything longer is not Graph's


def _notifications(payload: Any) -> list[Any]:
    value = payload.get("value") if isinstance(payload, dict) else None
    return value if isinstance(value, list) else []


def validation_token(request: WebhookRequest) -> str | None:
    """The `validationToken` query parameter (URL-decoded), when this is Graph's validation request."""
    tokens = parse_qs(urlsplit(request.url).query, keep_blank_values=True).get("validationToken")
    if not tokens or not tokens[0] or len(tokens[0]) > MAX_TOKEN:
        return None
    return tokens[0]


class MicrosoftGraphVerifier(WebhookVerifier):
    provider = "microsoft_calendar"
    key_field = "webhook_client_state"
    reply = ACCEPTED

    def challenge(self, request: WebhookRequest) -> Reply | None:
        token = validation_token(request)
        if token is None or request.body.strip():
            return None
        return Reply(200, token.encode("utf-8"), "text/plain")

    def verify(self, request: WebhookRequest, key: WebhookKey, *, now: float, tolerance: int) -> None:
        notifications = _notifications(request.json())
        if not notifications:
            raise SignatureError("no notifications in the body")
        for notification in notifications:
            state = notification.get("clientState") if isinstance(notification, dict) else None
            if not isinstance(state, str) or not matches_any(key.secret, [state]):
                raise SignatureError("a notification's clientState does not match")

    def parse(self, request: WebhookRequest) -> WebhookEvent:
        notifications = [n for n in _notifications(request.json()) if isinstance(n, dict)]
        kinds = sorted({str(n.get("changeType")) for n in notifications if n.get("changeType")})
        return json_event(request, None, f"event.{'+'.join(kinds)}" if kinds else None)
