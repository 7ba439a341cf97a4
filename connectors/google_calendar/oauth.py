"""The Google OAuth 2.0 connect flow for web server apps (developers.google.com/identity/protocols/oauth2/
web-server), as helpers for core_api: the authorization URL (with `state`, PKCE S256, `access_type=offline`
and `prompt=consent` so a refresh token comes back), the code exchange, and revocation on disconnect.

The code exchange and revocation are plain form POSTs (the calendar SDK does not offer them), made with
httpx, retried like every other call; which Google account consented is read from the new token's calendar
list (the primary calendar's id is the user's address), so no extra scope is needed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr

from connectors.base import (
    AuthError,
    PermanentError,
    RateLimitedError,
    RetryPolicy,
    TokenSet,
    TransientError,
    parse_retry_after,
    retrying,
)
from connectors.google_calendar.client import DEFAULT_RETRY_POLICY, GoogleCalendarClient
from connectors.google_calendar.config import (
    GoogleCalendarApp,
    GoogleCalendarConfig,
    GoogleCalendarCredentials,
)
from connectors.google_calendar.transport import PROVIDER
from connectors.oauth import OAuthAccount, OAuthApp, OAuthFlow, OAuthGrant

_REAUTHORISE = {"invalid_grant", "invalid_client", "unauthorized_client", "redirect_uri_mismatch"}


def new_state() -> str:
    """An unguessable `state` binding the callback to the browser session that started the flow."""
    return secrets.token_urlsafe(32)


def authorization_url(
    app: GoogleCalendarApp,
    redirect_uri: str,
    state: str,
    code_challenge: str | None = None,
    *,
    login_hint: str | None = None,
) -> str:
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(app.scopes),
        "state": state,
        "access_type": "offline",  # a refresh token with the code exchange
        "prompt": "consent",  # ... every time, not only at the first consent
        "include_granted_scopes": "true",
    }
    if code_challenge:
        params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
    if login_hint:
        params["login_hint"] = login_hint
    return f"{app.authorize_url}?{urlencode(params)}"


def _post(url: str, form: dict[str, str], timeout: float) -> dict[str, Any]:
    try:
        response = httpx.post(url, data=form, timeout=timeout, headers={"Accept": "application/json"})
    except httpx.TimeoutException as error:
        raise TransientError(PROVIDER, "token endpoint timed out") from error
    except httpx.HTTPError as error:
        raise TransientError(PROVIDER, f"token endpoint unreachable ({type(error).__name__})") from error
    try:
        body = response.json() if response.content else {}
    except ValueError:
        body = {}
    if response.status_code == 429:
        raise RateLimitedError(
            PROVIDER,
            "token endpoint rate limited",
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if response.status_code >= 500:
        raise TransientError(
            PROVIDER, f"token endpoint: HTTP {response.status_code}", status_code=response.status_code
        )
    if response.status_code >= 400:
        code = body.get("error") if isinstance(body, dict) else None
        if code in _REAUTHORISE or response.status_code == 401:
            raise AuthError(
                PROVIDER,
                f"Google refused the grant ({code or response.status_code})",
                status_code=response.status_code,
            )
        raise PermanentError(
            PROVIDER,
            f"token endpoint: HTTP {response.status_code} {code or ''}".strip(),
            status_code=response.status_code,
        )
    return body if isinstance(body, dict) else {}


def exchange_code(
    app: GoogleCalendarApp,
    client_secret: str,
    code: str,
    redirect_uri: str,
    code_verifier: str | None = None,
    *,
    timeout: float = 30.0,
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> TokenSet:
    """The callback's `code` → tokens. AuthError when Google refuses the code; PermanentError when no
    refresh token comes back (the consent was not for offline access)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": app.client_id,
        "client_secret": client_secret,
    }
    if code_verifier:
        form["code_verifier"] = code_verifier
    # Not retried on a lost answer: a code is single use, so the retry would be refused anyway.
    token = retrying(lambda: _post(app.token_url, form, timeout), policy=retry_policy)
    access, refresh = token.get("access_token"), token.get("refresh_token")
    if not access:
        raise PermanentError(PROVIDER, "token endpoint answered without an access token")
    if not refresh:
        raise PermanentError(PROVIDER, "no refresh token: the consent was not for offline access")
    try:
        expires_at: datetime | None = now() + timedelta(seconds=int(token["expires_in"]))
    except (KeyError, TypeError, ValueError):
        expires_at = None
    return TokenSet(
        access_token=str(access),
        refresh_token=str(refresh),
        access_expires_at=expires_at,
        refresh_expires_at=None,
    )


def revoke(
    app: GoogleCalendarApp,
    token: str,
    *,
    timeout: float = 30.0,
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
) -> None:
    """Revoke the grant (a refresh or access token of it). A token Google no longer knows is fine."""
    try:
        retrying(lambda: _post(app.revocation_url, {"token": token}, timeout), policy=retry_policy)
    except PermanentError as error:
        if error.status_code != 400:
            raise


def primary_calendar(app: GoogleCalendarApp, client_secret: str, tokens: TokenSet) -> OAuthAccount:
    """The consenting user: their primary calendar's id is their address."""
    config = GoogleCalendarConfig.model_validate(
        {**app.model_dump(), "account_email": "pending@consent.invalid"}
    )
    credentials = GoogleCalendarCredentials(
        client_secret=SecretStr(client_secret),
        refresh_token=SecretStr(tokens.refresh_token),
        access_token=SecretStr(tokens.access_token),
        expires_at=tokens.access_expires_at,
    )
    with GoogleCalendarClient(config, credentials, on_tokens=lambda _: None) as client:
        entries = client.list_calendars()
    primary = next((e for e in entries if e.get("primary")), None)
    if primary is None or not primary.get("id"):
        raise PermanentError(PROVIDER, "the account has no primary calendar")
    return OAuthAccount(str(primary["id"]), str(primary.get("summary") or primary["id"]))


# --------------------------------------------------------------------------- the API's connect flow


def _app(app: OAuthApp) -> GoogleCalendarApp:
    return GoogleCalendarApp.model_validate({**app.config, "client_id": app.client_id})


def _flow_authorization_url(app: OAuthApp, redirect_uri: str, state: str, challenge: str | None) -> str:
    return authorization_url(_app(app), redirect_uri, state, challenge)


def _flow_exchange(
    app: OAuthApp, params: Mapping[str, str], redirect_uri: str, verifier: str | None
) -> OAuthGrant:
    if params.get("error"):
        raise AuthError(PROVIDER, f"consent not given ({params['error']})")
    if not params.get("code"):
        raise PermanentError(PROVIDER, "the callback carried no code")
    google_app = _app(app)
    secret = app.client_secret.get_secret_value()
    tokens = exchange_code(google_app, secret, params["code"], redirect_uri, verifier)
    return OAuthGrant(tokens=tokens, accounts=(primary_calendar(google_app, secret, tokens),))


def _flow_connection(
    app: OAuthApp, account: OAuthAccount, tokens: TokenSet
) -> tuple[GoogleCalendarConfig, GoogleCalendarCredentials]:
    config = GoogleCalendarConfig.model_validate(
        {**app.config, "client_id": app.client_id, "account_email": account.id, "calendar_ids": (account.id,)}
    )
    credentials = GoogleCalendarCredentials(
        client_secret=app.client_secret,
        refresh_token=SecretStr(tokens.refresh_token),
        access_token=SecretStr(tokens.access_token),
        expires_at=tokens.access_expires_at,
    )
    return config, credentials


def _flow_revoke(config: GoogleCalendarConfig, credentials: GoogleCalendarCredentials) -> None:
    revoke(config, credentials.refresh_token.get_secret_value())


FLOW = OAuthFlow(
    pkce=True,
    authorization_url=_flow_authorization_url,
    exchange=_flow_exchange,
    connection=_flow_connection,
    revoke=_flow_revoke,
)
