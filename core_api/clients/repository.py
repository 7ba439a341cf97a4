"""Clients data access. Every query is filtered by the tenant's firm (RLS is the second lock)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core_api.models import Client, ExternalRef
from core_api.tenancy import TenantContext

SORTS = {
    "name": func.lower(Client.name).asc(),
    "-name": func.lower(Client.name).desc(),
    "created_at": Client.created_at.asc(),
    "-created_at": Client.created_at.desc(),
    "updated_at": Client.updated_at.asc(),
    "-updated_at": Client.updated_at.desc(),
}


class ClientRepository:
    def __init__(self, session: Session, tenant: TenantContext) -> None:
        self.session, self.tenant = session, tenant

    def _scoped(self) -> Select:
        return select(Client).where(Client.firm_id == self.tenant.firm_id, Client.deleted_at.is_(None))

    def list(
        self, *, limit: int, offset: int, q: str | None, status: str | None, sort: str
    ) -> tuple[list[Client], int]:
        stmt = self._scoped()
        if q:
            stmt = stmt.where(Client.name.ilike(f"%{_escape_like(q)}%", escape="\\"))
        if status:
            stmt = stmt.where(Client.status == status)
        total = self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self.session.scalars(stmt.order_by(SORTS[sort], Client.id).limit(limit).offset(offset)).all()
        return list(rows), total

    def get(self, client_id: uuid.UUID, *, for_update: bool = False) -> Client | None:
        stmt = self._scoped().where(Client.id == client_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalar(stmt)

    def add(self, client: Client) -> Client:
        client.firm_id = self.tenant.firm_id
        self.session.add(client)
        self.session.flush()
        self.session.refresh(client)
        return client

    def soft_delete(self, client: Client) -> None:
        client.deleted_at = datetime.now(UTC)
        client.version += 1
        self.session.flush()

    def external_refs(self, client_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ExternalRef]]:
        if not client_ids:
            return {}
        rows = self.session.scalars(
            select(ExternalRef).where(
                ExternalRef.firm_id == self.tenant.firm_id,
                ExternalRef.entity == "client",
                ExternalRef.entity_id.in_(client_ids),
            )
        ).all()
        refs: dict[uuid.UUID, list[ExternalRef]] = {}
        for ref in rows:
            refs.setdefault(ref.entity_id, []).append(ref)
        return refs


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
