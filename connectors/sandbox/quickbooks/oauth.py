"""Intuit's OAuth 2.0 / OpenID Connect endpoints (developer.intuit.com .../authentication-and-authorization).

Discovery documents list every endpoint as an absolute URL back into this mount, so the intuit-oauth
SDK works when given the discovery URL as its ``environment``. The consent screen is skipped: the
authorization endpoint approves at once for the demo realm, or for the realm named by a ``realmId``
hint, and redirects with ``code``, ``state`` and ``realmId`` as Intuit does.
"""

import base64
import binascii
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from connectors.sandbox.common.asgi import TENANT_SCOPE_KEY
from connectors.sandbox.quickbooks.state import QuickBooksState
from connectors.sandbox.quickbooks.tokens import AccessDenied, IssuedTokens, OAuthError

DISCOVERY_PATHS = (
    "/.well-known/openid_sandbox_configuration",
    "/.well-known/openid_sandbox_configuration/",
    "/.well-known/openid_configuration",
    "/.well-known/openid_configuration/",
)
TOKEN_PATH = "/oauth2/v1/tokens/bearer"  # noqa: S105 - a URL path, not a secret
REVOKE_PATH = "/oauth2/v1/tokens/revoke"
AUTHORIZE_PATH = "/connect/oauth2"
USERINFO_PATH = "/v1/openid_connect/userinfo"
JWKS_PATH = "/op/v1/jwks"
ISSUER_PATH = "/op/v1"
SCOPES = ("com.intuit.quickbooks.accounting", "com.intuit.quickbooks.payment", "openid", "profile", "email")


def mount_url(request: Request) -> str:
    """This emulator's external base URL, e.g. ``http://127.0.0.1:8900/quickbooks``."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


def token_payload(issued: IssuedTokens, id_token: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "token_type": "bearer",
        "access_token": issued.access_token,
        "expires_in": issued.expires_in,
        "refresh_token": issued.refresh_token,
        "x_refresh_token_expires_in": issued.refresh_expires_in,
    }
    if id_token:
        payload["id_token"] = id_token
    return payload


def oauth_error_response(error: OAuthError) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="Intuit"'
    return JSONResponse({"error": error.error, "error_description": error.description}, error.status, headers)


async def _form(request: Request) -> dict[str, str]:
    # Parsed by hand: Starlette's form parser needs python-multipart, which this project does not ship.
    raw = (await request.body()).decode("utf-8", "replace")
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(raw or "{}")
        except ValueError:
            return {}
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}


def oauth_router(state: QuickBooksState) -> APIRouter:
    router = APIRouter(tags=["Intuit OAuth 2.0"])

    def authenticate_client(request: Request, form: dict[str, str]) -> str:
        """client_secret_basic (what Intuit's SDKs send) or client_secret_post."""
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                client_id, _, secret = base64.b64decode(encoded.strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                client_id = secret = ""
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if client_id != state.client_id or secret != state.client_secret:
            raise OAuthError(401, "invalid_client", "client authentication failed")
        return client_id

    def id_token_for(request: Request, issued: IssuedTokens) -> str | None:
        if "openid" not in issued.scope.split():
            return None
        now = int(state.clock.now())
        claims = {
            "iss": mount_url(request) + ISSUER_PATH,
            "aud": [state.client_id],
            "sub": _user_id(issued.realm),
            "realmid": issued.realm,
            "auth_time": now,
            "iat": now,
            "exp": now + 3600,
        }
        return state.oidc_key.sign(claims)

    async def discovery(request: Request) -> dict[str, Any]:
        base = mount_url(request)
        return {
            "issuer": base + ISSUER_PATH,
            "authorization_endpoint": base + AUTHORIZE_PATH,
            "token_endpoint": base + TOKEN_PATH,
            "userinfo_endpoint": base + USERINFO_PATH,
            "revocation_endpoint": base + REVOKE_PATH,
            "jwks_uri": base + JWKS_PATH,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(SCOPES),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        }

    # Sandbox and production document names, with and without the trailing slash intuit-oauth uses.
    for number, path in enumerate(DISCOVERY_PATHS):
        router.add_api_route(
            path,
            discovery,
            methods=["GET"],
            name=f"discovery_{number}",
            include_in_schema=number == 0,
            summary="OpenID discovery document",
        )

    @router.get(AUTHORIZE_PATH, summary="Authorization endpoint (approves at once)")
    async def authorize(request: Request) -> Response:
        params = request.query_params
        redirect_uri = params.get("redirect_uri")
        if params.get("client_id") != state.client_id:
            return JSONResponse({"error": "invalid_client", "error_description": "unknown client_id"}, 400)
        if not redirect_uri:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "redirect_uri is required"}, 400
            )

        def back(**answer: str) -> RedirectResponse:
            if params.get("state") is not None:
                answer["state"] = params["state"]
            separator = "&" if "?" in redirect_uri else "?"
            return RedirectResponse(f"{redirect_uri}{separator}{urlencode(answer)}", status_code=302)

        if params.get("response_type") != "code":
            return back(error="unsupported_response_type")
        scope = " ".join(params.get("scope", "").split())
        if not scope or any(item not in SCOPES for item in scope.split()):
            return back(error="invalid_scope")
        realm_id = params.get("realmId") or state.demo_realm_id
        if realm_id not in state.realms:
            return back(error="access_denied", error_description=f"no sandbox company {realm_id}")
        code = state.tokens.issue_code(realm_id, state.client_id, redirect_uri, scope)
        return back(code=code, realmId=realm_id)

    @router.post(TOKEN_PATH, summary="Token endpoint: authorization_code and refresh_token grants")
    async def token(request: Request) -> Response:
        form = await _form(request)
        try:
            client_id = authenticate_client(request, form)
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                if not form.get("code"):
                    raise OAuthError(400, "invalid_request", "code is required")
                issued = state.tokens.redeem_code(form["code"], client_id, form.get("redirect_uri"))
            elif grant_type == "refresh_token":
                if not form.get("refresh_token"):
                    raise OAuthError(400, "invalid_request", "refresh_token is required")
                issued = state.tokens.refresh(form["refresh_token"], client_id)
            elif not grant_type:
                raise OAuthError(400, "invalid_request", "grant_type is required")
            else:
                raise OAuthError(400, "unsupported_grant_type", f"grant_type {grant_type} is not supported")
        except OAuthError as error:
            return oauth_error_response(error)
        request.scope[TENANT_SCOPE_KEY] = issued.realm
        return JSONResponse(
            token_payload(issued, id_token_for(request, issued)), headers={"Cache-Control": "no-store"}
        )

    @router.post(REVOKE_PATH, summary="Revoke a refresh or access token (and its whole grant)")
    async def revoke(request: Request) -> Response:
        form = await _form(request)
        try:
            authenticate_client(request, form)
        except OAuthError as error:
            return oauth_error_response(error)
        if not form.get("token"):
            return oauth_error_response(OAuthError(400, "invalid_request", "token is required"))
        # RFC 7009: an unknown token is not an error; there is simply nothing to revoke.
        state.tokens.revoke(form["token"])
        return Response(status_code=200)

    @router.get(USERINFO_PATH, summary="OpenID Connect user info")
    async def userinfo(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            if scheme.lower() != "bearer":
                raise AccessDenied("Authorization header is missing or is not a Bearer token")
            claims = state.tokens.verify_access(token.strip())
        except AccessDenied as denied:
            return JSONResponse({"error": "invalid_token", "error_description": str(denied)}, 401)
        if "openid" not in claims.scope.split():
            return JSONResponse(
                {"error": "insufficient_scope", "error_description": "openid scope required"}, 403
            )
        return JSONResponse(
            {
                "sub": _user_id(claims.realm),
                "email": "sandbox.admin@firmsync.example",
                "emailVerified": True,
                "givenName": "Sandbox",
                "familyName": "Admin",
            }
        )

    @router.get(JWKS_PATH, summary="Keys that sign ID tokens")
    async def jwks() -> dict[str, Any]:
        return state.oidc_key.jwks()

    return router


def _user_id(realm_id: str) -> str:
    digest = hashlib.sha256(f"sandbox-user:{realm_id}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
