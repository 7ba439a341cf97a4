"""OAuth connect sessions (issue 5): one row per "Connect <vendor>" click, alive until the callback lands.

The callback is a browser redirect carrying no bearer token; the unguessable `state` we issued is what
ties it back to the firm and user (only its SHA-256 is stored). A grant covering several vendor accounts
(Xero organisations) waits here, tokens encrypted, until the user picks one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, LargeBinary, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from core_api.models.base import APP_SCHEMA, Base, created_at, firm_fk, updated_at, uuid_pk

FIRM_SCOPED: list[str] = ["app.oauth_sessions", "app.sync_conflicts"]

# pending → (awaiting_account →) completed | failed; expired is decided by expires_at, not stored.
OAUTH_STATUSES = ("pending", "awaiting_account", "completed", "failed")


class OAuthSession(Base):
    __tablename__ = "oauth_sessions"
    __table_args__ = (
        CheckConstraint(f"status in {OAUTH_STATUSES!r}", name="status_known"),
        {"schema": APP_SCHEMA},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    firm_id: Mapped[uuid.UUID] = firm_fk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    state_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # PKCE verifier and, while a choice is pending, the granted tokens: Fernet-sealed like credentials.
    secrets_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    accounts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, server_default="[]")
    display_name: Mapped[str | None] = mapped_column(String(200))
    sync_interval_minutes: Mapped[int] = mapped_column(nullable=False, server_default=text("60"))
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("'pending'"))
    error: Mapped[str | None] = mapped_column(Text)
    connection_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.connections.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class SyncConflict(Base):
    """An edit made on both sides between two syncs, and how the stated rule resolved it (ADR 0009)."""

    __tablename__ = "sync_conflicts"
    __table_args__ = (
        CheckConstraint("resolution in ('platform_wins', 'vendor_wins')", name="resolution_known"),
        {"schema": APP_SCHEMA},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    firm_id: Mapped[uuid.UUID] = firm_fk()
    connection_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.connections.id", ondelete="CASCADE"), nullable=False
    )
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    entity: Mapped[str] = mapped_column(String(40), nullable=False)
    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    external_id: Mapped[str] = mapped_column(String(255), nullable=False)
    platform_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    vendor_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str] = mapped_column(String(20), nullable=False)
    platform_payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    vendor_payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = created_at()
