"""Slash commands: verify Slack's signature and read the command.

Slack signs every request ("Verifying requests from Slack",
https://api.slack.com/authentication/verifying-requests-from-slack): `X-Slack-Signature` is `v0=` and the
hex HMAC-SHA256, keyed with the app's signing secret, of `v0:{X-Slack-Request-Timestamp}:{raw body}`;
requests whose timestamp is more than five minutes from now are refused as replays. slack-sdk's
`SignatureVerifier` does both; this module only gives it the caller's clock and says which check failed.
The body is form-encoded ("Implementing slash commands", https://api.slack.com/interactivity/slash-commands).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from time import time
from urllib.parse import parse_qsl

from slack_sdk.signature import Clock, SignatureVerifier

from connectors.webhooks.base import SignatureError

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
TOLERANCE_SECONDS = 5 * 60


@dataclass(frozen=True)
class SlashCommand:
    command: str
    text: str
    team_id: str
    user_id: str
    user_name: str
    channel_id: str
    response_url: str
    trigger_id: str
    api_app_id: str
    fields: dict[str, str] = field(repr=False)


class _FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def _seconds(now: datetime | float | None) -> float:
    if now is None:
        return time()
    return now.timestamp() if isinstance(now, datetime) else float(now)


def verify_slash_command(
    signing_secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime | float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> SlashCommand:
    """The command in a request Slack signed, or SignatureError (message safe to log). `tolerance`: how
    far (seconds) the signed timestamp may be from now."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER.lower())
    signature = lowered.get(SIGNATURE_HEADER.lower())
    if not timestamp or not signature:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER}")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} is not a Unix time") from None
    current = _seconds(now)
    if abs(current - sent_at) > tolerance:
        span = "five minutes" if tolerance == TOLERANCE_SECONDS else f"{tolerance} seconds"
        raise SignatureError(f"{TIMESTAMP_HEADER} is more than {span} from now (a replay?)")
    # The window was checked above (it may be set wider or narrower than the SDK's fixed five minutes):
    # the SDK's clock stands at the signed time, so it only compares the HMAC.
    verifier = SignatureVerifier(signing_secret, clock=_FixedClock(float(sent_at)))
    if not verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the timestamp and body")
    fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if not fields.get("command"):
        raise SignatureError("signed, but not a slash command (no `command` field)")
    return SlashCommand(
        command=fields["command"],
        text=fields.get("text", ""),
        team_id=fields.get("team_id", ""),
        user_id=fields.get("user_id", ""),
        user_name=fields.get("user_name", ""),
        channel_id=fields.get("channel_id", ""),
        response_url=fields.get("response_url", ""),
        trigger_id=fields.get("trigger_id", ""),
        api_app_id=fields.get("api_app_id", ""),
        fields=fields,
    )
