from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from core_api.models.base import APP_SCHEMA, Base, firm_fk, uuid_pk


class SyncRun(Base):
    """One connection's sync, as the sync engine ran it (ADR 0019): outcome, duration, vendor calls, and per
    stream the rows it wrote. Dagster runs are other processes; the API's /metrics reads aggregates of this
    table (vendor, stream, status; never a firm) at scrape time."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        Index("ix_sync_runs_connection_finished", "connection_id", "finished_at"),
        Index("ix_sync_runs_provider_status", "provider", "status"),
        {"schema": APP_SCHEMA},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    firm_id: Mapped[uuid.UUID] = firm_fk()
    connection_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.connections.id", ondelete="CASCADE"), nullable=False
    )
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    run_id: Mapped[str | None] = mapped_column(String(64))  # the Dagster run (a sweep: many rows per run)
    status: Mapped[str] = mapped_column(String(20), nullable=False)  # succeeded | failed
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    seconds: Mapped[float] = mapped_column(Float, nullable=False)
    # Vendor calls through connectors.base.retrying: attempts, 429 answers, retries (connectors/call_stats).
    api_calls: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    throttled: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    retries: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    # {stream: {"inserted", "updated", "unchanged", "deleted", "dead_lettered": int, "seconds": float}}
    streams: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    error: Mapped[str | None] = mapped_column(Text)
