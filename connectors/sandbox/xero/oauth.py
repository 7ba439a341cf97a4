"""Xero Identity (OAuth 2.0 / OpenID Connect) and the Connections endpoint.

Real URLs and their sandbox counterparts under this mount:

- ``https://login.xero.com/identity/connect/authorize`` → ``/identity/connect/authorize``: approves
  at once (no login or consent screen) and redirects with ``code``, ``scope``, ``state`` and
  ``session_state``. The consent covers every tenant of the sandbox app, or the set chosen with
  ``PUT /_sandbox/consent``. PKCE: ``code_challenge`` with ``code_challenge_method=S256``.
- ``https://identity.xero.com/connect/token`` → ``/identity/connect/token``: ``authorization_code``
  and ``refresh_token`` grants; client authentication by HTTP Basic or ``client_id`` /
  ``client_secret`` form fields (a PKCE client sends ``client_id`` and ``code_verifier`` only).
  Errors are ``{"error": "invalid_grant"}`` (400) and the like.
- ``https://identity.xero.com/connect/revocation`` → ``/identity/connect/revocation``: revokes a
  refresh token's whole consent; 200 with an empty body.
- ``https://identity.xero.com/.well-known/openid-configuration`` (and ``/jwks``, ``/connect/userinfo``)
  under ``/identity``.
- ``https://api.xero.com/connections`` → ``/connections`` (``/Connections`` too, as xero-python
  spells it): the tenants the token's consent is connected to; ``DELETE /connections/{id}``
  disconnects one.
"""

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from connectors.sandbox.common.asgi import TENANT_SCOPE_KEY
from connectors.sandbox.xero.errors import problem_body, unauthorized
from connectors.sandbox.xero.state import XeroState
from connectors.sandbox.xero.tokens import AccessDenied, Consent, Issued, OAuthError

SCOPES = frozenset(
    [
        "openid",
        "profile",
        "email",
        "offline_access",
        "accounting.transactions",
        "accounting.transactions.read",
        "accounting.invoices",
        "accounting.invoices.read",
        "accounting.payments",
        "accounting.payments.read",
        "accounting.banktransactions",
        "accounting.banktransactions.read",
        "accounting.manualjournals",
        "accounting.manualjournals.read",
        "accounting.contacts",
        "accounting.contacts.read",
        "accounting.settings",
        "accounting.settings.read",
        "accounting.attachments",
        "accounting.attachments.read",
        "accounting.reports.read",
        "accounting.journals.read",
        "accounting.budgets.read",
    ]
)
DEFAULT_GRANT_SCOPE = (
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounting.transactions",
    "accounting.contacts",
    "accounting.settings",
)
ID_TOKEN_TTL = 300


def mount_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


def token_payload(issued: Issued, id_token: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if id_token:
        payload["id_token"] = id_token
    payload.update(access_token=issued.access_token, expires_in=issued.expires_in, token_type="Bearer")  # noqa: S106 - not a secret
    if issued.refresh_token:
        payload["refresh_token"] = issued.refresh_token
    payload["scope"] = " ".join(issued.consent.scope)
    return payload


def _oauth_error(error: OAuthError) -> JSONResponse:
    return JSONResponse({"error": error.error}, error.status, {"Cache-Control": "no-store"})


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


def _problem(status: int, detail: str) -> Response:
    return Response(problem_body(status, detail), status, media_type="application/json; charset=utf-8")


def oauth_router(state: XeroState) -> APIRouter:
    router = APIRouter(tags=["Xero Identity (OAuth 2.0) and Connections"])

    def authenticate_client(request: Request, form: dict[str, str]) -> tuple[str, bool]:
        """The client id, and whether it authenticated without a secret (a PKCE public client)."""
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                client_id, _, secret = base64.b64decode(encoded.strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                client_id = secret = ""
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if client_id != state.client_id or (secret and secret != state.client_secret):
            raise OAuthError("invalid_client", "client authentication failed")
        return client_id, not secret

    def id_token_for(request: Request, issued: Issued) -> str | None:
        consent = issued.consent
        if "openid" not in consent.scope:
            return None
        now = int(state.clock.now())
        return state.oidc_key.sign(
            {
                "nbf": now,
                "exp": now + ID_TOKEN_TTL,
                "iss": mount_url(request) + "/identity",
                "aud": consent.client_id,
                "iat": now,
                "auth_time": consent.auth_time,
                "sub": consent.user_id.replace("-", ""),
                "sid": consent.grant_id.replace("-", ""),
                "xero_userid": consent.user_id,
                "global_session_id": consent.grant_id.replace("-", ""),
                "preferred_username": "sandbox.admin@firmsync.example",
                "email": "sandbox.admin@firmsync.example",
                "given_name": "Sandbox",
                "family_name": "Admin",
                "name": "Sandbox Admin",
            }
        )

    @router.get("/identity/.well-known/openid-configuration", summary="OpenID discovery document")
    async def discovery(request: Request) -> dict[str, Any]:
        base = mount_url(request)
        return {
            "issuer": base + "/identity",
            "jwks_uri": base + "/identity/.well-known/openid-configuration/jwks",
            "authorization_endpoint": base + "/identity/connect/authorize",
            "token_endpoint": base + "/identity/connect/token",
            "userinfo_endpoint": base + "/identity/connect/userinfo",
            "revocation_endpoint": base + "/identity/connect/revocation",
            "scopes_supported": sorted(SCOPES),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
        }

    @router.get("/identity/.well-known/openid-configuration/jwks", summary="Keys that sign ID tokens")
    async def jwks() -> dict[str, Any]:
        return state.oidc_key.jwks()

    @router.get("/identity/connect/authorize", summary="Authorization endpoint (approves at once)")
    async def authorize(request: Request) -> Response:
        params = request.query_params
        redirect_uri = params.get("redirect_uri")
        if params.get("client_id") != state.client_id:
            return JSONResponse({"error": "invalid_client"}, 400)
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
        scope = tuple(params.get("scope", "").split())
        if not scope or any(item not in SCOPES for item in scope):
            return back(error="invalid_scope")
        challenge = params.get("code_challenge")
        if challenge and params.get("code_challenge_method", "plain") != "S256":
            return back(error="invalid_request", error_description="code_challenge_method must be S256")
        tenants = state.consent_grants()
        if not tenants:
            return back(error="access_denied", error_description="no organisation to connect")
        code = state.tokens.issue_code(state.client_id, redirect_uri, scope, tenants, challenge)
        return back(code=code, scope=" ".join(scope), session_state=code[-16:])

    @router.post(
        "/identity/connect/token", summary="Token endpoint: authorization_code and refresh_token grants"
    )
    async def token(request: Request) -> Response:
        form = await _form(request)
        try:
            client_id, public = authenticate_client(request, form)
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                if not form.get("code"):
                    raise OAuthError("invalid_request", "code is required")
                issued = state.tokens.redeem_code(
                    form["code"], client_id, form.get("redirect_uri"), form.get("code_verifier"), public
                )
            elif grant_type == "refresh_token":
                if not form.get("refresh_token"):
                    raise OAuthError("invalid_request", "refresh_token is required")
                # A "scope" sent along (xero-python does) cannot widen the consent; it is ignored.
                issued = state.tokens.refresh(form["refresh_token"], client_id, public)
            elif not grant_type:
                raise OAuthError("invalid_request", "grant_type is required")
            else:
                raise OAuthError("unsupported_grant_type", f"grant_type {grant_type} is not supported")
        except OAuthError as error:
            return _oauth_error(error)
        if issued.consent.tenants:
            request.scope[TENANT_SCOPE_KEY] = issued.consent.tenants[0]
        return JSONResponse(
            token_payload(issued, id_token_for(request, issued)), headers={"Cache-Control": "no-store"}
        )

    @router.post("/identity/connect/revocation", summary="Revoke a refresh token (and its whole consent)")
    async def revocation(request: Request) -> Response:
        form = await _form(request)
        try:
            authenticate_client(request, form)
        except OAuthError as error:
            return _oauth_error(error)
        if not form.get("token"):
            return _oauth_error(OAuthError("invalid_request", "token is required"))
        state.tokens.revoke(form["token"])  # RFC 7009: an unknown token is not an error
        return Response(status_code=200)

    def bearer_consent(request: Request) -> Consent:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AccessDenied("AuthenticationUnsuccessful")
        return state.tokens.verify_access(token.strip())

    @router.get("/identity/connect/userinfo", summary="OpenID Connect user info")
    async def userinfo(request: Request) -> Response:
        try:
            consent = bearer_consent(request)
        except AccessDenied as denied:
            return _problem(401, str(denied))
        return JSONResponse(
            {
                "sub": consent.user_id.replace("-", ""),
                "xero_userid": consent.user_id,
                "email": "sandbox.admin@firmsync.example",
                "preferred_username": "sandbox.admin@firmsync.example",
                "given_name": "Sandbox",
                "family_name": "Admin",
                "name": "Sandbox Admin",
            }
        )

    def connection_date(epoch_ms: int) -> str:
        # Xero writes these with seven fractional digits and no zone: 2019-07-09T23:40:30.1833130
        return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"

    async def list_connections(request: Request) -> Response:
        try:
            consent = bearer_consent(request)
        except AccessDenied as denied:
            error = unauthorized(str(denied))
            return Response(error.body(), 401, error.headers, media_type=error.content_type)
        wanted = request.query_params.get("authEventId")
        answer = [
            {
                "id": c.id,
                "authEventId": c.auth_event_id,
                "tenantId": c.tenant_id,
                "tenantType": "ORGANISATION",
                "tenantName": state.tenants[c.tenant_id].name,
                "createdDateUtc": connection_date(c.created_ms),
                "updatedDateUtc": connection_date(c.created_ms),
            }
            for c in state.tokens.connections(consent)
            if wanted is None or wanted.lower() == c.auth_event_id
        ]
        return JSONResponse(answer)

    async def delete_connection(connection_id: str, request: Request) -> Response:
        try:
            consent = bearer_consent(request)
        except AccessDenied as denied:
            error = unauthorized(str(denied))
            return Response(error.body(), 401, error.headers, media_type=error.content_type)
        if not state.tokens.disconnect(consent, connection_id):
            return _problem(404, "NotFound")
        return Response(status_code=204)

    for path in ("/connections", "/Connections"):
        router.add_api_route(
            path,
            list_connections,
            methods=["GET"],
            include_in_schema=path == "/connections",
            summary="Tenants the token's consent is connected to",
        )
        router.add_api_route(
            path + "/{connection_id}",
            delete_connection,
            methods=["DELETE"],
            include_in_schema=path == "/connections",
            summary="Disconnect one tenant",
        )
    return router
