"""Connections, sync requests and cursors. Tenant-scoped methods filter by firm; `system_*` functions
are the pipelines' cross-tenant reads and run on the owner engine only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core_api.models import Connection, SyncRequest, SyncState
from core_api.tenancy import TenantContext


class ConnectionRepository:
    def __init__(self, session: Session, tenant: TenantContext) -> None:
        self.session, self.tenant = session, tenant

    def list(self, *, limit: int, offset: int, provider: str | None) -> tuple[list[Connection], int]:
        stmt = select(Connection).where(
            Connection.firm_id == self.tenant.firm_id, Connection.deleted_at.is_(None)
        )
        if provider:
            stmt = stmt.where(Connection.provider == provider)
        total = self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self.session.scalars(
            stmt.order_by(Connection.created_at, Connection.id).limit(limit).offset(offset)
        )
        return list(rows), total

    def get(self, connection_id: uuid.UUID, *, for_update: bool = False) -> Connection | None:
        stmt = select(Connection).where(
            Connection.firm_id == self.tenant.firm_id,
            Connection.id == connection_id,
            Connection.deleted_at.is_(None),
        )
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalar(stmt)

    def find_account(self, provider: str, account_id: str) -> Connection | None:
        return self.session.scalar(
            select(Connection).where(
                Connection.firm_id == self.tenant.firm_id,
                Connection.provider == provider,
                Connection.account_id == account_id,
                Connection.deleted_at.is_(None),
            )
        )

    def add(self, connection: Connection) -> Connection:
        connection.firm_id = self.tenant.firm_id
        self.session.add(connection)
        self.session.flush()
        self.session.refresh(connection)
        return connection

    def soft_delete(self, connection: Connection) -> None:
        connection.deleted_at = datetime.now(UTC)
        connection.credentials_encrypted = None  # a deleted connection keeps no secrets
        connection.status = "disabled"
        self.session.flush()

    def request_sync(
        self, connection: Connection, *, requested_by: uuid.UUID | None, full_refresh: bool
    ) -> SyncRequest:
        request = SyncRequest(
            firm_id=self.tenant.firm_id,
            connection_id=connection.id,
            requested_by=requested_by,
            full_refresh=full_refresh,
        )
        self.session.add(request)
        self.session.flush()
        self.session.refresh(request)
        return request

    def get_sync_request(self, request_id: uuid.UUID) -> SyncRequest | None:
        return self.session.scalar(
            select(SyncRequest).where(
                SyncRequest.firm_id == self.tenant.firm_id, SyncRequest.id == request_id
            )
        )

    # --- sync bookkeeping, used by pipelines inside the tenant transaction that loads the rows ---

    def get_cursor(self, connection_id: uuid.UUID, stream: str) -> str | None:
        return self.session.scalar(
            select(SyncState.cursor).where(
                SyncState.firm_id == self.tenant.firm_id,
                SyncState.connection_id == connection_id,
                SyncState.stream == stream,
            )
        )

    def get_cursors(self, connection_id: uuid.UUID) -> dict[str, str | None]:
        """Every stream's cursor of the connection, in one query (a sync reads them all at its start)."""
        rows = self.session.execute(
            select(SyncState.stream, SyncState.cursor).where(
                SyncState.firm_id == self.tenant.firm_id, SyncState.connection_id == connection_id
            )
        )
        return {stream: cursor for stream, cursor in rows}

    def save_cursor(self, connection_id: uuid.UUID, stream: str, cursor: str | None) -> None:
        self.save_cursors(connection_id, {stream: cursor})

    def save_cursors(self, connection_id: uuid.UUID, cursors: dict[str, str | None]) -> None:
        """Several streams' cursors in one statement."""
        if not cursors:
            return
        stmt = insert(SyncState).values(
            [
                {"firm_id": self.tenant.firm_id, "connection_id": connection_id, "stream": s, "cursor": c}
                for s, c in cursors.items()
            ]
        )
        self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[SyncState.connection_id, SyncState.stream],
                set_={"cursor": stmt.excluded.cursor, "updated_at": datetime.now(UTC)},
            )
        )

    def clear_cursors(self, connection_id: uuid.UUID) -> None:
        self.session.query(SyncState).filter(
            SyncState.firm_id == self.tenant.firm_id, SyncState.connection_id == connection_id
        ).delete()


# --- cross-tenant reads for pipelines' sensors (owner engine; never reachable from a router) ---


def system_live_connections(session: Session, provider: str | None = None) -> list[Connection]:
    stmt = select(Connection).where(Connection.deleted_at.is_(None))
    if provider:
        stmt = stmt.where(Connection.provider == provider)
    return list(session.scalars(stmt.order_by(Connection.created_at)))


def system_get_connection(session: Session, connection_id: uuid.UUID) -> Connection | None:
    return session.get(Connection, connection_id)


def system_pending_sync_requests(
    session: Session, after_seq: int, limit: int = 200
) -> list[tuple[SyncRequest, Connection]]:
    rows = session.execute(
        select(SyncRequest, Connection)
        .join(Connection, Connection.id == SyncRequest.connection_id)
        .where(SyncRequest.seq > after_seq, SyncRequest.status == "pending")
        .order_by(SyncRequest.seq)
        .limit(limit)
    )
    return [(request, connection) for request, connection in rows]


def system_fail_sync_requests(session: Session, request_ids: list[uuid.UUID], error: str) -> None:
    session.execute(
        update(SyncRequest)
        .where(SyncRequest.id.in_(request_ids))
        .values(status="failed", error=error, finished_at=datetime.now(UTC))
    )


def system_pending_webhooks(
    session: Session, after_seq: int, limit: int = 500
) -> list[tuple[int, Connection]]:
    """(seq, connection) of webhook-inbox rows received after the sensor's cursor, oldest first."""
    from core_api.models.webhooks import WebhookInboxEntry

    rows = session.execute(
        select(WebhookInboxEntry.seq, Connection)
        .join(Connection, Connection.id == WebhookInboxEntry.connection_id)
        .where(WebhookInboxEntry.seq > after_seq, WebhookInboxEntry.status == "pending")
        .order_by(WebhookInboxEntry.seq)
        .limit(limit)
    )
    return [(seq, connection) for seq, connection in rows]
