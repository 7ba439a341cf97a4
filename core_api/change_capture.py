"""Audit log and outbox, captured in the same flush as the change (so in the same transaction).

A model opts in with class attributes:
  `__audit__ = "client"`   — every insert/update/delete writes an `audit_log` row (before/after values);
  `__outbox__ = "client"`  — every insert/update/delete also writes an `outbox` row for vendor push.
The actor is the tenant bound to the session (`core_api.db.bind_tenant`). Writes made without a
tenant-bound session (pipelines' raw SQL merges) are syncs, not user edits, and are not captured here.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from core_api.models.audit import AuditEntry, OutboxEntry

_SKIP = {"firm_id", "created_at", "updated_at"}


def _json(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return None  # never copy binary (e.g. encrypted credentials) into the log
    return value


def _columns(obj: Any, *, history: str | None = None) -> dict[str, Any]:
    state = inspect(obj)
    out: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in _SKIP or key in getattr(obj, "__audit_exclude__", ()):
            continue
        if history == "before":
            hist = state.attrs[key].history
            value = hist.deleted[0] if hist.deleted else (hist.unchanged[0] if hist.unchanged else None)
        else:
            value = getattr(obj, key, None)
        out[key] = _json(value)
    return out


def _changed(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    before, after = {}, {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in _SKIP or key in getattr(obj, "__audit_exclude__", ()):
            continue
        hist = state.attrs[key].history
        if hist.has_changes():
            before[key] = _json(hist.deleted[0]) if hist.deleted else None
            after[key] = _json(hist.added[0]) if hist.added else None
    return before, after


@event.listens_for(Session, "before_flush")
def _capture(session: Session, _flush_context, _instances) -> None:
    tenant = session.info.get("tenant")
    if tenant is None:
        return
    records: list[tuple[str, Any, dict | None, dict | None]] = []
    for obj in list(session.new):
        if getattr(obj, "__audit__", None):
            if getattr(obj, "id", None) is None and hasattr(type(obj), "id"):
                obj.id = uuid.uuid4()  # the log needs the id before the INSERT assigns it
            records.append(("create", obj, None, _columns(obj)))
    for obj in list(session.dirty):
        if getattr(obj, "__audit__", None) and session.is_modified(obj, include_collections=False):
            before, after = _changed(obj)
            if not after:
                continue
            action = "delete" if after.get("deleted_at") and not before.get("deleted_at") else "update"
            records.append((action, obj, before, after))
    for obj in list(session.deleted):
        if getattr(obj, "__audit__", None):
            records.append(("delete", obj, _columns(obj, history="before"), None))

    for action, obj, before, after in records:
        entity = obj.__audit__
        session.add(
            AuditEntry(
                firm_id=tenant.firm_id,
                actor_user_id=tenant.user_id,
                action=action,
                entity=entity,
                entity_id=str(obj.id),
                before=before,
                after=after,
            )
        )
        outbox_entity = getattr(obj, "__outbox__", None)
        if outbox_entity:
            operation = {"create": "created", "update": "updated", "delete": "deleted"}[action]
            session.add(
                OutboxEntry(
                    firm_id=tenant.firm_id,
                    entity=outbox_entity,
                    entity_id=obj.id,
                    operation=operation,
                    payload=_columns(obj) if action != "delete" else {"id": str(obj.id)},
                )
            )
