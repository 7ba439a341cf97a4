from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from core_api.models.base import APP_SCHEMA, Base
from core_api.models.mixins import FirmOwned


class Lead(FirmOwned, Base):
    __tablename__ = "leads"
    __table_args__ = (
        CheckConstraint("score between 0 and 100", name="score_range"),
        Index("ix_leads_status", "firm_id", "status"),
        {"schema": APP_SCHEMA},
    )
    __audit__ = "lead"
    __outbox__ = "lead"  # pushed to CRMs (Salesforce) by upsert on their external-id field

    name: Mapped[str] = mapped_column(String(200), nullable=False)  # person
    company_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    source: Mapped[str | None] = mapped_column(String(60))  # referral, website, event, …
    # new | contacted | qualified | converted | lost
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("'new'"))
    score: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.users.id", ondelete="SET NULL")
    )
    notes: Mapped[str | None] = mapped_column(Text)
    converted_client_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.clients.id", ondelete="SET NULL")
    )
    converted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CalendarEvent(FirmOwned, Base):
    __tablename__ = "calendar_events"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_calendar_events_range", "firm_id", "starts_at"),
        {"schema": APP_SCHEMA},
    )
    __audit__ = "calendar_event"
    __outbox__ = "calendar_event"

    title: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    staff_user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.users.id", ondelete="CASCADE"), nullable=False
    )
    client_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.clients.id", ondelete="SET NULL")
    )
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.contacts.id", ondelete="SET NULL")
    )
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, server_default=text("'UTC'"))
    # A whole-day event (Google's `date` start/end): starts_at/ends_at are midnights in `timezone`.
    all_day: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    location: Mapped[str | None] = mapped_column(String(300))
    # Per-provider copy: external ids live in external_refs; the etag/change key for If-Match pushes here.
    provider_etags: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
