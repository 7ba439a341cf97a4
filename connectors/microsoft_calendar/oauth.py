"""The connect flow for a Microsoft 365 calendar (the API's `OAuthFlow`), through msal.

The platform's app registration is the OAuth app (`FIRMSYNC_OAUTH_APPS["microsoft_calendar"]`: client id and
secret, and in `config` the connection fields every connection gets — `authority_host`, `tenant_id`
(`organizations` for a multi-tenant app), `graph_url`, `instance_discovery`, `ca_bundle`). Authorization code
with PKCE (learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow):

- the authorization URL is msal's `get_authorization_request_url` (the authority's authorization endpoint)
  with the platform's own state and S256 challenge (the API's connect session keeps state and verifier,
  ADR 0009), `prompt=select_account`;
- the callback's code is redeemed with `acquire_token_by_authorization_code` (plus `code_verifier`); the
  consenting user is the ID token's `preferred_username`, their tenant Graph's `GET /organization`.
  msal 1.39 marks both calls deprecated in favour of `initiate_auth_code_flow`, whose flow dict carries
  msal's own state and PKCE verifier — a second session beside the platform's; both calls still work.
- Entra ID has no per-grant revocation (`revokeSignInSessions` would sign the user out everywhere), so
  removing the connection forgets its tokens and the user or an admin removes the app's consent.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import msal
import requests
from pydantic import SecretStr

from connectors.base import AuthError, PermanentError, TokenSet, TransientError
from connectors.microsoft_calendar.client import MicrosoftCalendarClient
from connectors.microsoft_calendar.config import MicrosoftCalendarConfig, MicrosoftCalendarCredentials
from connectors.microsoft_calendar.transport import PROVIDER, PinnedSession
from connectors.oauth import OAuthAccount, OAuthApp, OAuthFlow, OAuthGrant

PENDING_ACCOUNT = "pending@consent.invalid"


def _config(app: OAuthApp, **fields: Any) -> MicrosoftCalendarConfig:
    base = {"tenant_id": "organizations", "account_email": PENDING_ACCOUNT}
    return MicrosoftCalendarConfig.model_validate(
        {**base, **app.config, "client_id": app.client_id, **fields}
    )


def _msal(app: OAuthApp) -> msal.ConfidentialClientApplication:
    config = _config(app)
    options: dict[str, Any] = {} if config.instance_discovery else {"instance_discovery": False}
    try:
        return msal.ConfidentialClientApplication(
            app.client_id,
            client_credential=app.client_secret.get_secret_value(),
            authority=config.authority,
            http_client=PinnedSession(config.ca_bundle),
            **options,
        )
    except requests.exceptions.SSLError as error:
        raise PermanentError(PROVIDER, "TLS verification of the authority failed") from error
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
        raise TransientError(PROVIDER, f"authority unreachable ({type(error).__name__})") from error
    except ValueError as error:
        raise PermanentError(PROVIDER, f"authority refused: {str(error)[:200]}") from None


def _authorization_url(app: OAuthApp, redirect_uri: str, state: str, challenge: str | None) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # see the module docstring: the state is ours
        url = _msal(app).get_authorization_request_url(
            list(_config(app).scopes), state=state, redirect_uri=redirect_uri, prompt="select_account"
        )
    if challenge:  # msal builds no PKCE here (its own lives in its flow dict): the platform's is added
        url += "&" + urlencode({"code_challenge": challenge, "code_challenge_method": "S256"})
    return url


def _exchange(
    app: OAuthApp, params: Mapping[str, str], redirect_uri: str, verifier: str | None
) -> OAuthGrant:
    if params.get("error"):
        raise AuthError(PROVIDER, f"consent not given ({params['error']})")
    if not params.get("code"):
        raise PermanentError(PROVIDER, "the callback carried no code")
    data = {"code_verifier": verifier} if verifier else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        result = _msal(app).acquire_token_by_authorization_code(
            params["code"], list(_config(app).scopes), redirect_uri=redirect_uri, data=data
        )
    if "access_token" not in result:
        raise AuthError(PROVIDER, f"Entra ID refused the code ({result.get('error') or 'no token'})")
    if not result.get("refresh_token"):
        raise PermanentError(PROVIDER, "no refresh token: the consent did not include offline_access")
    claims = result.get("id_token_claims") or {}
    address = str(claims.get("preferred_username") or "").lower()
    if "@" not in address:
        raise PermanentError(PROVIDER, "the ID token names no user principal")
    tokens = TokenSet(
        access_token=str(result["access_token"]),
        refresh_token=str(result["refresh_token"]),
        access_expires_at=datetime.now(UTC) + timedelta(seconds=int(result.get("expires_in") or 3600)),
        refresh_expires_at=None,
    )
    return OAuthGrant(tokens=tokens, accounts=(OAuthAccount(address, str(claims.get("name") or address)),))


def _connection(
    app: OAuthApp, account: OAuthAccount, tokens: TokenSet
) -> tuple[MicrosoftCalendarConfig, MicrosoftCalendarCredentials]:
    credentials = MicrosoftCalendarCredentials(
        client_secret=app.client_secret,
        refresh_token=SecretStr(tokens.refresh_token),
        access_token=SecretStr(tokens.access_token),
        expires_at=tokens.access_expires_at,
    )
    # The fresh access token reads the tenant; msal is not needed (nor built) for that call.
    with MicrosoftCalendarClient(_config(app), credentials, on_tokens=lambda _: None) as client:
        tenant_id = str(client.organization()["id"])
    return _config(app, tenant_id=tenant_id, account_email=account.id), credentials


def _revoke(config: MicrosoftCalendarConfig, credentials: MicrosoftCalendarCredentials) -> None:
    return None  # no per-grant revocation at Entra ID (see the module docstring)


FLOW = OAuthFlow(
    pkce=True,
    authorization_url=_authorization_url,
    exchange=_exchange,
    connection=_connection,
    revoke=_revoke,
)
