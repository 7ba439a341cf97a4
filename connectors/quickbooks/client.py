"""QuickBooks Online client: Intuit OAuth through intuit-oauth, the Accounting API through
python-quickbooks, every HTTP call metered by a token bucket and retried by `retrying`.

SDK quirks this module works around (python-quickbooks 0.9.12, intuit-oauth 1.2.6):
- `QuickBooks(auth_client=...)` silently refreshes when the AuthClient has no access token,
  which would rotate the refresh token without telling `on_tokens`; the client therefore does
  every refresh itself and never hands the SDK an AuthClient.
- The SDK's requests-oauthlib session refuses plain-http URLs and logs the bearer token at DEBUG,
  and the SDK turns 429/5xx answers into generic exceptions that drop the status code and
  Retry-After. The SDK sends every request through `QuickBooks.session.request(...)` and reads
  only `session.access_token`, so the client installs its own `requests.Session` there
  (`_ApiSession`), which meters, times out and classifies responses before the SDK parses them.
- The SDK picks `sandbox_api_url_v3` or `api_url_v3` from `auth_client.environment`; both are
  set to `<api_base_url>/v3` on the instance so the configured URL wins either way.
- intuit-oauth's AuthClient fetches its discovery document in its constructor and sends no
  timeout; `_AuthClient` adds the timeout and the bucket, and is only built when a refresh is due.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import requests
from intuitlib.client import AuthClient
from intuitlib.exceptions import AuthClientError
from quickbooks.client import QuickBooks
from quickbooks.exceptions import QuickbooksException

from connectors.base import (
    AuthError,
    CompositeBucket,
    ConnectorError,
    Page,
    PermanentError,
    RateLimitedError,
    RetryPolicy,
    Stream,
    StreamCursor,
    TokenBucket,
    TokenSet,
    TransientError,
    parse_retry_after,
    retrying,
    shared_bucket,
)
from connectors.quickbooks.config import QuickBooksConfig, QuickBooksCredentials

log = logging.getLogger("connectors.quickbooks")

PROVIDER = "quickbooks"
MAX_PAGE_SIZE = 1000  # QBO caps MAXRESULTS at 1000
DEFAULT_RETRY_POLICY = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=60.0, max_retry_after=300.0)
# Refresh this long before the access token's stated expiry so a request never races it.
ACCESS_TOKEN_SKEW = timedelta(minutes=5)
# intuit-oauth wants a redirect URI even though refreshing never uses it.
_UNUSED_REDIRECT_URI = "https://localhost/unused"

T = TypeVar("T")


class _AccessTokenRejected(AuthError):
    """401 from the Accounting API: refresh once and try again before giving up."""


# --------------------------------------------------------------------------- HTTP layer


def _raise_for_transport(error: requests.RequestException) -> None:
    if isinstance(error, requests.Timeout):
        raise TransientError(PROVIDER, "request timed out") from error
    if isinstance(error, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        raise TransientError(PROVIDER, f"connection failed ({type(error).__name__})") from error
    raise PermanentError(PROVIDER, f"request could not be sent ({type(error).__name__})") from error


def _raise_for_status(response: requests.Response, *, what: str) -> None:
    status = response.status_code
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise RateLimitedError(PROVIDER, f"{what} rate limited (429)", retry_after=retry_after)
    if status >= 500:
        raise TransientError(PROVIDER, f"{what} failed with HTTP {status}", status_code=status)


class _ApiSession(requests.Session):
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
            _raise_for_transport(error)
            raise  # unreachable: keeps type checkers content
        if response.status_code == 401:
            raise _AccessTokenRejected(PROVIDER, "access token rejected (401)", status_code=401)
        _raise_for_status(response, what="QuickBooks API request")
        return response

    def __repr__(self) -> str:
        return "<_ApiSession>"


class _AuthClient(AuthClient):
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
        return "<_AuthClient>"


def _oauth_error_code(error: AuthClientError) -> str | None:
    try:
        body = error.response.json()
    except ValueError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    return str(code) if code else None


def _map_oauth_error(error: AuthClientError, *, what: str) -> ConnectorError:
    status = error.status_code
    if status == 429:
        retry_after = parse_retry_after(error.headers.get("Retry-After"))
        return RateLimitedError(PROVIDER, f"{what} rate limited (429)", retry_after=retry_after)
    if status >= 500:
        return TransientError(PROVIDER, f"{what} failed with HTTP {status}", status_code=status)
    code = _oauth_error_code(error)
    detail = f"HTTP {status}" + (f", {code}" if code else "")
    if what == "token refresh" and status in (400, 401):
        # invalid_grant: refresh token revoked/expired/already rotated; invalid_client: bad secret.
        return AuthError(
            PROVIDER, f"{what} rejected ({detail}); the connection must be re-authorised", status_code=status
        )
    return PermanentError(PROVIDER, f"{what} failed ({detail})", status_code=status)


def _map_sdk_error(error: QuickbooksException) -> ConnectorError:
    """The SDK raises for what `_ApiSession` let through: Faults in 2xx/4xx bodies, unreadable JSON."""
    if str(error.message).startswith("Error reading json response"):
        # A truncated or non-JSON body on a successful status: most likely a proxy hiccup.
        return TransientError(PROVIDER, "response body was not valid JSON")
    detail = str(error.detail or "")[:300]
    return PermanentError(PROVIDER, f"QuickBooks fault {error.error_code}: {error.message}. {detail}".strip())


# --------------------------------------------------------------------------- client


class QuickBooksClient:
    """One QuickBooks Online company (realm), read through the official SDKs.

    `on_tokens` receives every rotated `TokenSet` right after a refresh and before the new access
    token is used; Intuit invalidates the previous refresh token, so the caller must persist it
    (under a row lock) or lose the connection.
    """

    provider = PROVIDER

    def __init__(
        self,
        config: QuickBooksConfig,
        credentials: QuickBooksCredentials,
        *,
        on_tokens: Callable[[TokenSet], None],
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        bucket: TokenBucket | None = None,
        vendor_bucket: TokenBucket | None = None,
        timeout: float = 30.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._client_secret = credentials.client_secret.get_secret_value()
        self._refresh_token = credentials.refresh_token.get_secret_value()
        self._access_token = credentials.access_token.get_secret_value() if credentials.access_token else None
        self._access_expires_at = credentials.access_token_expires_at
        self._on_tokens = on_tokens
        self._policy = retry_policy
        self._timeout = timeout
        self._now = now
        self._bucket = bucket or shared_bucket(
            f"{PROVIDER}:{config.api_base_url}:{config.realm_id}",
            lambda: TokenBucket.per_minute(config.requests_per_minute),
        )
        if vendor_bucket is not None:  # per connection (realm) AND per vendor (all of this app's realms)
            self._bucket = CompositeBucket(self._bucket, vendor_bucket)
        self._session = _ApiSession(bucket=self._bucket, timeout=timeout)
        self._auth_client: _AuthClient | None = None
        self._sdk: QuickBooks | None = None
        self._token_lock = threading.RLock()

    def __repr__(self) -> str:
        return (
            f"QuickBooksClient(realm_id={self.config.realm_id!r}, api_base_url={self.config.api_base_url!r})"
        )

    # ---- lifecycle

    def close(self) -> None:
        self._session.close()
        if self._auth_client is not None:
            self._auth_client.close()

    def __enter__(self) -> QuickBooksClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- tokens

    def _access_token_usable(self) -> bool:
        if not self._access_token:
            return False
        if self._access_expires_at is None:
            return True  # unknown expiry: use it, a 401 triggers a refresh
        return self._now() + ACCESS_TOKEN_SKEW < self._access_expires_at

    def _oauth(self) -> _AuthClient:
        if self._auth_client is None:

            def build() -> _AuthClient:
                try:
                    return _AuthClient(
                        bucket=self._bucket,
                        timeout=self._timeout,
                        client_id=self.config.client_id,
                        client_secret=self._client_secret,
                        redirect_uri=_UNUSED_REDIRECT_URI,
                        # AuthClient treats anything but 'sandbox'/'production' as a discovery URL.
                        environment=self.config.discovery_url,
                        realm_id=self.config.realm_id,
                    )
                except AuthClientError as error:
                    raise _map_oauth_error(error, what="OAuth discovery") from None
                except requests.RequestException as error:
                    _raise_for_transport(error)
                    raise
                except (ValueError, KeyError) as error:
                    raise PermanentError(PROVIDER, "OAuth discovery document is not usable") from error

            self._auth_client = retrying(build, policy=self._policy)
        return self._auth_client

    def refresh_tokens(self) -> TokenSet:
        """Exchange the refresh token for new tokens, hand them to `on_tokens`, then use them."""
        with self._token_lock:
            auth = self._oauth()
            old_refresh_token = self._refresh_token

            def refresh() -> None:
                # Clear what a previous refresh left behind, so a malformed answer cannot pass it off as new.
                auth.access_token = auth.refresh_token = None
                try:
                    auth.refresh(refresh_token=old_refresh_token)
                except AuthClientError as error:
                    raise _map_oauth_error(error, what="token refresh") from None
                except requests.RequestException as error:
                    _raise_for_transport(error)

            retrying(refresh, policy=self._policy)
            if not auth.access_token or not auth.refresh_token:
                raise PermanentError(PROVIDER, "token endpoint answered without tokens")
            issued = self._now()
            tokens = TokenSet(
                access_token=auth.access_token,
                refresh_token=auth.refresh_token,
                access_expires_at=_expiry(issued, auth.expires_in),
                refresh_expires_at=_expiry(issued, auth.x_refresh_token_expires_in),
            )
            self._refresh_token = tokens.refresh_token
            self._access_token = tokens.access_token
            self._access_expires_at = tokens.access_expires_at
            # Persist before use: the old refresh token is already dead.
            self._on_tokens(tokens)
            self._session.access_token = tokens.access_token
            if self._sdk is not None:
                self._sdk.refresh_token = tokens.refresh_token
            log.info("refreshed QuickBooks tokens for realm %s", self.config.realm_id)
            return tokens

    def _ensure_access_token(self) -> None:
        with self._token_lock:
            if not self._access_token_usable():
                self.refresh_tokens()
            self._session.access_token = self._access_token

    # ---- SDK calls

    def _quickbooks(self) -> QuickBooks:
        if self._sdk is None:
            sdk = QuickBooks(
                company_id=self.config.realm_id,
                minorversion=self.config.minor_version,
                refresh_token=self._refresh_token,
            )
            sdk.api_url_v3 = self.config.api_url_v3
            sdk.sandbox_api_url_v3 = self.config.api_url_v3
            sdk.session = self._session
            self._sdk = sdk
        return self._sdk

    def _call(self, operation: Callable[[QuickBooks], T]) -> T:
        """Run one SDK operation: fresh token, bucket, retries, and one refresh on a 401."""

        def attempt() -> T:
            try:
                return operation(self._quickbooks())
            except QuickbooksException as error:
                raise _map_sdk_error(error) from None

        self._ensure_access_token()
        try:
            return retrying(attempt, policy=self._policy)
        except _AccessTokenRejected:
            log.info("access token rejected for realm %s; refreshing once", self.config.realm_id)
        self.refresh_tokens()
        try:
            return retrying(attempt, policy=self._policy)
        except _AccessTokenRejected:
            raise AuthError(
                PROVIDER,
                "access token rejected right after a refresh; the connection must be re-authorised",
                status_code=401,
            ) from None

    def query(self, statement: str) -> dict[str, Any]:
        """Run one statement of the QBO query language; returns its `QueryResponse` object."""
        result = self._call(lambda sdk: sdk.query(statement))
        response = result.get("QueryResponse") if isinstance(result, dict) else None
        if not isinstance(response, dict):
            raise PermanentError(PROVIDER, "query answer has no QueryResponse object")
        return response

    # ---- customers

    def count_customers(self, include_inactive: bool = True) -> int:
        where = "Active IN (true, false)" if include_inactive else "Active = true"
        response = self.query(f"SELECT COUNT(*) FROM Customer WHERE {where}")  # noqa: S608 - constant
        return int(response.get("totalCount", 0))

    def customer_pages(self, since: str | None = None, page_size: int = MAX_PAGE_SIZE) -> Iterator[Page]:
        """Customers changed at or after `since` (all when None), active and inactive alike.

        See `CustomerPager` for how paging stays complete while customers change mid-sync.
        """
        return CustomerPager(self.query, page_size=page_size).pages(since)

    def streams(self) -> dict[str, Stream]:
        return {"customers": CustomerStream(self)}


def _expiry(issued: datetime, seconds: Any) -> datetime | None:
    try:
        return issued + timedelta(seconds=int(seconds))
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- customer paging


def _updated(row: dict[str, Any]) -> StreamCursor:
    try:
        return StreamCursor.parse(row["MetaData"]["LastUpdatedTime"])
    except (KeyError, TypeError, ValueError) as error:
        raise PermanentError(
            PROVIDER, f"customer {row.get('Id')!r} has no usable MetaData.LastUpdatedTime"
        ) from error


@dataclass
class CustomerPager:
    """Incremental, change-safe paging over Customer by `Metadata.LastUpdatedTime`.

    - Keyset, not offsets: each page asks for `LastUpdatedTime >= <max seen>`, so a customer
      updated mid-sync (which moves to the end of the order) is never skipped by shifting offsets;
      rows already emitted at exactly that timestamp are dropped by Id.
    - When more customers share one timestamp than fit in a page, the keyset cannot advance; that
      timestamp is drained with `= ts` and STARTPOSITION, in passes until a pass finds nothing new
      (a customer leaving the block mid-pass shifts positions; the next pass catches what that hid).
      Then paging resumes with `> ts`.
    - Every page's cursor is the max LastUpdatedTime emitted so far. Resuming from it with `>=`
      re-reads only that timestamp's rows (at-least-once at the boundary; loads are upserts).
    """

    run_query: Callable[[str], dict[str, Any]]
    page_size: int = MAX_PAGE_SIZE

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")

    def _fetch(self, condition: str | None, start: int = 1) -> list[dict[str, Any]]:
        where = "Active IN (true, false)"  # QBO hides inactive (deleted) customers otherwise
        if condition:
            where += f" AND {condition}"
        # Only re-serialised timestamps and ints are interpolated, never caller text.
        statement = (
            f"SELECT * FROM Customer WHERE {where} ORDERBY Metadata.LastUpdatedTime "  # noqa: S608
            f"STARTPOSITION {start} MAXRESULTS {self.page_size}"
        )
        rows = self.run_query(statement).get("Customer") or []
        if not isinstance(rows, list):
            raise PermanentError(PROVIDER, "QueryResponse.Customer is not a list")
        return rows

    def pages(self, since: str | None) -> Iterator[Page]:
        cursor = StreamCursor.parse(since) if since else None
        lower = cursor  # keyset position: fetch rows at or after this instant
        inclusive = True
        seen_at_lower: set[str] = set()  # Ids already emitted whose timestamp equals `lower`

        while True:
            condition = None
            if lower is not None:
                op = ">=" if inclusive else ">"
                condition = f"Metadata.LastUpdatedTime {op} '{lower.serialise()}'"
            rows = self._fetch(condition)
            stamped = [(row, _updated(row)) for row in rows]
            fresh = [row for row, ts in stamped if not (ts == lower and str(row.get("Id")) in seen_at_lower)]
            top = max((ts for _, ts in stamped), default=None)
            if top is not None and (cursor is None or top > cursor):
                cursor = top

            if len(rows) < self.page_size:
                yield Page(fresh, _serialise(cursor), has_more=False)
                return

            assert top is not None  # a full page is never empty
            if not inclusive and lower is not None and top <= lower:
                # The server ignored `>`: continuing would fetch this page forever.
                raise PermanentError(PROVIDER, "query returned customers outside the requested time range")
            if lower is None or top > lower:
                # The keyset advances to this page's last timestamp.
                seen_at_lower = {str(row.get("Id")) for row, ts in stamped if ts == top}
                lower, inclusive = top, True
                if fresh:
                    yield Page(fresh, _serialise(cursor), has_more=True)
                continue

            # A full page at exactly `lower`: more rows share it than fit in a page.
            seen_at_lower.update(str(row.get("Id")) for row in fresh)
            if fresh:
                yield Page(fresh, _serialise(cursor), has_more=True)
            yield from self._drain_timestamp(lower, seen_at_lower, cursor)
            inclusive, seen_at_lower = False, set()

    def _drain_timestamp(
        self, ts: StreamCursor, seen: set[str], cursor: StreamCursor | None
    ) -> Iterator[Page]:
        condition = f"Metadata.LastUpdatedTime = '{ts.serialise()}'"
        while True:
            found_new = False
            start = 1
            while True:
                rows = self._fetch(condition, start)
                fresh = [row for row in rows if str(row.get("Id")) not in seen]
                if fresh:
                    found_new = True
                    seen.update(str(row.get("Id")) for row in fresh)
                    yield Page(fresh, _serialise(cursor), has_more=True)
                if len(rows) < self.page_size:
                    break
                start += self.page_size
            if not found_new:
                return


def _serialise(cursor: StreamCursor | None) -> str | None:
    return cursor.serialise() if cursor is not None else None


@dataclass(frozen=True)
class CustomerStream:
    """The `customers` stream as a generic `Stream`: raw Customer payloads keyed by `Id`."""

    client: QuickBooksClient
    page_size: int = MAX_PAGE_SIZE

    @property
    def name(self) -> str:
        return "customers"

    @property
    def primary_key(self) -> tuple[str, ...]:
        return ("Id",)

    def pages(self, cursor: str | None) -> Iterator[Page]:
        return self.client.customer_pages(cursor, page_size=self.page_size)
