"""The HTTP layer under xero-python: rate limits, timeouts and typed errors, plus the SDK's token API
pointed at a configured token endpoint.

xero-python sends every request through `ApiClient.rest_client.pool_manager` (a urllib3 PoolManager).
`MeteredPoolManager` replaces it so that, before the SDK sees a response:
- Accounting API calls wait for the tenant's minute bucket and one of its 5 concurrent slots, and fail
  fast while Xero has said the day's calls are spent;
- `X-MinLimit-Remaining` / `X-DayLimit-Remaining` clamp the buckets (this process slows down when
  other processes share the tenant's budget);
- urllib3's own silent retries are off (ours count attempts and honour Retry-After), every request
  has a timeout, and every non-2xx answer becomes a typed connector error carrying Xero's message.

Xero's published behaviour (developer.xero.com, "API rate limits", "HTTP response codes"): 429 with
`Retry-After` and `X-Rate-Limit-Problem` (minute, day, concurrent, appminute); 400 with a
`ValidationException` body; 401 when the access token is invalid or expired; 403 when the app is not
(or no longer) authorised for the tenant.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import urllib3
from xero_python.api_client import ApiClient
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.identity import IdentityApi

from connectors.base import (
    AuthError,
    CompositeBucket,
    PermanentError,
    RateLimitedError,
    TokenBucket,
    TransientError,
    parse_retry_after,
)

log = logging.getLogger("connectors.xero")

PROVIDER = "xero"
# OAuth error codes (RFC 6749 §5.2) that mean the grant or the app's secret is no longer good.
_REAUTHORISE = {"invalid_grant", "invalid_client", "unauthorized_client"}


class AccessTokenRejected(AuthError):
    """401 from an API: refresh once and try again before giving up."""


# --------------------------------------------------------------------------- per-tenant limits


@dataclass
class TenantLimits:
    """Xero's limits for one tenant as this process sees them: shared by every client of the tenant."""

    minute: TokenBucket
    day: TokenBucket
    concurrency: threading.BoundedSemaphore
    clock: Callable[[], float] = time.monotonic
    blocked_until: float | None = None  # set when Xero answers 429 for the day
    remaining: dict[str, int] = field(default_factory=dict)  # last X-*Limit-Remaining seen
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check_day(self) -> None:
        """Fail fast while the day is spent: until the Retry-After of Xero's day 429, or while the day
        bucket (clamped to X-DayLimit-Remaining) is empty. In that second case the wait given is one
        token's refill; then one call goes out and Xero's answer says how long the day really lasts."""
        with self._lock:
            blocked = self.blocked_until
        if blocked is not None:
            wait = blocked - self.clock()
            if wait > 0:
                raise RateLimitedError(PROVIDER, "Xero's daily call limit is spent", retry_after=wait)
        if not self.day.try_acquire():
            raise RateLimitedError(
                PROVIDER, "Xero's daily call limit is spent", retry_after=1.0 / self.day.rate
            )

    def block_for(self, seconds: float) -> None:
        with self._lock:
            self.blocked_until = self.clock() + seconds

    def observe(self, headers: Any) -> None:
        for header, bucket in (("X-MinLimit-Remaining", self.minute), ("X-DayLimit-Remaining", self.day)):
            value = headers.get(header)
            try:
                remaining = int(value)
            except (TypeError, ValueError):
                continue
            self.remaining[header] = remaining
            bucket.clamp(remaining)


_limits: dict[str, TenantLimits] = {}
_limits_lock = threading.Lock()


def tenant_limits(key: str, *, per_minute: int, per_day: int, concurrent: int) -> TenantLimits:
    """One `TenantLimits` per tenant in this process."""
    with _limits_lock:
        limits = _limits.get(key)
        if limits is None:
            limits = _limits[key] = TenantLimits(
                minute=TokenBucket.per_minute(per_minute),
                day=TokenBucket(per_day / 86_400.0, per_day),
                concurrency=threading.BoundedSemaphore(concurrent),
            )
        return limits


# --------------------------------------------------------------------------- errors


def _body_json(data: bytes) -> Any:
    try:
        return json.loads(data or b"null")
    except ValueError:
        return None


def xero_message(data: bytes) -> str:
    """The human part of a Xero error body: validation messages, else Message/Detail/Title."""
    body = _body_json(data)
    if isinstance(body, dict):
        messages = [
            str(error.get("Message"))
            for element in body.get("Elements") or []
            if isinstance(element, dict)
            for error in element.get("ValidationErrors") or []
            if isinstance(error, dict) and error.get("Message")
        ]
        if messages:
            return "; ".join(dict.fromkeys(messages))
        for key in ("Message", "Detail", "detail", "Title", "title", "error_description", "error"):
            if body.get(key):
                return str(body[key])[:300]
    text = data.decode("utf-8", "replace").strip() if data else ""
    return text[:300] or "no details"


def _oauth_error(data: bytes) -> str | None:
    body = _body_json(data)
    code = body.get("error") if isinstance(body, dict) else None
    return str(code) if code else None


def raise_for_response(
    response: urllib3.BaseHTTPResponse, *, oauth: bool, limits: TenantLimits | None
) -> None:
    """Turn a non-2xx answer into the connector error a caller can act on."""
    status = response.status
    if 200 <= status < 300:
        return
    data = response.data
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        problem = response.headers.get("X-Rate-Limit-Problem") or "unknown"
        if limits is not None and problem.lower() == "day" and retry_after:
            limits.block_for(retry_after)
        raise RateLimitedError(PROVIDER, f"rate limited (429, {problem} limit)", retry_after=retry_after)
    if status >= 500:
        raise TransientError(PROVIDER, f"HTTP {status}: {xero_message(data)}", status_code=status)
    if oauth:
        code = _oauth_error(data)
        if code in _REAUTHORISE or status == 401:
            raise AuthError(
                PROVIDER,
                f"token endpoint refused the grant ({code or status}); the connection must be re-authorised",
                status_code=status,
            )
        detail = code or xero_message(data)
        raise PermanentError(PROVIDER, f"token endpoint: HTTP {status}, {detail}", status_code=status)
    if status == 401:
        detail = xero_message(data)
        raise AccessTokenRejected(PROVIDER, f"access token rejected (401): {detail}", status_code=401)
    if status == 403:
        raise AuthError(
            PROVIDER,
            f"not authorised for this organisation (403: {xero_message(data)}); reconnect it",
            status_code=403,
        )
    if status == 404:
        raise PermanentError(PROVIDER, "not found (404)", status_code=404)
    raise PermanentError(PROVIDER, f"HTTP {status}: {xero_message(data)}", status_code=status)


def json_body(response: Any) -> Any:
    """The parsed body of a 2xx answer the SDK returned unparsed (`_preload_content=False`)."""
    data = getattr(response, "data", response)
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        # A truncated or non-JSON body on a 2xx: most likely a proxy hiccup, worth another try.
        raise TransientError(PROVIDER, "response body was not valid JSON") from None


def _raise_for_transport(error: urllib3.exceptions.HTTPError) -> None:
    if isinstance(error, urllib3.exceptions.SSLError):
        raise PermanentError(PROVIDER, f"TLS failure ({type(error).__name__})") from error
    if isinstance(error, urllib3.exceptions.TimeoutError):
        raise TransientError(PROVIDER, "request timed out") from error
    raise TransientError(PROVIDER, f"connection failed ({type(error).__name__})") from error


# --------------------------------------------------------------------------- the pool manager


class MeteredPoolManager(urllib3.PoolManager):
    """What xero-python's REST client sends requests through (see the module docstring)."""

    def __init__(
        self,
        *,
        metered_prefix: str,
        oauth_urls: tuple[str, ...],
        limits: TenantLimits | None,
        bucket: TokenBucket | CompositeBucket | None,
        timeout: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._metered_prefix = metered_prefix
        self._oauth_urls = oauth_urls
        self._limits = limits
        self._bucket = bucket
        self._timeout = urllib3.Timeout(connect=min(timeout, 10.0), read=timeout)

    @contextmanager
    def _admitted(self, metered: bool) -> Iterator[None]:
        if not metered or self._limits is None:
            yield
            return
        self._limits.check_day()
        if self._bucket is not None:
            self._bucket.acquire()
        with self._limits.concurrency:
            yield

    def urlopen(self, method: str, url: str, redirect: bool = True, **kw: Any) -> urllib3.BaseHTTPResponse:  # type: ignore[override]
        kw["retries"] = False
        if kw.get("timeout") is None:
            kw["timeout"] = self._timeout
        metered = url.startswith(self._metered_prefix)
        oauth = url.split("?", 1)[0] in self._oauth_urls
        with self._admitted(metered):
            try:
                # Xero's APIs do not redirect: a 3xx is an answer (a misconfigured URL), not a hop.
                response = super().urlopen(method, url, redirect=False, **kw)
                response.data  # noqa: B018 - read the body inside the slot; errors here are transport errors
                response.release_conn()
            except urllib3.exceptions.HTTPError as error:
                _raise_for_transport(error)
                raise  # unreachable: keeps type checkers content
        if metered and self._limits is not None:
            self._limits.observe(response.headers)
        raise_for_response(response, oauth=oauth, limits=self._limits if metered else None)
        return response

    def __repr__(self) -> str:
        return f"<MeteredPoolManager {self._metered_prefix}>"


def api_client(
    *,
    oauth2_token: OAuth2Token | None,
    token_getter: Callable[[], dict[str, Any]] | None,
    token_saver: Callable[[dict[str, Any]], None] | None,
    metered_prefix: str,
    oauth_urls: tuple[str, ...],
    limits: TenantLimits | None,
    bucket: TokenBucket | CompositeBucket | None,
    timeout: float,
) -> ApiClient:
    """xero-python's ApiClient with `MeteredPoolManager` underneath."""
    from xero_python.api_client.configuration import Configuration

    # Configuration's metaclass hands out copies of the first instance ever made, ignoring later
    # constructor arguments: set this client's token on its own copy.
    configuration = Configuration()
    configuration.oauth2_token = oauth2_token
    client = ApiClient(configuration, oauth2_token_getter=token_getter, oauth2_token_saver=token_saver)
    old = client.rest_client.pool_manager
    client.rest_client.pool_manager = MeteredPoolManager(
        metered_prefix=metered_prefix,
        oauth_urls=oauth_urls,
        limits=limits,
        bucket=bucket,
        timeout=timeout,
        num_pools=4,
        maxsize=configuration.connection_pool_maxsize,
        cert_reqs=old.connection_pool_kw.get("cert_reqs"),
        ca_certs=old.connection_pool_kw.get("ca_certs"),
    )
    old.clear()
    return client


# --------------------------------------------------------------------------- tokens


_TOKEN_FIELDS = (
    "access_token",
    "scope",
    "expires_in",
    "token_type",
    "expires_at",
    "refresh_token",
    "id_token",
)


def token_fields(token: dict[str, Any]) -> dict[str, Any]:
    """Only the keys `OAuth2Token.update_token` accepts (a token endpoint may answer more)."""
    return {key: token.get(key) for key in _TOKEN_FIELDS}


class ConfiguredTokenApi(TokenApi):
    """xero-python's TokenApi with the token and revocation URLs of one connection.

    The SDK keeps those URLs as class attributes; setting them on the instance points this one
    connection elsewhere (the sandbox) without touching any other. `exchange_code` is the
    authorization-code grant the SDK leaves to the app, sent the way Xero documents it (client
    credentials in a Basic header) through the same ApiClient.
    """

    def __init__(
        self,
        api_client: ApiClient,
        client_id: str,
        client_secret: str,
        *,
        token_url: str,
        revocation_url: str,
    ) -> None:
        super().__init__(api_client, client_id, client_secret)
        self.refresh_token_url = token_url
        self.client_credentials_token_url = token_url
        self.revoke_token_url = revocation_url

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str | None) -> dict[str, Any]:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        response, _status, _headers = self.api_client.call_api(
            self.refresh_token_url,
            "POST",
            header_params={
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": f"Basic {basic}",
            },
            post_params=form,
            auth_settings=None,
            _preload_content=False,
        )
        return self.parse_token_response(response)


class ConfiguredOAuth2Token(OAuth2Token):
    """The SDK's OAuth2Token, refreshing and revoking through `ConfiguredTokenApi`."""

    def __init__(self, *, client_id: str, client_secret: str, token_url: str, revocation_url: str) -> None:
        super().__init__(client_id=client_id, client_secret=client_secret)
        self.token_url = token_url
        self.revocation_url = revocation_url

    def token_api(self, api_client: ApiClient) -> ConfiguredTokenApi:
        return ConfiguredTokenApi(
            api_client,
            self.client_id,
            self.client_secret,
            token_url=self.token_url,
            revocation_url=self.revocation_url,
        )

    def update_token(self, **token: Any) -> None:  # type: ignore[override]
        super().update_token(**token_fields(token))

    def refresh_access_token(self, api_client: ApiClient) -> bool:
        if not self.can_refresh_access_token():
            return False
        new_token = self.fetch_access_token(self.token_api(api_client))
        # The saver (the client's on_tokens) runs before the new access token is used.
        api_client.set_oauth2_token(new_token)
        self.update_token(**new_token)
        return True

    def revoke_access_token(self, api_client: ApiClient) -> bool:
        if not (self.refresh_token and self.client_id and self.client_secret):
            return False
        self.token_api(api_client).revoke_token(self.refresh_token)
        return True


class ConnectionsApi(IdentityApi):
    """The SDK's IdentityApi addressed at the configured connections URL (the SDK appends its own
    `/Connections` to a host)."""

    def __init__(self, client: ApiClient, connections_url: str) -> None:
        super().__init__(client, base_url=connections_url)

    def get_resource_url(self, resource_path: str) -> str:
        return self.base_url + resource_path.removeprefix("/Connections")
