from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from core_api.models.base import APP_SCHEMA, Base


class LoginLockout(Base):
    """Failed sign-ins per account (core_api/auth/lockout.py). Global like `users`: login is pre-tenant.

    Keyed by an HMAC of the normalised email, so the table names no one, and unknown emails are counted
    exactly like known ones (a lockout says nothing about whether an account exists).
    """

    __tablename__ = "login_lockouts"
    __table_args__ = {"schema": APP_SCHEMA}

    account_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)
    window_started_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
