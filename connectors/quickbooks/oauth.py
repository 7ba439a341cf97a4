"""Intuit's OAuth 2.0 connect flow, through intuit-oauth, as pure helpers for the API's connect
endpoints: the consent URL, the code exchange, and revocation on disconnect.

Every endpoint comes from the discovery document named by `config.discovery_url`, so a connection
configured for the sandbox is served by the sandbox's OAuth. Intuit's authorization-code flow has no
PKCE; `state` is the caller's CSRF value and must come back unchanged on the callback.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from connectors.base import PermanentError, RetryPolicy, TokenBucket, TokenSet, retrying, shared_bucket
from connectors.oauth import OAuthAccount, OAuthApp, OAuthFlow, OAuthGrant
from connectors.quickbooks.config import QuickBooksConfig, QuickBooksCredentials
from connectors.quickbooks.transport import PROVIDER, MeteredAuthClient, map_oauth_error, raise_for_transport

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRY_POLICY = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=60.0, max_retry_after=300.0)


def auth_client(
    config: QuickBooksConfig,
    client_secret: str,
    redirect_uri: str,
    *,
    bucket: Any = None,
    timeout: float = DEFAULT_TIMEOUT,
    policy: RetryPolicy = DEFAULT_RETRY_POLICY,
) -> MeteredAuthClient:
    """intuit-oauth's AuthClient for this connection, its discovery document fetched (with retries)."""

    def build() -> MeteredAuthClient:
        try:
            return MeteredAuthClient(
                bucket=bucket or _oauth_bucket(config),
                timeout=timeout,
                client_id=config.client_id,
                client_secret=client_secret,
                redirect_uri=redirect_uri,
                # AuthClient treats anything but 'sandbox'/'production' as a discovery URL.
                environment=config.discovery_url,
                realm_id=config.realm_id,
            )
        except AuthClientError as error:
            raise map_oauth_error(error, what="OAuth discovery") from None
        except requests.RequestException as error:
            raise_for_transport(error)
            raise
        except (ValueError, KeyError) as error:
            raise PermanentError(PROVIDER, "OAuth discovery document is not usable") from error

    return retrying(build, policy=policy)


def authorization_url(config: QuickBooksConfig, redirect_uri: str, state: str) -> str:
    """Where to send the firm's user to approve the connection (the accounting scope by default)."""
    if not state:
        raise ValueError("state is required: the callback is matched to its request by it")
    scopes = [_scope(scope) for scope in config.scopes]
    with auth_client(config, "", redirect_uri) as auth:  # the consent URL needs no secret
        return auth.get_authorization_url(scopes, state_token=state)


def exchange_code(
    config: QuickBooksConfig,
    client_secret: str,
    code: str,
    realm_id: str,
    redirect_uri: str,
    *,
    now: datetime | None = None,
) -> TokenSet:
    """The callback's authorization code (single use, minutes long) for the connection's first tokens.

    `realm_id` is the company the callback named (`realmId`); `redirect_uri` must be the one the
    authorization URL was built with. A spent or expired code raises AuthError.
    """
    issued = now or datetime.now(UTC)
    with auth_client(config, client_secret, redirect_uri) as auth:

        def exchange() -> None:
            try:
                auth.get_bearer_token(code, realm_id=realm_id)
            except AuthClientError as error:
                raise map_oauth_error(error, what="code exchange") from None
            except requests.RequestException as error:
                raise_for_transport(error)

        retrying(exchange, policy=DEFAULT_RETRY_POLICY)
        if not auth.access_token or not auth.refresh_token:
            raise PermanentError(PROVIDER, "token endpoint answered without tokens")
        return TokenSet(
            access_token=auth.access_token,
            refresh_token=auth.refresh_token,
            access_expires_at=expiry(issued, auth.expires_in),
            refresh_expires_at=expiry(issued, auth.x_refresh_token_expires_in),
        )


def revoke(config: QuickBooksConfig, client_secret: str, token: str) -> None:
    """Revoke a refresh (or access) token on disconnect; Intuit revokes the whole grant with it."""
    if not token:
        raise ValueError("token is required")
    with auth_client(config, client_secret, _NO_REDIRECT) as auth:

        def send() -> None:
            try:
                auth.revoke(token=token)
            except AuthClientError as error:
                raise map_oauth_error(error, what="token revocation") from None
            except requests.RequestException as error:
                raise_for_transport(error)

        retrying(send, policy=DEFAULT_RETRY_POLICY)


def expiry(issued: datetime, seconds: Any) -> datetime | None:
    try:
        return issued + timedelta(seconds=int(seconds))
    except (TypeError, ValueError):
        return None


# intuit-oauth wants a redirect URI even where the flow step never uses it (refresh, revoke).
_NO_REDIRECT = "https://localhost/unused"


def _scope(value: str) -> Scopes:
    try:
        return Scopes(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an Intuit OAuth scope") from None


def _oauth_bucket(config: QuickBooksConfig) -> TokenBucket:
    # Intuit's OAuth endpoints are metered per app, not per company.
    return shared_bucket(
        f"{PROVIDER}:oauth:{config.discovery_url}:{config.client_id}",
        lambda: TokenBucket.per_minute(config.requests_per_minute),
    )


# --------------------------------------------------------------------------- the API's connect flow


def _app_config(app: OAuthApp, realm_id: str) -> QuickBooksConfig:
    return QuickBooksConfig.model_validate({**app.config, "client_id": app.client_id, "realm_id": realm_id})


# No company is chosen before consent, and neither the consent URL nor discovery depends on one.
_BEFORE_CONSENT = "0"


def _flow_authorization_url(app: OAuthApp, redirect_uri: str, state: str, challenge: str | None) -> str:
    return authorization_url(_app_config(app, _BEFORE_CONSENT), redirect_uri, state)


def _flow_exchange(
    app: OAuthApp, params: Mapping[str, str], redirect_uri: str, verifier: str | None
) -> OAuthGrant:
    realm_id = params.get("realmId", "")
    if not realm_id.isdigit() or not params.get("code"):
        raise PermanentError(PROVIDER, "the callback named no company (realmId) or no code")
    secret = app.client_secret.get_secret_value()
    tokens = exchange_code(_app_config(app, realm_id), secret, params["code"], realm_id, redirect_uri)
    return OAuthGrant(tokens=tokens, accounts=(OAuthAccount(realm_id, f"QuickBooks company {realm_id}"),))


def _flow_connection(
    app: OAuthApp, account: OAuthAccount, tokens: TokenSet
) -> tuple[QuickBooksConfig, QuickBooksCredentials]:
    secret = app.client_secret.get_secret_value()
    return _app_config(app, account.id), QuickBooksCredentials.from_tokens(secret, tokens)


def _flow_revoke(config: QuickBooksConfig, credentials: QuickBooksCredentials) -> None:
    revoke(config, credentials.client_secret.get_secret_value(), credentials.refresh_token.get_secret_value())


FLOW = OAuthFlow(
    pkce=False,  # Intuit's authorization-code flow has none; the state is single-use on our side
    authorization_url=_flow_authorization_url,
    exchange=_flow_exchange,
    connection=_flow_connection,
    revoke=_flow_revoke,
)
