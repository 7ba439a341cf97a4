"""Twilio: the `X-Twilio-Signature` header.

Procedure, as Twilio documents it ("Secure webhooks",
https://www.twilio.com/docs/usage/webhooks/webhooks-security, and "Validating requests",
https://www.twilio.com/docs/usage/security#validating-requests), matching twilio-python's
`twilio/request_validator.py` (`RequestValidator.validate`):

1. Start from the full URL Twilio requested, query string included.
2. Form-encoded (`application/x-www-form-urlencoded`) bodies: sort the POST parameters by name
   (values of a repeated name sorted too) and append each `name + value` with no delimiters.
3. HMAC-SHA1 of the result keyed with the account's Auth Token, base64-encoded; compare (constant time)
   with `X-Twilio-Signature`. Twilio is inconsistent about an explicit default port, so the URL is tried
   both without and with it, as the official validator does.
4. JSON bodies are not signed parameter by parameter: Twilio adds a `bodySHA256` query parameter (the
   hex SHA-256 of the raw body) to the URL it signs. The body must hash to it, and the signature covers
   the URL alone.

Twilio sends no event id that the signature covers (`I-Twilio-Idempotency-Token` is an unsigned header,
kept with the event but not trusted as its identity), so the id is the hash of the signed body, except
for Event Streams' CloudEvents, whose `id` is used. The account is `AccountSid` (`data.accountSid` in
CloudEvents). A connection may pin the exact URL registered with Twilio in its `webhook_url` config.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from urllib.parse import parse_qs, urlsplit

from connectors.webhooks.base import (
    Reply,
    SignatureError,
    WebhookEvent,
    WebhookKey,
    WebhookRequest,
    WebhookVerifier,
    distinct,
    form_event,
    hmac_base64,
    json_event,
    matches_any,
    require_header,
    string_at,
)

HEADER = "X-Twilio-Signature"
# An empty TwiML document: "received, nothing to say" for messaging and voice webhooks alike.
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def signing_string(url: str, params: list[tuple[str, str]]) -> str:
    grouped: dict[str, list[str]] = defaultdict(list)
    for name, value in params:
        grouped[name].append(value)
    return url + "".join(name + value for name in sorted(grouped) for value in sorted(grouped[name]))


def url_variants(url: str) -> list[str]:
    """The URL without and with its scheme's default port (twilio-python's remove_port / add_port)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # not a valid port: the URL can only be signed as it is
        return [url]
    if port is not None:
        return [parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]).geturl(), url]
    default = 443 if parts.scheme == "https" else 80
    return [url, parts._replace(netloc=f"{parts.netloc}:{default}").geturl()]


class TwilioVerifier(WebhookVerifier):
    provider = "twilio"
    key_field = "auth_token"
    url_field = "webhook_url"
    stored_headers = ("i-twilio-idempotency-token",)
    reply = Reply(200, EMPTY_TWIML, "text/xml")

    def account_hints(self, request: WebhookRequest) -> tuple[str, ...]:
        form = request.form()
        if form is not None:
            return distinct(value for name, value in form if name == "AccountSid")
        payload = request.json()
        events = payload if isinstance(payload, list) else [payload]
        return distinct(
            string_at(event, "AccountSid") or string_at(event, "data", "accountSid") for event in events
        )

    def verify(self, request: WebhookRequest, key: WebhookKey, *, now: float, tolerance: int) -> None:
        signature = require_header(request, HEADER)
        url = key.url or request.url
        body_sha256 = parse_qs(urlsplit(url).query).get("bodySHA256")
        if body_sha256:
            if not matches_any(hashlib.sha256(request.body).hexdigest(), body_sha256[:1]):
                raise SignatureError("the body does not hash to the URL's bodySHA256")
            params: list[tuple[str, str]] = []
        elif request.is_form:
            form = request.form()
            if form is None:
                raise SignatureError("the form body is not UTF-8")
            params = form
        elif request.body.strip():
            raise SignatureError("a non-form body must be signed through the bodySHA256 URL parameter")
        else:
            params = []
        # Both variants are always computed and compared: no early exit on the first.
        results = [
            matches_any(hmac_base64(key.secret, signing_string(u, params).encode(), "sha1"), [signature])
            for u in url_variants(url)
        ]
        if not any(results):
            raise SignatureError(f"{HEADER} does not match the URL and parameters")

    def parse(self, request: WebhookRequest) -> WebhookEvent:
        form = request.form()
        if form is not None:
            fields = dict(form)
            status = next(
                (f"{kind}.{fields[name]}" for name, kind in _STATUS_FIELDS if fields.get(name)), None
            )
            return form_event(request, None, status)
        payload = request.json()
        if isinstance(payload, list) and len(payload) == 1:
            return json_event(request, string_at(payload[0], "id"), string_at(payload[0], "type"))
        return json_event(request, None, string_at(payload, "type"))


_STATUS_FIELDS = (("MessageStatus", "message"), ("SmsStatus", "message"), ("CallStatus", "call"))
