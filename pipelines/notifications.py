"""Failure notifications: the connection and request record the failure; the firm's Slack hears of it.

Delivery to Slack goes through the outbox (entity `notification`, provider `slack`), written in the
same transaction as the failure record (`mark_connection(notify=…)`), when the firm has a live Slack
connection that wants `sync_failed`; `pipelines/slack_delivery.py` delivers it (ADR 0014). Firms without
Slack still see the failure in the API and the Dagster UI.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from core_api.models.connection import SyncRequest
from core_api.notifications import escape
from pipelines.resources import FirmsyncDatabase
from pipelines.sync_status import mark_connection, mark_request


def notify_failure(
    db: FirmsyncDatabase,
    *,
    partition_key: str | None,
    request_id: str | None,
    job_name: str,
    run_id: str,
    message: str,
    what: str = "Sync",
) -> bool:
    """Record a failed run on its connection (and request), and tell the firm's Slack. `what`: "Sync" or
    "Push". Returns True when a Slack notification was queued."""
    connection_id = _uuid(partition_key)
    if connection_id is None and request_id:
        with db.system() as session:
            connection_id = session.scalar(
                select(SyncRequest.connection_id).where(SyncRequest.id == _uuid(request_id))
            )
    if connection_id is None:
        return False  # a sweep run: each connection was marked by the sweep itself
    try:
        tenant, connection = db.connection(connection_id)
    except LookupError:
        return False
    text = (
        f"{what} of {escape(connection.display_name)} failed (run {run_id[:8]}, {job_name}): "
        f"{escape(message[:500])}"
    )
    error = message if what == "Sync" else f"{what.lower()}: {message}"
    # The failure and the notification in one transaction (queued only if the firm's Slack wants it).
    marked = mark_connection(db, tenant, connection_id, outcome="failed", error=error[:2000], notify=text)
    mark_request(db, tenant, request_id, status="failed", error=message[:2000])
    return marked.notified > 0


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None
