"""Generic tenant-scoped data access shared by every firm-owned domain.

A domain repository subclasses `TenantRepository`, names its model, its sort keys and its filters, and
gets: a firm-filtered base query (RLS is the second lock), paginated listing with a total, get (optionally
row-locked), add, optimistic-concurrency update and soft delete. Domains stay small and identical in shape.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from core_api.models import ExternalRef
from core_api.problems import Conflict, NotFound
from core_api.tenancy import TenantContext

M = TypeVar("M")


class TenantRepository(Generic[M]):
    model: ClassVar[type]
    entity: ClassVar[str]  # "client", "lead", … (external_refs.entity, audit entity, 404 message)
    sorts: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, session: Session, tenant: TenantContext) -> None:
        self.session, self.tenant = session, tenant

    def scoped(self) -> Select:
        query = select(self.model).where(self.model.firm_id == self.tenant.firm_id)
        if hasattr(self.model, "deleted_at"):
            query = query.where(self.model.deleted_at.is_(None))
        return query

    def list(
        self, *, limit: int, offset: int, sort: str, where: list[ColumnElement[bool]] | None = None
    ) -> tuple[list[M], int]:
        query = self.scoped().where(*(where or []))
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(self.sorts[sort], self.model.id).limit(limit).offset(offset)
        )
        return list(rows), total

    def get(self, entity_id: uuid.UUID, *, for_update: bool = False) -> M | None:
        query = self.scoped().where(self.model.id == entity_id)
        return self.session.scalar(query.with_for_update() if for_update else query)

    def require(self, entity_id: uuid.UUID, *, for_update: bool = False) -> M:
        row = self.get(entity_id, for_update=for_update)
        if row is None:
            raise NotFound(self.entity)
        return row

    def add(self, obj: M) -> M:
        obj.firm_id = self.tenant.firm_id  # type: ignore[attr-defined]
        self.session.add(obj)
        self.session.flush()
        self.session.refresh(obj)
        return obj

    def update(self, obj: M, changes: Mapping[str, Any], *, expected_version: int | None) -> M:
        """Apply changes if the caller read the current version; a stale version is a 409."""
        check_version(obj, expected_version)
        for field, value in changes.items():
            setattr(obj, field, value)
        self.session.flush()
        self.session.refresh(obj)
        return obj

    def soft_delete(self, obj: M, *, expected_version: int | None = None) -> None:
        check_version(obj, expected_version)
        obj.deleted_at = datetime.now(UTC)  # type: ignore[attr-defined]
        self.session.flush()

    def external_refs(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ExternalRef]]:
        if not ids:
            return {}
        rows = self.session.scalars(
            select(ExternalRef).where(
                ExternalRef.firm_id == self.tenant.firm_id,
                ExternalRef.entity == self.entity,
                ExternalRef.entity_id.in_(ids),
            )
        )
        refs: dict[uuid.UUID, list[ExternalRef]] = {}
        for ref in rows:
            refs.setdefault(ref.entity_id, []).append(ref)
        return refs


def check_version(obj: Any, expected: int | None) -> None:
    if expected is not None and expected != obj.version:
        raise Conflict(
            f"modified since you read it (version {obj.version}, you sent {expected})", field="version"
        )


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
