"""Slack Web API client over slack-sdk's `WebClient`: notifications, channel listing, slash-command
verification.

Retries: slack-sdk's `RateLimitErrorRetryHandler` sleeps for the 429's `Retry-After` (Slack's rate
limits: https://api.slack.com/docs/rate-limits) and tries again, up to `max_rate_limit_retries` times;
connection errors and 5xx get a few tries with backoff from the SDK's other handlers. What is left is
mapped onto `connectors.base` errors: revoked or invalid tokens → AuthError (the connection needs a new
install), 429 after the retries → RateLimitedError, 5xx and network → TransientError, other
`"ok": false` answers → PermanentError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from connectors.base import (
    AuthError,
    PermanentError,
    RateLimitedError,
    TokenSet,
    TransientError,
    parse_retry_after,
)
from connectors.slack.config import SlackConfig, SlackCredentials
from connectors.slack.signature import SlashCommand, verify_slash_command

PROVIDER = "slack"
STREAMS: tuple[str, ...] = ()  # nothing is synced from Slack: it is where firmsync reports
# Errors that mean the token no longer works, whatever is retried (https://api.slack.com/methods, "Errors").
AUTH_ERRORS = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "team_access_not_granted",
        "ekm_access_denied",
        # oauth.v2.access refusing the grant (a used or expired code, the wrong app credentials)
        "invalid_code",
        "bad_client_secret",
        "invalid_client_id",
    }
)
DEFAULT_PAGE_SIZE = 200  # Slack recommends no more than 200 results at a time
T = TypeVar("T")


def web_api_url(api_base_url: str) -> str:
    """WebClient joins method names onto its base URL, which must end with a slash."""
    return api_base_url.rstrip("/") + "/"


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value[0] if isinstance(value, list | tuple) else str(value)
    return None


# chat.postMessage refusals no retry fixes until the firm picks another channel or invites the bot.
CHANNEL_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived"})


def error_code(error: Exception) -> str | None:
    """Slack's `error` code behind a mapped error (`map_error` keeps it), e.g. `channel_not_found`."""
    return getattr(error, "slack_error", None)


def map_error(method: str, error: Exception) -> Exception:
    """A slack-sdk failure as a connectors.base error (messages never carry the token)."""
    mapped = _map_error(method, error)
    if isinstance(error, SlackApiError) and isinstance(error.response.data, dict):
        mapped.slack_error = error.response.get("error")  # type: ignore[attr-defined]
    return mapped


def _map_error(method: str, error: Exception) -> Exception:
    if isinstance(error, SlackApiError):
        status = error.response.status_code
        code = error.response.get("error") if isinstance(error.response.data, dict) else None
        if status == 429 or code == "ratelimited":
            retry_after = parse_retry_after(_header(error.response.headers, "Retry-After"))
            return RateLimitedError(PROVIDER, f"{method}: rate limited", retry_after=retry_after)
        if status >= 500:
            return TransientError(PROVIDER, f"{method}: HTTP {status}", status_code=status)
        if code in AUTH_ERRORS:
            return AuthError(PROVIDER, f"{method}: {code}", status_code=status)
        return PermanentError(PROVIDER, f"{method}: {code or f'HTTP {status}'}", status_code=status)
    return TransientError(PROVIDER, f"{method}: {type(error).__name__}")


def make_web_client(
    api_base_url: str, token: str | None, *, timeout: int = 30, max_rate_limit_retries: int = 10
) -> WebClient:
    return WebClient(
        token=token,
        base_url=web_api_url(api_base_url),
        timeout=timeout,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=max_rate_limit_retries),
            ConnectionErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def calling(method: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except (SlackApiError, SlackClientError, URLError, TimeoutError, ConnectionError) as error:
        raise map_error(method, error) from None


class SlackClient:
    """One workspace's bot. Built by the registry as `SlackClient(config, credentials, on_tokens=…)`;
    Slack bot tokens do not rotate, so `on_tokens` is never called."""

    def __init__(
        self,
        config: SlackConfig,
        credentials: SlackCredentials,
        *,
        on_tokens: Callable[[TokenSet], None] | None = None,
        timeout: int = 30,
        max_rate_limit_retries: int = 10,
    ) -> None:
        self.config = config
        self._signing_secret = credentials.signing_secret
        token = credentials.bot_token.get_secret_value() if credentials.bot_token else None
        self._web = make_web_client(
            config.api_base_url, token, timeout=timeout, max_rate_limit_retries=max_rate_limit_retries
        )
        self._has_token = token is not None

    def _call(self, method: str, call: Callable[[WebClient], Any]) -> dict[str, Any]:
        if not self._has_token:
            raise AuthError(PROVIDER, f"{method}: the connection has no bot token (install the app)")
        response = calling(method, lambda: call(self._web))
        return dict(response.data) if isinstance(response.data, dict) else {}

    def auth_test(self) -> dict[str, Any]:
        """Who the token is (team, bot user): checks a connection works."""
        return self._call("auth.test", lambda web: web.auth_test())

    def post_notification(
        self, text: str, blocks: Sequence[Mapping[str, Any]] | None = None, *, channel: str | None = None
    ) -> dict[str, Any]:
        """Post to the configured channel (or `channel`). `text` is the notification and screen-reader
        fallback when `blocks` are given. Returns `{channel, ts, message}` as Slack answers."""
        target = channel or self.config.channel
        if not target:
            raise PermanentError(PROVIDER, "chat.postMessage: no channel configured for notifications")
        kwargs: dict[str, Any] = {"channel": target, "text": text}
        if blocks:
            kwargs["blocks"] = [dict(block) for block in blocks]
        return self._call("chat.postMessage", lambda web: web.chat_postMessage(**kwargs))

    def channels(
        self,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        types: str = "public_channel,private_channel",
        exclude_archived: bool = True,
    ) -> Iterator[dict[str, Any]]:
        """Every channel the token can see, page by page (`response_metadata.next_cursor`)."""
        cursor: str | None = None
        while True:
            page = self._call(
                "conversations.list",
                lambda web, cursor=cursor: web.conversations_list(
                    limit=page_size, types=types, exclude_archived=exclude_archived, cursor=cursor
                ),
            )
            yield from page.get("channels") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return

    def channel_info(self, channel_id: str) -> dict[str, Any]:
        return self._call("conversations.info", lambda web: web.conversations_info(channel=channel_id))[
            "channel"
        ]

    def verify_slash_command(
        self, headers: Mapping[str, str], body: bytes, now: datetime | float | None = None
    ) -> SlashCommand:
        """A slash-command request checked against this connection's signing secret (see `signature`)."""
        return verify_slash_command(self._signing_secret.get_secret_value(), headers, body, now=now)
