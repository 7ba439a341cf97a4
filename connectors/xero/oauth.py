"""The Xero OAuth 2.0 connect flow, as helpers for core_api: authorization URL with state and PKCE, the
code exchange, the tenants a new grant reaches, and revocation on disconnect.

Xero's flow (developer.xero.com, "OAuth 2.0 → Auth code flow" and "PKCE flow"): send the firm to the
authorize URL with `response_type=code`, the scopes (with `offline_access` for a refresh token), `state`
and an S256 `code_challenge`; the callback's `code` is exchanged at the token endpoint together with the
`code_verifier`; `GET /connections` lists the organisations the grant covers (filter by the token's
`authEventId` to see the ones just added); `POST /connect/revocation` with the refresh token removes the
grant and its connections. Only `authorization_url` and `new_pkce` are pure; the rest make one HTTP call
each through xero-python's ApiClient, with typed errors and retries like the client.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from pydantic import SecretStr
from xero_python.api_client.oauth2 import OAuth2Token

from connectors.base import PermanentError, RetryPolicy, TokenSet, retrying
from connectors.oauth import OAuthAccount, OAuthApp, OAuthFlow, OAuthGrant, code_challenge
from connectors.xero.client import DEFAULT_RETRY_POLICY, REFRESH_TOKEN_LIFETIME
from connectors.xero.config import XeroApp, XeroConfig, XeroCredentials
from connectors.xero.transport import PROVIDER, ConfiguredTokenApi, ConnectionsApi, api_client, json_body

# RFC 7636 §4.1: 43 to 128 characters from the unreserved set; 64 random bytes give 86.
_VERIFIER_BYTES = 64


@dataclass(frozen=True)
class Pkce:
    """A PKCE pair: keep `verifier` server-side (with the state), send `challenge` to Xero."""

    verifier: str
    challenge: str
    method: str = "S256"

    def __repr__(self) -> str:
        return f"Pkce(challenge={self.challenge!r}, method={self.method!r})"


def new_pkce() -> Pkce:
    verifier = secrets.token_urlsafe(_VERIFIER_BYTES)
    return Pkce(verifier=verifier, challenge=code_challenge(verifier))


def new_state() -> str:
    """An unguessable `state` to bind the callback to the browser session that started the flow."""
    return secrets.token_urlsafe(32)


def authorization_url(app: XeroApp, redirect_uri: str, state: str, code_challenge: str | None = None) -> str:
    """Where to send the firm to approve the app."""
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(app.scopes),
        "state": state,
    }
    if code_challenge:
        params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
    return f"{app.authorize_url}?{urlencode(params)}"


def _client(app: XeroApp, timeout: float, token_getter: Callable[[], dict[str, Any]] | None = None) -> Any:
    return api_client(
        oauth2_token=OAuth2Token(),
        token_getter=token_getter,
        token_saver=None,
        metered_prefix=app.accounting_url + "/",
        oauth_urls=(app.token_url, app.revocation_url),
        limits=None,
        bucket=None,
        timeout=timeout,
    )


def _token_api(app: XeroApp, client_secret: str, timeout: float) -> ConfiguredTokenApi:
    return ConfiguredTokenApi(
        _client(app, timeout),
        app.client_id,
        client_secret,
        token_url=app.token_url,
        revocation_url=app.revocation_url,
    )


def exchange_code(
    app: XeroApp,
    client_secret: str,
    code: str,
    redirect_uri: str,
    code_verifier: str | None = None,
    *,
    timeout: float = 30.0,
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> TokenSet:
    """The callback's `code` → tokens. Raises AuthError when Xero refuses the code (expired, reused,
    wrong verifier or redirect URI) and PermanentError when no refresh token comes back."""
    api = _token_api(app, client_secret, timeout)
    token = retrying(lambda: api.exchange_code(code, redirect_uri, code_verifier), policy=retry_policy)
    access, refresh = token.get("access_token"), token.get("refresh_token")
    if not access:
        raise PermanentError(PROVIDER, "token endpoint answered without an access token")
    if not refresh:
        raise PermanentError(PROVIDER, "no refresh token: the `offline_access` scope was not granted")
    issued = now()
    try:
        access_expires_at: datetime | None = issued + timedelta(seconds=int(token["expires_in"]))
    except (KeyError, TypeError, ValueError):
        access_expires_at = None
    return TokenSet(
        access_token=str(access),
        refresh_token=str(refresh),
        access_expires_at=access_expires_at,
        refresh_expires_at=issued + REFRESH_TOKEN_LIFETIME,
    )


def list_tenants(
    app: XeroApp,
    access_token: str,
    *,
    auth_event_id: str | None = None,
    timeout: float = 30.0,
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
) -> list[dict[str, Any]]:
    """The organisations a fresh grant reaches (`[{id, tenantId, tenantType, tenantName, …}]`), for the
    firm to pick one; `auth_event_id` limits them to the ones this authorisation added."""

    def token() -> dict[str, Any]:
        return {
            "access_token": access_token,
            "scope": None,
            "expires_in": None,
            "token_type": "Bearer",
            "expires_at": None,
        }

    connections = ConnectionsApi(_client(app, timeout, token), app.connections_url)
    kwargs: dict[str, Any] = {"_preload_content": False}
    if auth_event_id:
        kwargs["auth_event_id"] = auth_event_id
    body = retrying(lambda: json_body(connections.get_connections(**kwargs)), policy=retry_policy)
    if not isinstance(body, list):
        raise PermanentError(PROVIDER, "connections answer is not a list")
    return body


def revoke(
    app: XeroApp,
    client_secret: str,
    refresh_token: str,
    *,
    timeout: float = 30.0,
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
) -> None:
    """Revoke the refresh token (Xero also drops every connection made with the grant)."""
    api = _token_api(app, client_secret, timeout)
    retrying(lambda: api.revoke_token(refresh_token), policy=retry_policy)


# --------------------------------------------------------------------------- the API's connect flow


def _app(app: OAuthApp) -> XeroApp:
    return XeroApp.model_validate({**app.config, "client_id": app.client_id})


def _flow_authorization_url(app: OAuthApp, redirect_uri: str, state: str, challenge: str | None) -> str:
    return authorization_url(_app(app), redirect_uri, state, challenge)


def _flow_exchange(
    app: OAuthApp, params: Mapping[str, str], redirect_uri: str, verifier: str | None
) -> OAuthGrant:
    if not params.get("code"):
        raise PermanentError(PROVIDER, "the callback carried no code")
    xero_app = _app(app)
    tokens = exchange_code(
        xero_app, app.client_secret.get_secret_value(), params["code"], redirect_uri, verifier
    )
    # One consent can reach several organisations: the firm picks one (GET /connections).
    tenants = list_tenants(xero_app, tokens.access_token)
    accounts = tuple(
        OAuthAccount(str(t["tenantId"]), str(t.get("tenantName") or t["tenantId"]))
        for t in tenants
        if t.get("tenantType", "ORGANISATION") == "ORGANISATION" and t.get("tenantId")
    )
    return OAuthGrant(tokens=tokens, accounts=accounts)


def _flow_connection(
    app: OAuthApp, account: OAuthAccount, tokens: TokenSet
) -> tuple[XeroConfig, XeroCredentials]:
    config = XeroConfig.model_validate({**app.config, "client_id": app.client_id, "tenant_id": account.id})
    credentials = XeroCredentials(
        client_secret=app.client_secret,
        refresh_token=SecretStr(tokens.refresh_token),
        access_token=SecretStr(tokens.access_token),
        expires_at=tokens.access_expires_at,
    )
    return config, credentials


def _flow_revoke(config: XeroConfig, credentials: XeroCredentials) -> None:
    revoke(config, credentials.client_secret.get_secret_value(), credentials.refresh_token.get_secret_value())


FLOW = OAuthFlow(
    pkce=True,
    authorization_url=_flow_authorization_url,
    exchange=_flow_exchange,
    connection=_flow_connection,
    revoke=_flow_revoke,
)
