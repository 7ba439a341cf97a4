"""OAuth v2 for Slack apps ("Installing with OAuth", https://api.slack.com/authentication/oauth-v2).

``GET /oauth/v2/authorize?client_id&scope&redirect_uri&state[&team]`` is Slack's consent screen; the
sandbox approves at once for the workspace named by ``team`` (default: the demo workspace) and redirects
to ``redirect_uri`` with ``code`` and ``state``. ``oauth.v2.access`` exchanges the code (client
credentials as HTTP Basic or ``client_id``/``client_secret`` arguments) for a bot token, answered in the
shape of the method's reference example (https://api.slack.com/methods/oauth.v2.access).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import HTTPException, Request

from connectors.sandbox.slack.errors import SlackApiError
from connectors.sandbox.slack.state import AuthorizationCode, SlackState


def _scopes(text: str | None) -> tuple[str, ...]:
    return tuple(s for s in (text or "").replace(" ", ",").split(",") if s)


def authorize(state: SlackState, params: dict[str, str]) -> str:
    if params.get("client_id") != state.settings.slack_client_id:
        raise HTTPException(400, "invalid_client_id")
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        raise HTTPException(400, "bad_redirect_uri: the sandbox needs a redirect_uri to send the code to")
    team_id = params.get("team") or state.settings.slack_demo_team_id
    if team_id not in state.workspaces:
        raise HTTPException(404, f"no sandbox workspace {team_id}")
    code = f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
    state.codes[code] = AuthorizationCode(
        team_id=team_id,
        client_id=params["client_id"],
        redirect_uri=redirect_uri,
        scopes=_scopes(params.get("scope")),
        expires_at=state.now() + state.settings.slack_authorization_code_ttl,
    )
    query = {"code": code}
    if params.get("state"):
        query["state"] = params["state"]
    separator = "&" if "?" in redirect_uri else "?"
    return f"{redirect_uri}{separator}{urlencode(query)}"


def _client_credentials(request: Request, args: dict[str, Any]) -> tuple[str | None, str | None]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
            return client_id, secret
        except (binascii.Error, UnicodeDecodeError):
            return None, None
    return args.get("client_id"), args.get("client_secret")


def access(state: SlackState, request: Request, args: dict[str, Any]) -> dict[str, Any]:
    settings = state.settings
    client_id, client_secret = _client_credentials(request, args)
    if client_id != settings.slack_client_id:
        raise SlackApiError("invalid_client_id")
    if client_secret != settings.slack_client_secret.get_secret_value():
        raise SlackApiError("bad_client_secret")
    grant = state.codes.pop(str(args.get("code") or ""), None)  # a code is good once
    if grant is None or grant.expires_at < state.now():
        raise SlackApiError("invalid_code")
    if grant.redirect_uri and args.get("redirect_uri") not in (None, grant.redirect_uri):
        raise SlackApiError("bad_redirect_uri")
    workspace = state.workspaces[grant.team_id]
    token = state.issue_token(workspace, grant.scopes)
    return {
        "access_token": token.token,
        "token_type": "bot",
        "scope": ",".join(token.scopes),
        "bot_user_id": workspace.bot_user_id,
        "app_id": workspace.app_id,
        "team": {"name": workspace.name, "id": workspace.team_id},
        "enterprise": None,
        "is_enterprise_install": False,
        "authed_user": {"id": "U" + workspace.team_id[1:]},
    }
