"""Recording a sync's outcome where the API shows it (the connection row and the sync request), and telling
the firm's Slack when a connection fails or recovers (ADR 0014)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import text, update

from core_api.models import SyncRequest
from core_api.notifications import SYNC_FAILED, SYNC_RECOVERED, escape, queue_notification
from core_api.tenancy import TenantContext
from pipelines.resources import FirmsyncDatabase


def mark_request(
    db: FirmsyncDatabase,
    tenant: TenantContext,
    request_id: str | None,
    *,
    status: str,
    run_id: str | None = None,
    records: int | None = None,
    error: str | None = None,
) -> None:
    if not request_id:
        return
    now = datetime.now(UTC)
    values: dict = {"status": status}
    if status == "running":
        values |= {"started_at": now, "run_id": run_id}
    else:
        values |= {"finished_at": now, "records": records, "error": error}
    with db.tenant(tenant) as session:
        session.execute(
            update(SyncRequest)
            .where(SyncRequest.firm_id == tenant.firm_id, SyncRequest.id == uuid.UUID(request_id))
            .values(**values)
        )


_MARK = text(
    """
    with before as (
        select id, last_sync_status from app.connections
        where firm_id = :firm_id and id = :connection_id for update
    )
    update app.connections c
    set last_sync_at = :now, last_sync_status = :outcome, last_sync_records = :records,
        last_sync_error = :error,
        status = case when :set_status then :status else c.status end,
        status_detail = case when :set_status then :error else c.status_detail end,
        updated_at = :now
    from before
    where c.id = before.id
    returning before.last_sync_status as previous, c.display_name, c.provider
    """
)


class Marked(NamedTuple):
    previous: str | None  # the connection's last outcome before this one
    notified: int  # notification rows queued for the firm's Slack


def mark_connection(
    db: FirmsyncDatabase,
    tenant: TenantContext,
    connection_id: uuid.UUID,
    *,
    outcome: str,
    records: int | None = None,
    error: str | None = None,
    status: str | None = None,
    notify: str | None = None,
) -> Marked:
    """Record a run's outcome on the connection.

    In the same transaction, the firm's Slack hears of it: `notify` (a failure's message) is queued as
    `sync_failed`, and the first success after a failure as `sync_recovered`. Slack's own connection is
    never reported to itself."""
    now = datetime.now(UTC)
    with db.tenant(tenant) as session:
        row = session.execute(
            _MARK,
            {
                "firm_id": tenant.firm_id,
                "connection_id": connection_id,
                "now": now,
                "outcome": outcome,
                "records": records,
                "error": error,
                "set_status": status is not None,
                "status": status,
            },
        ).one_or_none()
        if row is None or row.provider == "slack":
            return Marked(row.previous if row else None, 0)
        notified = 0
        if notify is not None:
            notified = queue_notification(session, tenant.firm_id, SYNC_FAILED, connection_id, notify)
        elif outcome == "succeeded" and row.previous == "failed":
            notified = queue_notification(
                session,
                tenant.firm_id,
                SYNC_RECOVERED,
                connection_id,
                f"{escape(row.display_name)} is syncing again: the last sync succeeded"
                + (f" ({records} records)." if records is not None else "."),
            )
        return Marked(row.previous, notified)


def mark_webhooks_processed(
    db: FirmsyncDatabase, tenant: TenantContext, connection_id: uuid.UUID, before
) -> int:
    """Inbox events received before a successful sync began are reflected in it: mark them processed."""
    from core_api.models.webhooks import WebhookInboxEntry

    with db.tenant(tenant) as session:
        result = session.execute(
            update(WebhookInboxEntry)
            .where(
                WebhookInboxEntry.firm_id == tenant.firm_id,
                WebhookInboxEntry.connection_id == connection_id,
                WebhookInboxEntry.status == "pending",
                WebhookInboxEntry.received_at <= before,
            )
            .values(status="processed", processed_at=datetime.now(UTC))
        )
        return result.rowcount or 0
