"""OAuth 2.0 web server flow (Salesforce Help: "OAuth 2.0 Web Server Flow for Web App Integration"):

- ``GET /services/oauth2/authorize?response_type=code&client_id=&redirect_uri=&state=`` approves at once as
  the org's admin (the sandbox has no login page) and redirects with ``code`` and ``state``; ``login_hint``
  (a username) picks the org, else the admin API's consent org, else the demo org.
- ``POST /services/oauth2/token`` (form): ``grant_type=authorization_code`` (code, redirect_uri) answers an
  access and a refresh token; ``grant_type=refresh_token`` a new access token only (Salesforce does not
  rotate refresh tokens by default). Both carry ``instance_url``, ``id``, ``issued_at`` (ms), ``signature``,
  ``token_type`` and ``scope``; no ``expires_in`` — sessions time out after the org's session timeout.
- ``POST /services/oauth2/revoke`` (form ``token``) revokes the org's refresh tokens (and their sessions).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from connectors.sandbox.salesforce import errors
from connectors.sandbox.salesforce.state import Org, SalesforceState

SCOPE = "refresh_token api id"


def instance_url(state: SalesforceState, request: Request) -> str:
    """Where the org's API lives, as the token answer names it: simple-salesforce keeps only the host and
    port of it, and the sandbox serves ``/services`` at its root on the TLS port too."""
    configured = state.settings.salesforce_instance_url
    if configured:
        return configured.rstrip("/")
    if state.settings.tls_port:
        return f"https://localhost:{state.settings.tls_port}"
    return f"{request.url.scheme}://{request.url.netloc}"


def token_answer(state: SalesforceState, request: Request, org: Org, *, refresh_token: str | None) -> dict:
    access = state.issue_access(org)
    issued = str(int(state.clock.now() * 1000))
    base = instance_url(state, request)
    identity = f"{base}/id/{org.org_id}/{org.user_id}"
    key = state.client_secret.encode()
    signature = base64.b64encode(
        hmac.new(key, (identity + issued).encode(), hashlib.sha256).digest()
    ).decode()
    body = {
        "access_token": access,
        "signature": signature,
        "scope": SCOPE,
        "instance_url": base,
        "id": identity,
        "token_type": "Bearer",
        "issued_at": issued,
    }
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    return body


def _oauth_error(error: errors.OAuthError) -> Response:
    return JSONResponse(
        {"error": error.error, "error_description": error.description}, status_code=error.status
    )


async def _form(request: Request) -> dict[str, str]:
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))


def oauth_router(state: SalesforceState) -> APIRouter:
    router = APIRouter(prefix="/services/oauth2", tags=["Salesforce OAuth 2.0"])

    def consenting_org(login_hint: str | None) -> Org | None:
        if login_hint:
            for org in state.orgs.values():
                if org.username.lower() == login_hint.lower():
                    return org
        chosen = state.consent_org or state.settings.salesforce_demo_org_id
        return state.orgs.get(chosen) or next(iter(state.orgs.values()), None)

    @router.get("/authorize", summary="Authorization endpoint (approves at once)")
    async def authorize(request: Request) -> Response:
        params = request.query_params
        redirect_uri = params.get("redirect_uri")
        if params.get("client_id") != state.client_id:
            return JSONResponse(
                {"error": "invalid_client_id", "error_description": "client identifier invalid"}, 400
            )
        if not redirect_uri:
            return JSONResponse(
                {"error": "redirect_uri_missing", "error_description": "redirect_uri must be set"}, 400
            )
        answer: dict[str, str] = {}
        org = consenting_org(params.get("login_hint"))
        if params.get("response_type") != "code":
            answer = {
                "error": "unsupported_response_type",
                "error_description": "response type not supported",
            }
        elif org is None:
            answer = {"error": "access_denied", "error_description": "no org to approve"}
        else:
            answer = {"code": state.issue_code(org, redirect_uri)}
        if params.get("state") is not None:
            answer["state"] = params["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(f"{redirect_uri}{separator}{urlencode(answer)}", status_code=302)

    @router.post("/token", summary="Token endpoint")
    async def token(request: Request) -> Response:
        form = await _form(request)
        try:
            client_id = form.get("client_id")
            client_secret = form.get("client_secret")
            auth = request.headers.get("authorization", "")
            if auth.lower().startswith("basic "):
                decoded = base64.b64decode(auth[6:]).decode()
                client_id, _, client_secret = decoded.partition(":")
            if client_id != state.client_id:
                raise errors.OAuthError("invalid_client_id", "client identifier invalid")
            if not secrets.compare_digest(str(client_secret or ""), state.client_secret):
                raise errors.OAuthError("invalid_client", "invalid client credentials")
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                org = state.redeem_code(str(form.get("code") or ""), form.get("redirect_uri"))
                return JSONResponse(token_answer(state, request, org, refresh_token=state.issue_refresh(org)))
            if grant_type == "refresh_token":
                org = state.org_of_refresh(str(form.get("refresh_token") or ""))
                return JSONResponse(token_answer(state, request, org, refresh_token=None))
            raise errors.OAuthError("unsupported_grant_type", "grant type not supported")
        except errors.OAuthError as error:
            return _oauth_error(error)

    @router.post("/revoke", summary="Revoke a token")
    async def revoke(request: Request) -> Response:
        form = await _form(request)
        token = str(form.get("token") or request.query_params.get("token") or "")
        org = state.org_of_access(token)
        if org is None:
            try:
                org = state.org_of_refresh(token)
            except errors.OAuthError:
                return _oauth_error(
                    errors.OAuthError("unsupported_token_type", "this token type is not supported")
                )
        org.access_tokens_expired_at = org.refresh_tokens_revoked_at = state.clock.now()
        return Response(status_code=200)

    return router
