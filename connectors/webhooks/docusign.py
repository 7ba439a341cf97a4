"""DocuSign Connect: the `X-DocuSign-Signature-1` header (HMAC security).

Procedure, as DocuSign documents it ("How to validate an HMAC signature",
https://developers.docusign.com/platform/webhooks/connect/validate; "HMAC security",
https://developers.docusign.com/platform/webhooks/connect/hmac):

1. Take the entire raw body of the POST, line endings included, as bytes.
2. HMAC-SHA256 of it keyed with the Connect HMAC secret key, base64-encoded.
3. Compare (constant time) with the `X-DocuSign-Signature-N` headers: DocuSign sends one per active key
   (`-1`, `-2`, ... up to 100 during key rotation); one match is enough.

DocuSign's JSON SIM messages (https://developers.docusign.com/platform/webhooks/connect/json-sim-event-model)
carry no event id, and a redelivery bumps `retryCount`, so the id is the SHA-256 of the message with
`retryCount` removed (canonical JSON): a retry of the same message dedupes. The type is `event`
(e.g. `envelope-completed`), the account `data.accountId`.
"""

from __future__ import annotations

import hashlib
import json
import re

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
    string_at,
)

HEADER_PATTERN = re.compile(r"^x-docusign-signature-(\d{1,3})$")


def message_identity(payload: object) -> str | None:
    if not isinstance(payload, dict):
        return None
    stable = {k: v for k, v in payload.items() if k != "retryCount"}
    canonical = json.dumps(stable, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("ascii")).hexdigest()


class DocuSignVerifier(WebhookVerifier):
    provider = "docusign"
    key_field = "connect_hmac_key"
    stored_headers = ("x-authorization-digest",)

    def account_hints(self, request: WebhookRequest) -> tuple[str, ...]:
        return distinct([string_at(request.json(), "data", "accountId")])

    def verify(self, request: WebhookRequest, key: WebhookKey, *, now: float, tolerance: int) -> None:
        signatures = [
            value for name, value in request.headers.items() if HEADER_PATTERN.match(name) and value
        ]
        if not signatures:
            raise SignatureError("missing X-DocuSign-Signature-1 header")
        if not matches_any(hmac_base64(key.secret, request.body), signatures):
            raise SignatureError("no X-DocuSign-Signature-N header matches the body")

    def parse(self, request: WebhookRequest) -> WebhookEvent:
        payload = request.json()
        return json_event(request, message_identity(payload), string_at(payload, "event"))
