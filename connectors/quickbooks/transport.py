"""The HTTP layer under python-quickbooks and intuit-oauth: every request metered by the token bucket,
given a timeout, and its failures turned into the typed errors of `connectors.base`.

- The SDK's requests-oauthlib session refuses plain-http URLs and logs the bearer token at DEBUG, and
  the SDK turns 429/5xx answers into generic exceptions that drop the status code and Retry-After. The
  SDK sends every request through `QuickBooks.session.request(...)` and reads only
  `session.access_token`, so the client installs `ApiSession` there, which meters, times out and
  classifies responses before the SDK parses them.
- intuit-oauth's AuthClient fetches its discovery document in its constructor and sends no timeout;
  `MeteredAuthClient` adds the timeout and the bucket.
"""

from __future__ import annotations

from typing import Any

import requests
from intuitlib.client import AuthClient
from intuitlib.exceptions import AuthClientError
from quickbooks.exceptions import QuickbooksException

from connectors.base import (
    AuthError,
    ConnectorError,
    PermanentError,
    RateLimitedError,
    TokenBucket,
    TransientError,
    parse_retry_after,
)

PROVIDER = "quickbooks"

# Intuit's fault codes with a meaning of their own (developer.intuit.com, "Error codes").
STALE_OBJECT = 5010  # "Stale Object Error": the SyncToken sent is not the current one


class AccessTokenRejected(AuthError):
    """401 from the Accounting API: refresh once and try again before giving up."""


class QuickBooksFault(PermanentError):
    """A fault QuickBooks answered with (validation 2xxx/6xxx, not found 610…): retrying will not help.

    `message` carries Intuit's own Message and Detail, which is what an operator needs to fix the
    record; `code` is Intuit's fault code.
    """

    def __init__(self, code: int, message: str, detail: str = "", *, status_code: int | None = None) -> None:
        text = f"QuickBooks fault {code}: {message}" + (f". {detail}" if detail else "")
        super().__init__(PROVIDER, text, status_code=status_code)
        self.code = code
        self.vendor_message = message
        self.detail = detail


def raise_for_transport(error: requests.RequestException) -> None:
    if isinstance(error, requests.Timeout):
        raise TransientError(PROVIDER, "request timed out") from error
    if isinstance(error, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        raise TransientError(PROVIDER, f"connection failed ({type(error).__name__})") from error
    raise PermanentError(PROVIDER, f"request could not be sent ({type(error).__name__})") from error


def raise_for_status(response: requests.Response, *, what: str) -> None:
    status = response.status_code
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise RateLimitedError(PROVIDER, f"{what} rate limited (429)", retry_after=retry_after)
    if status >= 500:
        raise TransientError(PROVIDER, f"{what} failed with HTTP {status}", status_code=status)


class ApiSession(requests.Session):
    """The session python-quickbooks sends Accounting API requests through.

    It adds the timeout and the token bucket, and turns 401/429/5xx and transport failures into
    typed errors before the SDK sees them; 2xx and other 4xx pass through for the SDK to parse.
    """

    def __init__(self, *, bucket: TokenBucket, timeout: float) -> None:
        super().__init__()
        self.access_token: str | None = None  # the SDK builds `Authorization: Bearer` from this
        self._bucket = bucket
        self._timeout = timeout

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self._timeout)
        self._bucket.acquire()
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.RequestException as error:
            raise_for_transport(error)
            raise  # unreachable: keeps type checkers content
        if response.status_code == 401:
            raise AccessTokenRejected(PROVIDER, "access token rejected (401)", status_code=401)
        raise_for_status(response, what="QuickBooks API request")
        return response

    def __repr__(self) -> str:
        return "<ApiSession>"


class MeteredAuthClient(AuthClient):
    """intuit-oauth's AuthClient (itself a requests.Session) with a timeout and the token bucket."""

    def __init__(self, *, bucket: TokenBucket, timeout: float, **kwargs: Any) -> None:
        # Set before AuthClient.__init__, which already fetches the discovery document.
        self._bucket = bucket
        self._timeout = timeout
        super().__init__(**kwargs)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self._timeout)
        self._bucket.acquire()
        return super().request(method, url, *args, **kwargs)

    def __repr__(self) -> str:
        return "<MeteredAuthClient>"


def _oauth_error_code(error: AuthClientError) -> str | None:
    try:
        body = error.response.json()
    except ValueError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    return str(code) if code else None


def map_oauth_error(error: AuthClientError, *, what: str) -> ConnectorError:
    status = error.status_code
    if status == 429:
        retry_after = parse_retry_after(error.headers.get("Retry-After"))
        return RateLimitedError(PROVIDER, f"{what} rate limited (429)", retry_after=retry_after)
    if status >= 500:
        return TransientError(PROVIDER, f"{what} failed with HTTP {status}", status_code=status)
    code = _oauth_error_code(error)
    detail = f"HTTP {status}" + (f", {code}" if code else "")
    if what in ("token refresh", "code exchange") and status in (400, 401):
        # invalid_grant: refresh token revoked/expired/already rotated, or a spent/expired code;
        # invalid_client: bad secret. Either way a person has to connect again.
        return AuthError(
            PROVIDER, f"{what} rejected ({detail}); the connection must be re-authorised", status_code=status
        )
    return PermanentError(PROVIDER, f"{what} failed ({detail})", status_code=status)


def map_sdk_error(error: QuickbooksException) -> ConnectorError:
    """The SDK raises for what `ApiSession` let through: Faults in 2xx/4xx bodies, unreadable JSON."""
    if str(error.message).startswith("Error reading json response"):
        # A truncated or non-JSON body on a successful status: most likely a proxy hiccup.
        return TransientError(PROVIDER, "response body was not valid JSON")
    try:
        code = int(error.error_code)
    except (TypeError, ValueError):
        code = 0
    return QuickBooksFault(code, str(error.message), str(error.detail or "")[:500])
