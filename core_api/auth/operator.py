"""The operators' console gate (ADR 0018): nginx's `auth_request` asks GET /api/v1/auth/operator before
serving any /dagster request. 204 lets it through, 401 (not signed in) and 403 (no operations:console) do not.

A browser navigating to /dagster carries no bearer token (the SPA keeps it in localStorage), so the SPA first
trades its bearer token for a short-lived HttpOnly cookie (POST /api/v1/auth/operator-session) scoped to the
console. Either credential names a user and a firm; the role is read from the database on every request, so a
demotion or deactivation closes the console at once rather than when the cookie expires.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Cookie, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from core_api.auth.dependencies import db_sessions, require
from core_api.errors import ProblemError
from core_api.http import COMMON_ERRORS
from core_api.models import User
from core_api.permissions import Permission, allows, granted_in
from core_api.security import console_tokens, tokens
from core_api.settings import Settings, get_settings
from core_api.tenancy import Role, TenantContext

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=COMMON_ERRORS)
_bearer = HTTPBearer(auto_error=False)
_ROLE = text("select role from app.memberships_for_user(:user) where firm_id = :firm")


def _unauthorized() -> ProblemError:
    return ProblemError(
        401,
        "Unauthorized",
        "Sign in as an operator: a bearer access token or the console cookie is required.",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _active_role(sessions: sessionmaker[Session], user_id: uuid.UUID, firm_id: uuid.UUID) -> Role | None:
    with sessions() as session:
        try:
            user = session.get(User, user_id)
            if user is None or not user.is_active:
                return None
            role = session.execute(_ROLE, {"user": user_id, "firm": firm_id}).scalar()
            return Role(role) if role is not None else None
        finally:
            session.rollback()


def operator(
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    console: str | None = Cookie(default=None, alias=console_tokens.COOKIE_NAME, include_in_schema=False),
    settings: Settings = Depends(get_settings),
    sessions: sessionmaker[Session] = Depends(db_sessions),
) -> None:
    """A bearer access token, else the console cookie; then the current role must hold operations:console."""
    try:
        if credentials is not None:
            claims = tokens.decode(settings, credentials.credentials, "access")
            user_id, firm_id = claims.user_id, claims.firm_id
        elif console:
            cookie = console_tokens.decode(settings, console)
            user_id, firm_id = cookie.user_id, cookie.firm_id
        else:
            raise _unauthorized()
    except tokens.InvalidTokenError:
        raise _unauthorized() from None
    role = _active_role(sessions, user_id, firm_id)
    if role is None:
        raise _unauthorized()
    _require_console(role, firm_id, settings)


def _require_console(role: Role, firm_id: uuid.UUID, settings: Settings) -> None:
    if not allows(role, Permission.operations_console):
        raise ProblemError(403, "Forbidden", f"Role '{role}' may not {Permission.operations_console.value}.")
    if Permission.operations_console not in granted_in(role, firm_id, settings.operator_firm_ids):
        # The console shows every firm's runs: only the firms operating the platform may open it.
        raise ProblemError(403, "Forbidden", "This firm does not operate the platform: no operators console.")


operator.permission = Permission.operations_console  # type: ignore[attr-defined] - read by the matrix test


@router.get("/operator", status_code=204, response_class=Response, dependencies=[Depends(operator)])
def check_operator() -> Response:
    """204 for a signed-in holder of operations:console (bearer or console cookie); nginx's auth_request
    target for the Dagster UI."""
    return Response(status_code=204)


@router.post("/operator-session", status_code=204, response_class=Response)
def open_operator_session(
    request: Request,
    tenant: TenantContext = Depends(require(Permission.operations_console)),
    settings: Settings = Depends(get_settings),
    sessions: sessionmaker[Session] = Depends(db_sessions),
) -> Response:
    """Set the console cookie (HttpOnly, SameSite=Strict, Secure over https, short-lived) so the browser can
    open the Dagster UI behind the proxy."""
    role = _active_role(sessions, tenant.user_id, tenant.firm_id)
    if role is None:
        raise _unauthorized()
    _require_console(role, tenant.firm_id, settings)
    token, ttl = console_tokens.issue(settings, console_tokens.ConsoleClaims(tenant.user_id, tenant.firm_id))
    response = Response(status_code=204)
    response.set_cookie(
        console_tokens.COOKIE_NAME,
        token,
        max_age=ttl,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.delete("/operator-session", status_code=204, response_class=Response)
def close_operator_session(request: Request) -> Response:
    """Remove the console cookie (the SPA calls this on sign-out). Needs no credentials: it only clears the
    caller's own cookie."""
    response = Response(status_code=204)
    response.delete_cookie(
        console_tokens.COOKIE_NAME,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response
