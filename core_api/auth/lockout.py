"""Per-account login lockout (ADR 0020): after `login_max_failures` failed sign-ins within
`login_failure_window_seconds`, the account is refused for `login_lockout_seconds`, whatever password is
given; a successful sign-in clears the count; `python -m core_api.manage unlock-login <email>` clears a lock.

State lives in PostgreSQL (`app.login_lockouts`), so every API process sees the same count, keyed by an
HMAC of the normalised email: the table names no one, and unknown emails are counted like known ones, so a
lock says nothing about whether an account exists.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from core_api.models import AuditEntry
from core_api.settings import Settings

log = logging.getLogger(__name__)

# Domain separation: the JWT secret also signs tokens; this key is derived from it for this purpose only.
_KEY_LABEL = b"firmsync login lockout v1\x00"


def normalise_email(email: str) -> str:
    """The form `auth.service.find_user` matches on."""
    return email.strip().lower()


def account_key(settings: Settings, email: str) -> str:
    key = hashlib.sha256(_KEY_LABEL + settings.jwt_secret.get_secret_value().encode()).digest()
    return hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Lock:
    until: datetime
    retry_after: int  # whole seconds, at least 1


_LOCKED = text(
    "select locked_until, extract(epoch from locked_until - now()) as remaining "
    "from app.login_lockouts where account_key = :key and locked_until > now()"
)

# One statement, so concurrent failures count exactly: a row whose window has passed, or whose lock has
# expired, starts a new window at 1; otherwise the count goes up, and reaching the limit sets the lock.
_FAIL = text(
    """
    insert into app.login_lockouts as l (account_key, failures, window_started_at, locked_until, updated_at)
    values (:key, 1, now(), case when 1 >= :max then now() + make_interval(secs => :lock) end, now())
    on conflict (account_key) do update set
      failures = case when l.window_started_at <= now() - make_interval(secs => :window)
                        or l.locked_until <= now() then 1 else l.failures + 1 end,
      window_started_at = case when l.window_started_at <= now() - make_interval(secs => :window)
                                 or l.locked_until <= now() then now() else l.window_started_at end,
      locked_until = case
        when (case when l.window_started_at <= now() - make_interval(secs => :window)
                     or l.locked_until <= now() then 1 else l.failures + 1 end) >= :max
          then now() + make_interval(secs => :lock)
        when l.locked_until <= now() then null
        else l.locked_until end,
      updated_at = now()
    returning failures, locked_until, extract(epoch from locked_until - now()) as remaining
    """
)


def _lock(until: datetime, remaining: float) -> Lock:
    return Lock(until=until, retry_after=max(1, math.ceil(remaining)))


def current_lock(session: Session, settings: Settings, email: str) -> Lock | None:
    row = session.execute(_LOCKED, {"key": account_key(settings, email)}).first()
    return _lock(row.locked_until, float(row.remaining)) if row else None


def record_failure(session: Session, settings: Settings, email: str) -> tuple[int, Lock | None]:
    """Count one failed sign-in; returns the count in the window and the lock it set, if it set one."""
    row = session.execute(
        _FAIL,
        {
            "key": account_key(settings, email),
            "max": settings.login_max_failures,
            "window": settings.login_failure_window_seconds,
            "lock": settings.login_lockout_seconds,
        },
    ).one()
    just_locked = row.locked_until is not None and row.failures == settings.login_max_failures
    return row.failures, (_lock(row.locked_until, float(row.remaining)) if just_locked else None)


def clear(session: Session, settings: Settings, email: str) -> bool:
    """Forget the account's failures and lock (a successful sign-in, or an operator's unlock)."""
    result = session.execute(
        text("delete from app.login_lockouts where account_key = :key"), {"key": account_key(settings, email)}
    )
    return bool(result.rowcount)


_FIRMS = text("select firm_id from app.memberships_for_user(:u)")
_SET_FIRM = text("select set_config('app.firm_id', :firm, true)")


def audit(session: Session, user_id: uuid.UUID | None, action: str, after: dict) -> None:
    """An audit_log row in each firm the account belongs to (sign-in is pre-tenant: the lock concerns all
    of them). Each insert runs with that firm set for the transaction, so row-level security checks it."""
    log.warning("login %s for account %s", action, user_id or "(no such user)")
    if user_id is None:
        return
    for (firm_id,) in session.execute(_FIRMS, {"u": user_id}).all():
        session.execute(_SET_FIRM, {"firm": str(firm_id)})
        session.add(
            AuditEntry(
                firm_id=firm_id,
                actor_user_id=None,
                action=action,
                entity="user",
                entity_id=str(user_id),
                after=after,
            )
        )
        session.flush()
    session.execute(_SET_FIRM, {"firm": ""})
