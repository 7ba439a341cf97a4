"""Square: the `x-square-hmacsha256-signature` header.

Procedure, as Square documents it ("Validate that the notification is from Square",
https://developer.squareup.com/docs/webhooks/step3validate; the same in Square's Ruby SDK,
`Square::WebhooksHelper.is_valid_webhook_event_signature`,
https://www.rubydoc.info/gems/square.rb/37.0.0.20240417/Square/WebhooksHelper):

1. Concatenate the notification URL — exactly as registered in the subscription — and the raw body.
2. HMAC-SHA256 of that string keyed with the subscription's signature key, base64-encoded.
3. Compare it (constant time) with `x-square-hmacsha256-signature`.

Square signs the URL it was given, which a proxy may rewrite: a connection can pin it in its
`notification_url` config field; otherwise the URL the request arrived on is used.
The event id is the body's `event_id` (kept on retries), the type its `type`, the account its `merchant_id`.
"""

from __future__ import annotations

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

HEADER = "x-square-hmacsha256-signature"


class SquareVerifier(WebhookVerifier):
    provider = "square"
    key_field = "webhook_signature_key"
    url_field = "notification_url"
    stored_headers = ("square-environment", "square-retry-number", "square-retry-reason")

    def account_hints(self, request: WebhookRequest) -> tuple[str, ...]:
        return distinct([string_at(request.json(), "merchant_id")])

    def verify(self, request: WebhookRequest, key: WebhookKey, *, now: float, tolerance: int) -> None:
        signature = require_header(request, HEADER)
        url = key.url or request.url
        expected = hmac_base64(key.secret, url.encode("utf-8") + request.body)
        if not matches_any(expected, [signature]):
            raise SignatureError(f"{HEADER} does not match the notification URL and body")

    def parse(self, request: WebhookRequest) -> WebhookEvent:
        payload = request.json()
        return json_event(request, string_at(payload, "event_id"), string_at(payload, "type"))
