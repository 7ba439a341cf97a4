"""OAuth connect sessions. Tenant-scoped, except `find_pending_by_state`: the callback carries no token, so
it asks the `app.oauth_session_firm` definer function (migration 0009) which firm issued the state."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core_api.models import OAuthSession
from core_api.tenancy import TenantContext

_BY_STATE = text("select session_id, firm_id from app.oauth_session_firm(:provider, :state_hash)")


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def find_pending_by_state(session: Session, provider: str, state: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(session id, firm id) of a live pending session, or None. Reads no row beyond that pair."""
    row = session.execute(_BY_STATE, {"provider": provider, "state_hash": state_hash(state)}).first()
    return (row.session_id, row.firm_id) if row else None


class OAuthSessionRepository:
    def __init__(self, session: Session, tenant: TenantContext) -> None:
        self.session, self.tenant = session, tenant

    def add(self, row: OAuthSession) -> OAuthSession:
        row.firm_id = self.tenant.firm_id
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, session_id: uuid.UUID, *, for_update: bool = False) -> OAuthSession | None:
        stmt = select(OAuthSession).where(
            OAuthSession.firm_id == self.tenant.firm_id, OAuthSession.id == session_id
        )
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalar(stmt)
