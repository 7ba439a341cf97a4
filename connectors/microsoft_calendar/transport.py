"""HTTP as this connector drives it: one requests Session shared by msal and the Graph calls, pinned to the
connection's CA bundle, and Graph's answers turned into the connector's typed errors.

The trust pitfall: `requests` lets the `REQUESTS_CA_BUNDLE` (and `CURL_CA_BUNDLE`) environment variable
override `Session.verify` — `Session.request` merges the environment over the session's own setting whenever
the call itself passes no `verify`, and msal never passes one. A process started with another bundle in its
environment (a corporate proxy's, say) would then refuse, or worse trust, the wrong hosts. `PinnedSession`
therefore passes `verify` explicitly on every request: the connection's bundle (or certifi's store) decides,
whatever the environment says. Verification is never turned off.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from connectors.base import (
    AuthError,
    ConflictError,
    ConnectorError,
    CursorExpiredError,
    PermanentError,
    RateLimitedError,
    TransientError,
    parse_retry_after,
)

PROVIDER = "microsoft_calendar"
# Delta "synchronization reset" codes (learn.microsoft.com/graph/delta-query-overview#synchronization-reset).
_RESYNC_CODES = {
    "syncstatenotfound",
    "syncstateinvalid",
    "resyncrequired",
    "resyncapplydifferences",
    "resyncuploaddifferences",
}


class PinnedSession(requests.Session):
    """A Session whose every request verifies against `ca_bundle` (True: certifi), never the environment's."""

    def __init__(self, ca_bundle: str | None, timeout: float = 30.0) -> None:
        super().__init__()
        self.verify = ca_bundle or True
        self.timeout = timeout  # msal passes none of its own when given a session

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["verify"] = self.verify  # explicit: beats REQUESTS_CA_BUNDLE (see the module docstring)
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


class PreconditionFailed(ConflictError):
    """412: the If-Match change key is stale. The client adds Graph's current copy."""


def _error_code(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        return "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or ""), str(error.get("message") or "")[:300]
    return "", ""


def translate(response: requests.Response) -> ConnectorError:
    """The connector error for one of Graph's error answers (messages never carry credentials)."""
    status = response.status_code
    code, message = _error_code(response)
    text = f"HTTP {status} {code}: {message}".strip()
    if status == 429 or (status == 503 and response.headers.get("Retry-After")):
        return RateLimitedError(
            PROVIDER,
            f"throttled ({status} {code})",
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            status_code=status,
        )
    if status >= 500:
        return TransientError(PROVIDER, text, status_code=status)
    if status == 410 or code.lower() in _RESYNC_CODES:
        return CursorExpiredError(
            PROVIDER, f"delta token no longer valid ({code or status}): full sync needed", status_code=status
        )
    if status == 412:
        return PreconditionFailed(
            PROVIDER, "the event changed in Outlook since it was read (412)", status_code=412
        )
    if status in (401, 403):
        return AuthError(PROVIDER, f"{text}; reconnect the account", status_code=status)
    return PermanentError(PROVIDER, text, status_code=status)


def send(
    session: requests.Session, method: str, url: str, *, timeout: float, **kwargs: Any
) -> requests.Response:
    """One request; network failures become TransientError (the caller retries)."""
    try:
        return session.request(method, url, timeout=timeout, **kwargs)
    except requests.exceptions.SSLError as error:
        # A certificate the configured bundle does not vouch for: retrying will not change that.
        raise PermanentError(PROVIDER, f"TLS verification failed for {url.split('?')[0]}") from error
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
        raise TransientError(PROVIDER, f"connection failed ({type(error).__name__})") from error
    except OSError as error:  # requests' own check of `verify`: the configured CA bundle is not a file
        raise PermanentError(PROVIDER, "the connection's ca_bundle is not a readable file") from error
