"""Slack: the v0 `X-Slack-Signature` and the Events API `url_verification` challenge.

Procedure, as Slack documents it ("Verifying requests from Slack",
https://api.slack.com/authentication/verifying-requests-from-slack, now
https://docs.slack.dev/authentication/verifying-requests-from-slack):

1. Read `X-Slack-Request-Timestamp`; reject it when it is more than five minutes from now (replays).
2. `sig_basestring = "v0:" + timestamp + ":" + raw body`.
3. HMAC-SHA256 of it keyed with the app's signing secret, hex-encoded, prefixed `v0=`.
4. Compare (constant time) with `X-Slack-Signature`.

`url_verification` ("url_verification event", https://api.slack.com/events/url_verification): when an
Events API request URL is saved Slack posts `{"type": "url_verification", "challenge": ...}`; the app
answers with the challenge. It is signed like every request, so the echo happens only after verification.
Slash commands' `ssl_check=1` pings are answered 200 and not stored either.

The event id is the Events API `event_id` (kept on retries, with `X-Slack-Retry-Num` set); interactive
and slash-command form posts carry none, so they use the body hash. The account is the workspace:
`team_id` (or `team.id` in interactive payloads).
"""

from __future__ import annotations

import json
from typing import Any

from connectors.webhooks.base import (
    Reply,
    SignatureError,
    WebhookEvent,
    WebhookKey,
    WebhookRequest,
    WebhookVerifier,
    check_timestamp,
    distinct,
    form_event,
    hmac_hex,
    json_event,
    matches_any,
    require_header,
    string_at,
)

SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"


def _interactive(request: WebhookRequest) -> Any:
    """The JSON `payload` field of an interactive form post, if any."""
    for name, value in request.form() or []:
        if name == "payload":
            try:
                return json.loads(value)
            except ValueError:
                return None
    return None


class SlackVerifier(WebhookVerifier):
    provider = "slack"
    key_field = "signing_secret"
    stored_headers = ("x-slack-request-timestamp", "x-slack-retry-num", "x-slack-retry-reason")

    def account_hints(self, request: WebhookRequest) -> tuple[str, ...]:
        form = request.form()
        if form is not None:
            fields = dict(form)
            return distinct([fields.get("team_id"), string_at(_interactive(request), "team", "id")])
        return distinct([string_at(request.json(), "team_id")])

    def verify(self, request: WebhookRequest, key: WebhookKey, *, now: float, tolerance: int) -> None:
        timestamp = require_header(request, TIMESTAMP_HEADER)
        signature = require_header(request, SIGNATURE_HEADER)
        base = b"v0:" + timestamp.encode("ascii", "replace") + b":" + request.body
        if not matches_any("v0=" + hmac_hex(key.secret, base), [signature]):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match the timestamp and body")
        check_timestamp(timestamp, now=now, tolerance=tolerance, header=TIMESTAMP_HEADER)

    def handshake(self, request: WebhookRequest) -> Reply | None:
        form = request.form()
        if form is not None:
            return Reply(200, b"", None) if dict(form).get("ssl_check") == "1" else None
        payload = request.json()
        if string_at(payload, "type") == "url_verification":
            challenge = string_at(payload, "challenge") or ""
            return Reply(200, json.dumps({"challenge": challenge}).encode(), "application/json")
        return None

    def parse(self, request: WebhookRequest) -> WebhookEvent:
        form = request.form()
        if form is not None:
            fields = dict(form)
            interactive = _interactive(request)
            if interactive is not None:
                kind = string_at(interactive, "type")
            elif fields.get("command"):
                kind = "slash_command"
            else:
                kind = None
            return form_event(request, None, kind)
        payload = request.json()
        kind = string_at(payload, "event", "type") or string_at(payload, "type")
        return json_event(request, string_at(payload, "event_id"), kind)
