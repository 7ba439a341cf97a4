"""Models of the webhooks domain (issue 3). Tables listed in FIRM_SCOPED get forced RLS in their migration."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from core_api.models.base import APP_SCHEMA, Base, firm_fk, uuid_pk

FIRM_SCOPED: list[str] = ["app.webhook_inbox"]

INBOX_STATUSES = ("pending", "processed", "failed")


class WebhookInboxEntry(Base):
    """One verified vendor event, stored once per (provider, connection, event id) and applied later.

    Written by `POST /webhooks/{provider}` only after the vendor's signature checked out; drained by the
    pipelines (a sensor reads pending rows in `seq` order), which set `status`, `attempts` and `error`.
    """

    __tablename__ = "webhook_inbox"
    __table_args__ = (
        UniqueConstraint("provider", "connection_id", "event_id", name="uq_webhook_inbox_event"),
        CheckConstraint(f"status in {INBOX_STATUSES!r}", name="status_known"),
        Index("ix_webhook_inbox_pending", "status", "seq"),
        Index("ix_webhook_inbox_connection", "connection_id"),
        {"schema": APP_SCHEMA},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    # Monotonic: the draining sensor's cursor, so no event is skipped or read twice.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), nullable=False, unique=True)
    firm_id: Mapped[uuid.UUID] = firm_fk()
    connection_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.connections.id", ondelete="CASCADE"), nullable=False
    )
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    # The vendor's event id, or `sha256:<hex>` of the signed body when the vendor sends none.
    event_id: Mapped[str] = mapped_column(String(255), nullable=False)
    event_type: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(200))
    # Non-secret request headers only (never signatures, authorisation or cookies).
    headers: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    # The body as JSON (form fields as JSON for form-encoded bodies) ...
    payload: Mapped[Any | None] = mapped_column(JSONB)
    # ... and verbatim for form-encoded or non-JSON bodies.
    raw_body: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
