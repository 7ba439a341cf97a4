"""Google's OAuth 2.0 endpoints for web server apps (developers.google.com/identity/protocols/oauth2/
web-server), under this mount:

- ``https://accounts.google.com/o/oauth2/v2/auth`` → ``/o/oauth2/v2/auth``: approves at once (no sign-in or
  consent screen) as the user named by ``login_hint``, else the one chosen with ``PUT /_sandbox/consent``,
  else the demo user; redirects with ``state``, ``code`` and ``scope``. ``access_type=offline`` makes the
  code exchange answer a refresh token. PKCE: ``code_challenge`` (S256 or plain).
- ``https://oauth2.googleapis.com/token`` → ``/token``: ``authorization_code`` and ``refresh_token``
  grants; the client authenticates with ``client_id``/``client_secret`` form fields (or HTTP Basic). Errors
  are ``{"error": "invalid_grant", "error_description": …}`` (400), ``invalid_client`` (401).
- ``https://oauth2.googleapis.com/revoke`` → ``/revoke``: ``token`` (access or refresh) in the form or the
  query; revokes the whole grant.
- ``https://accounts.google.com/.well-known/openid-configuration`` → ``/.well-known/openid-configuration``.
"""

import base64
import binascii
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from connectors.sandbox.common.asgi import TENANT_SCOPE_KEY
from connectors.sandbox.google.state import GoogleState
from connectors.sandbox.google.tokens import Issued, OAuthError

CALENDAR_SCOPES = frozenset(
    f"https://www.googleapis.com/auth/{name}"
    for name in (
        "calendar",
        "calendar.readonly",
        "calendar.events",
        "calendar.events.readonly",
        "calendar.calendarlist",
        "calendar.calendarlist.readonly",
    )
)
SCOPES = CALENDAR_SCOPES | {"openid", "email", "profile"}
DEFAULT_GRANT_SCOPES = (
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.readonly",
)


def mount_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


def token_payload(issued: Issued) -> dict[str, Any]:
    payload: dict[str, Any] = {"access_token": issued.access_token, "expires_in": issued.expires_in}
    if issued.refresh_token:
        payload["refresh_token"] = issued.refresh_token
    payload["scope"] = " ".join(issued.grant.scopes)
    payload["token_type"] = "Bearer"  # noqa: S105 - not a secret
    return payload


def _error(error: OAuthError) -> JSONResponse:
    return JSONResponse(
        {"error": error.error, "error_description": error.description},
        error.status,
        {"Cache-Control": "no-store"},
    )


async def _form(request: Request) -> dict[str, str]:
    # Parsed by hand: Starlette's form parser needs python-multipart, which this project does not ship.
    raw = (await request.body()).decode("utf-8", "replace")
    form = {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}
    return {**dict(request.query_params), **form}


def oauth_router(state: GoogleState) -> APIRouter:
    router = APIRouter(tags=["Google OAuth 2.0"])

    def client_of(request: Request, form: dict[str, str]) -> str:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if scheme.lower() == "basic":
            try:
                client_id, _, secret = base64.b64decode(encoded.strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                client_id = secret = ""
        if client_id != state.client_id or secret != state.client_secret:
            raise OAuthError("invalid_client", "The OAuth client was not found.", 401)
        return client_id

    @router.get("/.well-known/openid-configuration", summary="OpenID discovery (endpoints)")
    async def discovery(request: Request) -> dict[str, Any]:
        base = mount_url(request)
        return {
            "issuer": base,
            "authorization_endpoint": base + "/o/oauth2/v2/auth",
            "token_endpoint": base + "/token",
            "revocation_endpoint": base + "/revoke",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "scopes_supported": sorted(SCOPES),
        }

    @router.get("/o/oauth2/v2/auth", summary="Authorization endpoint (approves at once)")
    async def authorize(request: Request) -> Response:
        params = request.query_params
        redirect_uri = params.get("redirect_uri")
        if params.get("client_id") != state.client_id:
            return JSONResponse(
                {"error": "invalid_client", "error_description": "The OAuth client was not found."}, 401
            )
        if not redirect_uri:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "Missing redirect_uri"}, 400
            )

        def back(**answer: str) -> RedirectResponse:
            if params.get("state") is not None:
                answer = {"state": params["state"], **answer}
            separator = "&" if "?" in redirect_uri else "?"
            return RedirectResponse(f"{redirect_uri}{separator}{urlencode(answer)}", status_code=302)

        if params.get("response_type") != "code":
            return back(error="unsupported_response_type")
        scopes = tuple(params.get("scope", "").split())
        if not scopes or any(scope not in SCOPES for scope in scopes):
            return back(error="invalid_scope")
        method = params.get("code_challenge_method", "plain")
        if params.get("code_challenge") and method not in ("plain", "S256"):
            return back(error="invalid_request")
        email = state.consenting_email(params.get("login_hint"))
        if email is None:
            return back(error="access_denied")
        code = state.tokens.issue_code(
            state.client_id,
            redirect_uri,
            scopes,
            email,
            offline=params.get("access_type") == "offline",
            challenge=params.get("code_challenge"),
            challenge_method=method,
        )
        return back(code=code, scope=" ".join(scopes), authuser="0", prompt="consent")

    @router.post("/token", summary="Token endpoint: authorization_code and refresh_token grants")
    async def token(request: Request) -> Response:
        form = await _form(request)
        try:
            client_id = client_of(request, form)
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                if not form.get("code"):
                    raise OAuthError("invalid_request", "Missing required parameter: code")
                issued = state.tokens.redeem_code(
                    form["code"], client_id, form.get("redirect_uri"), form.get("code_verifier")
                )
            elif grant_type == "refresh_token":
                if not form.get("refresh_token"):
                    raise OAuthError("invalid_request", "Missing required parameter: refresh_token")
                issued = state.tokens.refresh(form["refresh_token"], client_id)
            else:
                raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant_type or ''}")
        except OAuthError as error:
            return _error(error)
        request.scope[TENANT_SCOPE_KEY] = issued.grant.email
        return JSONResponse(
            token_payload(issued), headers={"Cache-Control": "no-store", "Pragma": "no-cache"}
        )

    @router.post("/revoke", summary="Revoke an access or refresh token (and its grant)")
    async def revoke(request: Request) -> Response:
        form = await _form(request)
        if not form.get("token") or not state.tokens.revoke(form["token"]):
            return JSONResponse(
                {"error": "invalid_token", "error_description": "Token expired or revoked"}, 400
            )
        return JSONResponse({})

    return router
