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

from sqlalchemy import event, insert, inspect
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


_PENDING = "_change_capture_pending"


@event.listens_for(Session, "before_flush")
def _collect(session: Session, _flush_context, _instances) -> None:
    """Note what is about to change while the old values are still known."""
    if session.info.get("tenant") is None:
        return
    pending: list[tuple[str, Any, dict | None]] = session.info.setdefault(_PENDING, [])
    for obj in session.new:
        if getattr(obj, "__audit__", None):
            pending.append(("create", obj, None))
    for obj in session.dirty:
        if getattr(obj, "__audit__", None) and session.is_modified(obj, include_collections=False):
            before, after = _changed(obj)
            if after:
                deleted = after.get("deleted_at") and not before.get("deleted_at")
                pending.append(("delete" if deleted else "update", obj, before))
    for obj in session.deleted:
        if getattr(obj, "__audit__", None):
            pending.append(("delete", obj, _columns(obj, history="before")))


@event.listens_for(Session, "after_flush")
def _write(session: Session, _flush_context) -> None:
    """Write audit and outbox rows after the entities (ids and FK targets exist), in the same transaction."""
    pending = session.info.pop(_PENDING, None)
    tenant = session.info.get("tenant")
    if not pending or tenant is None:
        return
    audit_rows, outbox_rows = [], []
    for action, obj, before in pending:
        after = None if action == "delete" and obj in session.deleted else _columns(obj)
        if action == "update" and before is not None and after is not None:
            after = {k: after[k] for k in before if k in after}
        audit_rows.append(
            {
                "firm_id": tenant.firm_id,
                "actor_user_id": tenant.user_id,
                "action": action,
                "entity": obj.__audit__,
                "entity_id": str(obj.id),
                "before": before,
                "after": after,
            }
        )
        if getattr(obj, "__outbox__", None):
            outbox_rows.append(
                {
                    "id": uuid.uuid4(),
                    "firm_id": tenant.firm_id,
                    "entity": obj.__outbox__,
                    "entity_id": obj.id,
                    "operation": {"create": "created", "update": "updated", "delete": "deleted"}[action],
                    "payload": _columns(obj),
                }
            )
    connection = session.connection()
    connection.execute(insert(AuditEntry), audit_rows)
    if outbox_rows:
        connection.execute(insert(OutboxEntry), outbox_rows)
