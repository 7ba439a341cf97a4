"""The only producer of a request's TenantContext: a verified access token (ADR 0002)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from core_api import log_context
from core_api.db import bind_tenant, session_factory
from core_api.errors import ProblemError
from core_api.permissions import Permission, allows
from core_api.security import tokens
from core_api.settings import Settings, get_settings
from core_api.tenancy import Role, TenantContext, issue_tenant_context

_bearer = HTTPBearer(auto_error=False)


def db_sessions() -> sessionmaker[Session]:
    """Overridden in tests to bind every request to the test's outer transaction."""
    return session_factory()


_CURRENT_ROLE = text("select role from app.memberships_for_user(:user) where firm_id = :firm")


def current_tenant(
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    settings: Settings = Depends(get_settings),
    sessions: sessionmaker[Session] = Depends(db_sessions),
) -> TenantContext:
    """The caller's firm from the token; the role from the database, so a role change or a deactivation
    takes effect on the next request rather than when the access token expires."""
    unauthorized = ProblemError(
        401,
        "Unauthorized",
        "A valid bearer access token is required.",
        headers={"WWW-Authenticate": "Bearer"},
    )
    if credentials is None:
        raise unauthorized
    try:
        claims = tokens.decode(settings, credentials.credentials, "access")
    except tokens.InvalidTokenError:
        raise unauthorized from None
    with sessions() as session:
        role = session.execute(_CURRENT_ROLE, {"user": claims.user_id, "firm": claims.firm_id}).scalar()
        session.rollback()
    if role is None:
        raise unauthorized
    log_context.update(firm_id=claims.firm_id, user_id=claims.user_id)  # every later log line carries them
    return issue_tenant_context(claims.firm_id, Role(role), claims.user_id)


def tenant_db(
    tenant: TenantContext = Depends(current_tenant), sessions: sessionmaker[Session] = Depends(db_sessions)
) -> Iterator[Session]:
    """A session whose every transaction is scoped to the caller's firm. Writers commit explicitly."""
    with sessions() as session:
        bind_tenant(session, tenant)
        try:
            yield session
        finally:
            session.rollback()


def plain_db(sessions: sessionmaker[Session] = Depends(db_sessions)) -> Iterator[Session]:
    """No firm set: RLS shows no firm-scoped row. For login, which reads the global users table."""
    with sessions() as session:
        try:
            yield session
        finally:
            session.rollback()


def require(permission: Permission) -> Callable[[TenantContext], TenantContext]:
    def _check(tenant: TenantContext = Depends(current_tenant)) -> TenantContext:
        if not allows(tenant.role, permission):
            raise ProblemError(403, "Forbidden", f"Role '{tenant.role}' may not {permission.value}.")
        return tenant

    _check.permission = permission  # type: ignore[attr-defined] - read by the permission-matrix test
    return _check
