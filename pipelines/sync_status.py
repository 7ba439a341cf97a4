"""Recording a sync's outcome where the API shows it: the connection row and the sync request."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import update

from core_api.models import Connection, SyncRequest
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


def mark_connection(
    db: FirmsyncDatabase,
    tenant: TenantContext,
    connection_id: uuid.UUID,
    *,
    outcome: str,
    records: int | None = None,
    error: str | None = None,
    status: str | None = None,
) -> None:
    values: dict = {
        "last_sync_at": datetime.now(UTC),
        "last_sync_status": outcome,
        "last_sync_records": records,
        "last_sync_error": error,
    }
    if status is not None:
        values |= {"status": status, "status_detail": error}
    with db.tenant(tenant) as session:
        session.execute(
            update(Connection)
            .where(Connection.firm_id == tenant.firm_id, Connection.id == connection_id)
            .values(**values)
        )


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
