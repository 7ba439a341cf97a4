"""Installing the firmsync Slack app into a workspace ("Installing with OAuth",
https://api.slack.com/authentication/oauth-v2), as an `OAuthFlow` for core_api's connect flow.

Send the firm to `https://slack.com/oauth/v2/authorize` with `client_id`, the bot `scope`s (comma
separated), `redirect_uri` and `state`; the callback's `code` is exchanged with the Web API method
`oauth.v2.access` (client id and secret as HTTP Basic), which answers the bot token (`xoxb-…`, no expiry
unless the app opts into token rotation), the granted scopes and the workspace (`team`). One install is
one workspace. Disconnecting calls `auth.revoke` with the bot token. No PKCE: Slack's flow for apps with
a client secret does not use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from pydantic import SecretStr

from connectors.base import PermanentError, TokenSet
from connectors.oauth import OAuthAccount, OAuthApp, OAuthFlow, OAuthGrant
from connectors.slack.client import PROVIDER, calling, make_web_client
from connectors.slack.config import SlackApp, SlackConfig, SlackCredentials


def slack_app(app: OAuthApp) -> SlackApp:
    return SlackApp.model_validate({**app.config, "client_id": app.client_id})


def authorization_url(app: SlackApp, redirect_uri: str, state: str) -> str:
    params = {
        "client_id": app.client_id,
        "scope": ",".join(app.scopes),
        "redirect_uri": redirect_uri,
        "state": state,
    }
    return f"{app.authorize_url}?{urlencode(params)}"


def exchange_code(
    app: SlackApp, client_secret: str, code: str, redirect_uri: str
) -> tuple[TokenSet, OAuthAccount]:
    """The callback's code → the bot token and the workspace it is for. AuthError/PermanentError when
    Slack refuses (`invalid_code`, `bad_client_secret`, `bad_redirect_uri`)."""
    web = make_web_client(app.api_base_url, None)
    answer = calling(
        "oauth.v2.access",
        lambda: web.oauth_v2_access(
            client_id=app.client_id, client_secret=client_secret, code=code, redirect_uri=redirect_uri
        ),
    ).data
    if not isinstance(answer, dict) or answer.get("token_type") != "bot" or not answer.get("access_token"):
        raise PermanentError(PROVIDER, "oauth.v2.access answered without a bot token")
    team = answer.get("team") or {}
    if not team.get("id"):
        raise PermanentError(PROVIDER, "oauth.v2.access answered without the workspace")
    tokens = TokenSet(
        access_token=str(answer["access_token"]),
        refresh_token=str(answer.get("refresh_token") or ""),  # only with token rotation
        access_expires_at=None,
        refresh_expires_at=None,
    )
    return tokens, OAuthAccount(str(team["id"]), str(team.get("name") or team["id"]))


def revoke(config: SlackConfig, credentials: SlackCredentials) -> None:
    if credentials.bot_token is None:
        return
    web = make_web_client(config.api_base_url, credentials.bot_token.get_secret_value())
    calling("auth.revoke", lambda: web.auth_revoke())


# --------------------------------------------------------------------------- the API's connect flow


def _flow_authorization_url(app: OAuthApp, redirect_uri: str, state: str, _challenge: str | None) -> str:
    return authorization_url(slack_app(app), redirect_uri, state)


def _flow_exchange(
    app: OAuthApp, params: Mapping[str, str], redirect_uri: str, _verifier: str | None
) -> OAuthGrant:
    if params.get("error"):  # the user pressed Cancel: `error=access_denied`
        raise PermanentError(PROVIDER, f"the install was not approved: {params['error']}")
    if not params.get("code"):
        raise PermanentError(PROVIDER, "the callback carried no code")
    tokens, account = exchange_code(
        slack_app(app), app.client_secret.get_secret_value(), params["code"], redirect_uri
    )
    return OAuthGrant(tokens=tokens, accounts=(account,))


def _flow_connection(
    app: OAuthApp, account: OAuthAccount, tokens: TokenSet
) -> tuple[SlackConfig, SlackCredentials]:
    settings = slack_app(app)
    config = SlackConfig(team_id=account.id, api_base_url=settings.api_base_url, channel=settings.channel)
    credentials = SlackCredentials(
        signing_secret=settings.signing_secret, bot_token=SecretStr(tokens.access_token)
    )
    return config, credentials


FLOW = OAuthFlow(
    pkce=False,
    authorization_url=_flow_authorization_url,
    exchange=_flow_exchange,
    connection=_flow_connection,
    revoke=revoke,
)
