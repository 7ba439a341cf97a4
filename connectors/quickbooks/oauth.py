"""The QuickBooks Online connect flow, as helpers for core_api, through intuit-oauth's AuthClient:
authorization URL with state, the code exchange (the callback also names the company as `realmId`) and
revocation on disconnect. Intuit's flow has no PKCE for web apps; `state` binds the callback to the
session that started it. Each helper fetches Intuit's discovery document (as AuthClient does) and makes
at most one more call, with the client's timeout, retries and typed errors.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import requests
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from connectors.base import PermanentError, RetryPolicy, TokenBucket, TokenSet, retrying
from connectors.quickbooks.client import (
    DEFAULT_RETRY_POLICY,
    _AuthClient,
    _expiry,
    _map_oauth_error,
    _raise_for_transport,
)
from connectors.quickbooks.config import ACCOUNTING_SCOPE


def _auth_client(
    client_id: str,
    client_secret: str,
    discovery_url: str,
    redirect_uri: str,
    timeout: float,
    policy: RetryPolicy,
) -> _AuthClient:
    def build() -> _AuthClient:
        try:
            return _AuthClient(
                # One connect flow is a handful of calls: no realm's budget to share yet.
                bucket=TokenBucket.per_second(5),
                timeout=timeout,
                client_id=client_id,
                client_secret=client_secret,
                redirect_uri=redirect_uri,
                environment=discovery_url,
            )
        except AuthClientError as error:
            raise _map_oauth_error(error, what="OAuth discovery") from None
        except requests.RequestException as error:
            _raise_for_transport(error)
            raise

    return retrying(build, policy=policy)


def authorization_url(
    client_id: str,
    discovery_url: str,
    redirect_uri: str,
    state: str,
    *,
    scopes: tuple[str, ...] = (ACCOUNTING_SCOPE,),
    timeout: float = 30.0,
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
) -> str:
    """Where to send the firm to approve the app (Intuit answers at `redirect_uri` with code, state and
    realmId)."""
    auth = _auth_client(client_id, "unused", discovery_url, redirect_uri, timeout, retry_policy)
    try:
        return auth.get_authorization_url([Scopes(scope) for scope in scopes], state_token=state)
    finally:
        auth.close()


def exchange_code(
    client_id: str,
    client_secret: str,
    discovery_url: str,
    code: str,
    redirect_uri: str,
    realm_id: str,
    *,
    timeout: float = 30.0,
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> TokenSet:
    """The callback's `code` → tokens for company `realm_id`."""
    auth = _auth_client(client_id, client_secret, discovery_url, redirect_uri, timeout, retry_policy)
    try:

        def exchange() -> None:
            try:
                auth.get_bearer_token(code, realm_id=realm_id)
            except AuthClientError as error:
                raise _map_oauth_error(error, what="code exchange") from None
            except requests.RequestException as error:
                _raise_for_transport(error)

        retrying(exchange, policy=retry_policy)
        if not auth.access_token or not auth.refresh_token:
            raise PermanentError("quickbooks", "token endpoint answered without tokens")
        issued = now()
        return TokenSet(
            access_token=auth.access_token,
            refresh_token=auth.refresh_token,
            access_expires_at=_expiry(issued, auth.expires_in),
            refresh_expires_at=_expiry(issued, auth.x_refresh_token_expires_in),
        )
    finally:
        auth.close()


def revoke(
    client_id: str,
    client_secret: str,
    discovery_url: str,
    refresh_token: str,
    *,
    timeout: float = 30.0,
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
) -> None:
    """Revoke the refresh token, and with it the whole grant."""
    auth = _auth_client(
        client_id, client_secret, discovery_url, "https://localhost/unused", timeout, retry_policy
    )
    try:

        def call() -> None:
            try:
                auth.revoke(token=refresh_token)
            except AuthClientError as error:
                raise _map_oauth_error(error, what="revocation") from None
            except requests.RequestException as error:
                _raise_for_transport(error)

        retrying(call, policy=retry_policy)
    finally:
        auth.close()
