from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from core_api.models.base import APP_SCHEMA, Base, created_at, firm_fk, updated_at, uuid_pk


class Connection(Base):
    """One firm's link to one vendor account. Credentials are Fernet-encrypted and never leave the API."""

    __tablename__ = "connections"
    __table_args__ = (
        Index(
            "uq_connections_account",
            "firm_id",
            "provider",
            "account_id",
            unique=True,
            postgresql_where=text("deleted_at is null"),
        ),
        {"schema": APP_SCHEMA},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    firm_id: Mapped[uuid.UUID] = firm_fk()
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    account_id: Mapped[str] = mapped_column(String(255), nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    config: Mapped[dict] = mapped_column(JSONB, nullable=False)
    credentials_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # active | error | needs_reauth | disabled
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("'active'"))
    status_detail: Mapped[str | None] = mapped_column(Text)
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sync_status: Mapped[str | None] = mapped_column(String(20))
    last_sync_records: Mapped[int | None] = mapped_column(Integer)
    last_sync_error: Mapped[str | None] = mapped_column(Text)
    # How often the scheduled sweep syncs this connection (minutes); firms with more activity sync sooner.
    sync_interval_minutes: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("60"))
    # How local records map onto the vendor's (item, income account, tax codes…): the connector's mapping
    # model, edited by the firm (`PUT /connections/{id}/mapping`), never hard-coded.
    mapping: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SyncRequest(Base):
    """A request for a sync, written by the API; a Dagster sensor turns it into a run (run_key = id)."""

    __tablename__ = "sync_requests"
    __table_args__ = {"schema": APP_SCHEMA}

    id: Mapped[uuid.UUID] = uuid_pk()
    # Monotonic sequence: the sensor's cursor, so no request is skipped or read twice.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), nullable=False, unique=True)
    firm_id: Mapped[uuid.UUID] = firm_fk()
    connection_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.connections.id", ondelete="CASCADE"), nullable=False
    )
    requested_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    full_refresh: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    # pending | running | succeeded | failed
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("'pending'"))
    run_id: Mapped[str | None] = mapped_column(String(64))
    records: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SyncState(Base):
    """Per (connection, stream) cursor, written in the same transaction as the rows it covers."""

    __tablename__ = "sync_state"
    __table_args__ = {"schema": APP_SCHEMA}

    connection_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey(f"{APP_SCHEMA}.connections.id", ondelete="CASCADE"),
        primary_key=True,
    )
    stream: Mapped[str] = mapped_column(String(80), primary_key=True)
    firm_id: Mapped[uuid.UUID] = firm_fk()
    cursor: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = updated_at()
