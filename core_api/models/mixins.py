"""Column sets shared by firm-owned records."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from core_api.models.base import APP_SCHEMA


class FirmOwned:
    """id + firm_id + timestamps + soft delete + optimistic-concurrency version.

    `version` is SQLAlchemy's version_id_col: every UPDATE carries `WHERE version = <read>`, so even a
    write that skipped the service's explicit check cannot silently overwrite a concurrent one.
    """

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)

    @declared_attr
    def firm_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805 - declared_attr receives the class
        return mapped_column(
            UUID(as_uuid=True),
            ForeignKey(f"{APP_SCHEMA}.firms.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )

    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:  # noqa: N805
        return {"version_id_col": cls.version}
