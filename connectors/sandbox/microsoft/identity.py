"""Microsoft identity platform v2.0 endpoints msal uses (learn.microsoft.com/entra/identity-platform/
v2-oauth2-auth-code-flow, v2-oauth2-client-creds-grant-flow), under this mount; `{tenant}` is a tenant id,
its domain, or `organizations`/`common` for the authorize endpoint:

- `GET /common/discovery/instance?authorization_endpoint=…&api-version=1.1`: instance discovery. msal asks
  it (at login.microsoftonline.com unless `instance_discovery` names another URL) before trusting an
  authority host it does not know; the answer's `tenant_discovery_endpoint` is where it reads the OpenID
  configuration. A host other than this sandbox's answers `invalid_instance`.
- `GET /{tenant}/v2.0/.well-known/openid-configuration`, `GET /{tenant}/discovery/v2.0/keys`.
- `GET /{tenant}/oauth2/v2.0/authorize`: approves at once as `login_hint` (else the tenant's first user) and
  redirects to `redirect_uri` with `code`, `state` and `client_info`. PKCE: `code_challenge` (S256, plain).
- `POST /{tenant}/oauth2/v2.0/token`: `authorization_code` (with `code_verifier`), `refresh_token` (a new
  refresh token every time; the old one is spent) and `client_credentials` (scope `…/.default`, app-only).
  The client authenticates with `client_secret` in the form. Errors: AADSTS codes, e.g. `invalid_grant`
  AADSTS70008 (expired), AADSTS50173 (revoked), AADSTS54005 (code redeemed), `invalid_client` AADSTS7000215.
"""

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse

from connectors.sandbox.common.asgi import TENANT_SCOPE_KEY
from connectors.sandbox.microsoft.errors import IdentityError
from connectors.sandbox.microsoft.state import MicrosoftState, Tenant
from connectors.sandbox.microsoft.tokens import Grant, TokenRefused

GRAPH_RESOURCE = "https://graph.microsoft.com"
OIDC_SCOPES = {"openid", "profile", "offline_access", "email"}


def mount_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


async def _form(request: Request) -> dict[str, str]:
    raw = (await request.body()).decode("utf-8", "replace")
    return {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _graph_scopes(scope: str) -> str:
    """Graph permissions of a requested scope, as Entra ID returns them (`Calendars.ReadWrite User.Read`)."""
    names = []
    for item in scope.split():
        if item.lower() in OIDC_SCOPES:
            continue
        names.append(item.removeprefix(GRAPH_RESOURCE + "/"))
    return " ".join(dict.fromkeys(names)) or "User.Read"


def identity_router(state: MicrosoftState) -> APIRouter:
    router = APIRouter(tags=["Microsoft identity platform"])

    def tenant_of(key: str) -> Tenant:
        tenant = state.tenants.get(key) or next(
            (t for t in state.tenants.values() if t.domain.lower() == key.lower()), None
        )
        if tenant is None:
            raise IdentityError(400, "invalid_request", 90002, f"Tenant '{key}' not found.")
        return tenant

    def check_client(form: dict[str, str]) -> None:
        if form.get("client_id") != state.client_id:
            raise IdentityError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{form.get('client_id')}' was not found.",
            )
        if form.get("client_secret") != state.client_secret:
            raise IdentityError(401, "invalid_client", 7000215, "Invalid client secret provided.")

    @router.get("/common/discovery/instance", summary="Instance discovery")
    async def instance_discovery(request: Request, authorization_endpoint: str = "") -> JSONResponse:
        base = mount_url(request)
        parsed = urlparse(authorization_endpoint)
        here = urlparse(base)
        prefix = here.path.rstrip("/") + "/"
        # msal names the authority by host name alone (no port): compare host names.
        if parsed.hostname != here.hostname or not parsed.path.startswith(prefix):
            body = IdentityError(400, "invalid_instance", 50049, "Unknown or invalid instance.").body()
            return JSONResponse(body, 400)
        tenant = parsed.path[len(prefix) :].split("/")[0] or "common"
        return JSONResponse(
            {
                "tenant_discovery_endpoint": f"{base}/{tenant}/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [
                    {
                        "preferred_network": here.netloc,
                        "preferred_cache": here.netloc,
                        "aliases": [here.netloc],
                    }
                ],
            }
        )

    @router.get("/{tenant}/v2.0/.well-known/openid-configuration", summary="OpenID configuration")
    async def openid_configuration(tenant: str, request: Request) -> JSONResponse:
        base = mount_url(request)
        tid = tenant if tenant in ("common", "organizations") else tenant_of(tenant).id
        return JSONResponse(
            {
                "issuer": f"{base}/{tid}/v2.0",
                "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/devicecode",
                "end_session_endpoint": f"{base}/{tenant}/oauth2/v2.0/logout",
                "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
                "userinfo_endpoint": f"{base}/v1.0/me",
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "code_challenge_methods_supported": ["plain", "S256"],
                "tenant_region_scope": "NA",
                "cloud_instance_name": "microsoftonline.com",
                "msgraph_host": "graph.microsoft.com",
            }
        )

    @router.get("/{tenant}/discovery/v2.0/keys", summary="Signing keys")
    async def keys(tenant: str) -> dict:
        return state.oidc.jwks()

    @router.get("/{tenant}/oauth2/v2.0/authorize", summary="Authorization endpoint (approves at once)")
    async def authorize(tenant: str, request: Request):
        q = dict(request.query_params)
        redirect_uri = q.get("redirect_uri", "")
        if q.get("client_id") != state.client_id or not redirect_uri:
            body = IdentityError(
                400, "unauthorized_client", 700016, "Unknown application or redirect."
            ).body()
            return JSONResponse(body, 400)
        if tenant in ("common", "organizations"):
            candidates = [u for t in state.tenants.values() for u in t.users.values()]
        else:
            candidates = list(tenant_of(tenant).users.values())
        hint = (q.get("login_hint") or "").lower()
        user = next((u for u in candidates if u.upn == hint), None) or (candidates[0] if candidates else None)
        params: dict[str, str] = {}
        if q.get("response_type") != "code":
            params = {"error": "unsupported_response_type", "error_description": "AADSTS700054: only code."}
        elif user is None:
            params = {"error": "access_denied", "error_description": "AADSTS50020: no such user."}
        else:
            grant = Grant(user.tenant_id, state.client_id, user.id, q.get("scope", ""), state.clock.now())
            code = state.tokens.code(
                grant,
                state.settings.microsoft_authorization_code_ttl,
                redirect_uri=redirect_uri,
                challenge=q.get("code_challenge"),
                method=q.get("code_challenge_method") or "plain",
                nonce=q.get("nonce"),
            )
            params = {"code": code, "client_info": _b64({"uid": user.id, "utid": user.tenant_id})}
        if q.get("state"):
            params["state"] = q["state"]
        return RedirectResponse(
            f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{urlencode(params)}", 302
        )

    @router.post("/{tenant}/oauth2/v2.0/token", summary="Token endpoint")
    async def token(tenant: str, request: Request) -> JSONResponse:
        form = await _form(request)
        try:
            check_client(form)
            payload = issue(tenant, form, request)
        except IdentityError as error:
            return JSONResponse(error.body(), error.status, {"Cache-Control": "no-store"})
        return JSONResponse(payload, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def issue(tenant_key: str, form: dict[str, str], request: Request) -> dict[str, Any]:
        grant_type = form.get("grant_type")
        s = state.settings
        if grant_type == "client_credentials":
            scope = form.get("scope", "")
            if not scope.endswith("/.default"):
                raise IdentityError(
                    400,
                    "invalid_scope",
                    1002012,
                    "The provided value for scope is not valid. Client credential flows must "
                    "have a scope value with /.default suffixed to the resource identifier.",
                )
            tenant = tenant_of(tenant_key)
            grant = Grant(tenant.id, state.client_id, None, "Calendars.ReadWrite", state.clock.now())
            request.scope[TENANT_SCOPE_KEY] = tenant.id
            return {
                "token_type": "Bearer",
                "expires_in": s.microsoft_access_token_ttl,
                "ext_expires_in": s.microsoft_access_token_ttl,
                "access_token": state.tokens.access_token(grant, s.microsoft_access_token_ttl),
            }
        if grant_type == "authorization_code":
            try:
                claims = state.tokens.redeem_code(form.get("code", ""))
            except TokenRefused as error:
                code = 54005 if "redeemed" in str(error) else 70008
                raise IdentityError(400, "invalid_grant", code, f"The code is not valid ({error}).") from None
            if claims.get("redirect_uri") != form.get("redirect_uri"):
                raise IdentityError(400, "invalid_grant", 50011, "The redirect URI does not match.")
            challenge = claims.get("challenge")
            if challenge:
                verifier = form.get("code_verifier", "")
                if claims.get("method") == "S256":
                    digest = (
                        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                        .decode()
                        .rstrip("=")
                    )
                else:
                    digest = verifier
                if digest != challenge:
                    raise IdentityError(
                        400,
                        "invalid_grant",
                        501481,
                        "The Code_Verifier does not match the "
                        "code_challenge supplied in the authorization request.",
                    )
            grant = state.tokens.grant_of(claims)
            nonce = claims.get("nonce")
        elif grant_type == "refresh_token":
            try:
                claims = state.tokens.redeem_refresh(form.get("refresh_token", ""))
            except TokenRefused as error:
                raise IdentityError(
                    400,
                    "invalid_grant",
                    70008 if "expired" in str(error) else 9002313,
                    f"The refresh token is not valid ({error}).",
                ) from None
            grant = state.tokens.grant_of(claims)
            nonce = None
        else:
            raise IdentityError(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant_type}'.",
            )
        user = state.find_user(grant.user_id or "")
        if user is None:
            raise IdentityError(400, "invalid_grant", 50034, "The user account does not exist.")
        if grant.issued_at < user.tokens_valid_after:
            raise IdentityError(
                400,
                "invalid_grant",
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth token is needed.",
            )
        request.scope[TENANT_SCOPE_KEY] = user.id
        scope = form.get("scope") or grant.scope
        fresh = Grant(user.tenant_id, state.client_id, user.id, scope, state.clock.now())
        payload: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": _graph_scopes(scope),
            "expires_in": s.microsoft_access_token_ttl,
            "ext_expires_in": s.microsoft_access_token_ttl,
            "access_token": state.tokens.access_token(fresh, s.microsoft_access_token_ttl),
            "refresh_token": state.tokens.refresh_token(fresh, s.microsoft_refresh_token_ttl),
            "client_info": _b64({"uid": user.id, "utid": user.tenant_id}),
        }
        if "openid" in scope.split():
            now = int(state.clock.now())
            claims = {
                "aud": state.client_id,
                "iss": f"{mount_url(request)}/{user.tenant_id}/v2.0",
                "iat": now,
                "nbf": now,
                "exp": now + s.microsoft_access_token_ttl,
                "name": user.display_name,
                "oid": user.id,
                "preferred_username": user.upn,
                "sub": hashlib.sha256(f"{user.id}:{state.client_id}".encode()).hexdigest()[:43],
                "tid": user.tenant_id,
                "ver": "2.0",
            }
            if nonce:
                claims["nonce"] = nonce
            payload["id_token"] = state.oidc.sign(claims)
        return payload

    return router
