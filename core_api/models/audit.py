from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

from core_api.models.base import APP_SCHEMA, Base, firm_fk


class AuditEntry(Base):
    """Who changed what, when, with the values before and after. Written in the same flush as the change."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "firm_id", "entity", "entity_id"), {"schema": APP_SCHEMA})

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    firm_id: Mapped[uuid.UUID] = firm_fk()
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    action: Mapped[str] = mapped_column(String(20), nullable=False)  # create | update | delete | <operation>
    entity: Mapped[str] = mapped_column(String(40), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(64), nullable=False)
    before: Mapped[dict | None] = mapped_column(JSONB)
    after: Mapped[dict | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False, index=True
    )


class Xid8(UserDefinedType):
    """PostgreSQL's 64-bit transaction id; read as text, compared in SQL only."""

    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "xid8"


class OutboxEntry(Base):
    """A local change a vendor must receive, written in the same transaction as the change.

    Pipelines drain it in `seq` order and push to every connection that holds a copy (issue 5).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "status", "seq"),
        Index("ix_outbox_firm_commit_order", "firm_id", "xid", "seq"),
        Index(
            "ix_outbox_created_entity",
            "firm_id",
            "entity",
            "entity_id",
            postgresql_where=text("operation = 'created'"),
        ),
        {"schema": APP_SCHEMA},
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), nullable=False, unique=True)
    # The writer's transaction id (xid8, set by the database): readers take rows of transactions older than
    # any still running, so a slow writer's lower seq is never skipped (migration 0011).
    xid: Mapped[str] = mapped_column(Xid8(), server_default=text("pg_current_xact_id()"), nullable=False)
    firm_id: Mapped[uuid.UUID] = firm_fk()
    entity: Mapped[str] = mapped_column(String(40), nullable=False)
    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    operation: Mapped[str] = mapped_column(String(20), nullable=False)  # created | updated | deleted
    payload: Mapped[dict] = mapped_column(JSONB, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
