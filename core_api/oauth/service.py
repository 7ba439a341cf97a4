"""Connecting a vendor account through OAuth: start → consent → callback → (pick an account) → connection.

- `start` records a session (hash of an unguessable `state`, sealed PKCE verifier, 15-minute life) and
  returns the vendor's authorization URL.
- `callback` is the vendor's browser redirect: no bearer token, so the `state` is the credential. The
  firm comes from the stored session (a definer lookup by the state's hash), the code is exchanged once
  (the session row is locked and leaves `pending`), and the starter's role is read again from the
  database: someone who lost `connections:write` meanwhile connects nothing.
- A grant for exactly one account (a QuickBooks realm) becomes a connection at once; a grant for several
  (Xero organisations) waits, tokens sealed, until `choose_account`.
- Connecting an account the firm already has replaces that connection's tokens (a re-authorisation after
  `needs_reauth`), keeping its history and cursors.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from connectors import registry
from connectors.base import ConnectorError, TokenSet
from connectors.oauth import OAuthAccount, OAuthApp, pkce_pair
from core_api.connections.repository import ConnectionRepository
from core_api.connections.schemas import ConnectionOut
from core_api.connections.secrets import seal_credentials
from core_api.connections.service import to_out
from core_api.db import bind_tenant
from core_api.errors import Conflict, NotFound, ProblemError
from core_api.models import Connection, OAuthSession
from core_api.oauth.repository import OAuthSessionRepository, find_pending_by_state, state_hash
from core_api.oauth.schemas import AccountChoice, OAuthAccountOut, OAuthSessionOut, OAuthStart, OAuthStartOut
from core_api.permissions import Permission, allows
from core_api.security.secrets_box import secrets_box
from core_api.settings import Settings
from core_api.tenancy import Role, TenantContext, issue_tenant_context

log = logging.getLogger(__name__)

_ROLE_OF = text("select role from app.memberships_for_user(:user) where firm_id = :firm")


def callback_url(settings: Settings, provider: str) -> str:
    return f"{settings.oauth_redirect_base_url}/api/v1/oauth/{provider}/callback"


def _flow(settings: Settings, provider: str) -> tuple[registry.ConnectorSpec, OAuthApp]:
    try:
        spec = registry.get_connector(provider)
    except registry.UnknownProviderError:
        raise NotFound("provider") from None
    if spec.oauth is None:
        raise ProblemError(
            422,
            "Validation Error",
            f"{spec.display_name} is not connected through OAuth.",
            errors=[{"field": "provider", "message": "this provider has no OAuth connect flow"}],
        )
    app = settings.oauth_apps.get(provider)
    if app is None:
        raise ProblemError(
            409,
            "Conflict",
            f"This installation has no {spec.display_name} app configured (FIRMSYNC_OAUTH_APPS).",
        )
    return spec, app


def start(
    session: Session, tenant: TenantContext, settings: Settings, provider: str, body: OAuthStart
) -> OAuthStartOut:
    spec, app = _flow(settings, provider)
    state = secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair() if spec.oauth.pkce else (None, None)
    row = OAuthSessionRepository(session, tenant).add(
        OAuthSession(
            user_id=tenant.user_id,
            provider=provider,
            state_hash=state_hash(state),
            secrets_encrypted=secrets_box().seal({"code_verifier": verifier}),
            display_name=body.display_name,
            sync_interval_minutes=body.sync_interval_minutes,
            expires_at=datetime.now(UTC) + timedelta(seconds=settings.oauth_session_ttl_seconds),
        )
    )
    url = spec.oauth.authorization_url(app, callback_url(settings, provider), state, challenge)
    out = OAuthStartOut(session_id=row.id, authorization_url=url, expires_at=row.expires_at)
    session.commit()
    return out


def _landing(settings: Settings, provider: str, **params: str) -> str:
    return f"{settings.app_url.rstrip('/')}/integrations?{urlencode({'provider': provider, **params})}"


def callback(
    sessions: sessionmaker[Session], settings: Settings, provider: str, params: dict[str, str]
) -> str:
    """Handle the vendor's redirect; return where to send the browser next."""
    spec, app = _flow(settings, provider)
    state = params.get("state", "")
    with sessions() as session:
        found = find_pending_by_state(session, provider, state) if state else None
        session.rollback()
    if found is None:
        raise ProblemError(
            400,
            "Bad Request",
            "This sign-in link is unknown, used or expired; start connecting again.",
            errors=[{"field": "query.state", "message": "unknown, used or expired state"}],
        )
    session_id, firm_id = found
    with sessions() as session:
        # Row-level security hides every firm's rows until the session is bound to one: read the session
        # row as its firm (read-only), then the role its user holds there now.
        reader = issue_tenant_context(firm_id, Role.readonly)
        bind_tenant(session, reader)
        row = OAuthSessionRepository(session, reader).get(session_id)
        user_id = row.user_id if row else None
        role = session.execute(_ROLE_OF, {"user": user_id, "firm": firm_id}).scalar() if user_id else None
        session.rollback()
    if role is None or not allows(Role(role), Permission.connections_write):
        raise ProblemError(403, "Forbidden", "The user who started this connection may no longer connect.")
    # The user who clicked "Connect", with the role the database gives them now (ADR 0006).
    tenant = issue_tenant_context(firm_id, Role(role), user_id)

    with sessions() as session:
        bind_tenant(session, tenant)
        row = OAuthSessionRepository(session, tenant).get(session_id, for_update=True)
        if (
            row is None or row.status != "pending"
        ):  # a concurrent callback with the same state got there first
            raise ProblemError(400, "Bad Request", "This sign-in link was already used.")
        if "error" in params:
            row.status, row.error = "failed", params["error"][:200]
            session.commit()
            return _landing(settings, provider, session=str(row.id), error=row.error)
        verifier = (
            secrets_box().open(row.secrets_encrypted)["code_verifier"] if row.secrets_encrypted else None
        )
        try:
            grant = spec.oauth.exchange(app, params, callback_url(settings, provider), verifier)
        except ConnectorError as exc:
            # The vendor's message, never the code or a token.
            row.status, row.error, row.secrets_encrypted = "failed", str(exc)[:500], None
            session.commit()
            return _landing(settings, provider, session=str(row.id), error="exchange_failed")
        if len(grant.accounts) == 1:
            connection = _connect(session, tenant, spec, app, row, grant.accounts[0], grant.tokens)
            session.commit()
            return _landing(settings, provider, session=str(row.id), connected=str(connection.id))
        if not grant.accounts:
            row.status, row.error, row.secrets_encrypted = "failed", "the grant covers no account", None
            session.commit()
            return _landing(settings, provider, session=str(row.id), error="no_account")
        row.status = "awaiting_account"
        row.accounts = [{"id": a.id, "name": a.name} for a in grant.accounts]
        row.secrets_encrypted = secrets_box().seal({"tokens": _tokens_json(grant.tokens)})
        session.commit()
        return _landing(settings, provider, session=str(row.id), choose="account")


def get_session(session: Session, tenant: TenantContext, session_id: uuid.UUID) -> OAuthSessionOut:
    row = OAuthSessionRepository(session, tenant).get(session_id)
    if row is None:
        raise NotFound("OAuth session")
    return _out(row)


def choose_account(
    session: Session, tenant: TenantContext, settings: Settings, session_id: uuid.UUID, body: AccountChoice
) -> ConnectionOut:
    row = OAuthSessionRepository(session, tenant).get(session_id, for_update=True)
    if row is None:
        raise NotFound("OAuth session")
    if row.status != "awaiting_account" or row.expires_at <= datetime.now(UTC):
        raise Conflict("this connect session is not waiting for an account choice (used or expired)")
    account = next((a for a in row.accounts if a["id"] == body.account_id), None)
    if account is None:
        message = "not one of the accounts this grant covers"
        raise ProblemError(
            422, "Validation Error", message, errors=[{"field": "account_id", "message": message}]
        )
    spec, app = _flow(settings, row.provider)
    tokens = _tokens_from_json(secrets_box().open(row.secrets_encrypted)["tokens"])
    connection = _connect(
        session, tenant, spec, app, row, OAuthAccount(account["id"], account["name"]), tokens
    )
    out = to_out(connection)
    session.commit()
    return out


def _connect(
    session: Session,
    tenant: TenantContext,
    spec: registry.ConnectorSpec,
    app: OAuthApp,
    row: OAuthSession,
    account: OAuthAccount,
    tokens: TokenSet,
) -> Connection:
    config, credentials = spec.oauth.connection(app, account, tokens)
    repo = ConnectionRepository(session, tenant)
    connection = repo.find_account(spec.provider, spec.account_id(config))
    if connection is None:
        connection = repo.add(
            Connection(
                provider=spec.provider,
                account_id=spec.account_id(config),
                display_name=row.display_name or f"{spec.display_name} · {account.name}",
                config=config.model_dump(mode="json"),
                created_by=tenant.user_id,
                sync_interval_minutes=row.sync_interval_minutes,
            )
        )
    else:  # re-authorisation: same account, new grant
        connection.config = config.model_dump(mode="json")
        connection.status, connection.status_detail = "active", None
    seal_credentials(connection, credentials)
    row.status, row.connection_id, row.secrets_encrypted, row.error = "completed", connection.id, None, None
    session.flush()
    session.refresh(connection)
    return connection


def _out(row: OAuthSession) -> OAuthSessionOut:
    status = row.status
    if status in ("pending", "awaiting_account") and row.expires_at <= datetime.now(UTC):
        status = "expired"
    return OAuthSessionOut(
        id=row.id,
        provider=row.provider,
        status=status,
        accounts=[OAuthAccountOut(**a) for a in row.accounts],
        connection_id=row.connection_id,
        error=row.error,
        expires_at=row.expires_at,
    )


def _tokens_json(tokens: TokenSet) -> dict:
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "access_expires_at": tokens.access_expires_at.isoformat() if tokens.access_expires_at else None,
        "refresh_expires_at": tokens.refresh_expires_at.isoformat() if tokens.refresh_expires_at else None,
    }


def _tokens_from_json(data: dict) -> TokenSet:
    def when(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return TokenSet(
        access_token=data["access_token"],
        refresh_token=data["refresh_token"],
        access_expires_at=when(data["access_expires_at"]),
        refresh_expires_at=when(data["refresh_expires_at"]),
    )
