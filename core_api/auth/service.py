from __future__ import annotations

import uuid

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core_api.auth import lockout
from core_api.auth.schemas import FirmSummary, TokenResponse
from core_api.errors import ProblemError
from core_api.models import User
from core_api.security import passwords, tokens
from core_api.settings import Settings
from core_api.tenancy import Role

_BAD_LOGIN = ProblemError(401, "Unauthorized", "Invalid email or password.")


def memberships(session: Session, user_id: uuid.UUID) -> list[FirmSummary]:
    rows = session.execute(text("select * from app.memberships_for_user(:u)"), {"u": user_id}).all()
    return [FirmSummary(id=r.firm_id, name=r.firm_name, role=Role(r.role)) for r in rows]


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def login(
    session: Session, settings: Settings, email: str, password: str, firm_id: uuid.UUID | None
) -> TokenResponse:
    # A locked account is refused before the password is looked at, so a lock cannot be used to test one.
    lock = lockout.current_lock(session, settings, email)
    if lock is not None:
        raise _locked(lock)
    user = find_user(session, email)
    # Verify even when the user is unknown, so both cases take the same time.
    password_ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.is_active:
        failures, lock = lockout.record_failure(session, settings, email)
        if lock is not None:
            lockout.audit(
                session,
                user.id if user else None,
                "login_locked",
                {"failures": failures, "locked_until": lock.until.isoformat()},
            )
        session.commit()  # the count must outlive this request's rollback
        raise _locked(lock) if lock is not None else _BAD_LOGIN
    tokens = tokens_for(session, settings, user, firm_id)
    if lockout.clear(session, settings, email):
        session.commit()
    return tokens


def _locked(lock: lockout.Lock) -> ProblemError:
    return ProblemError(
        429,
        "Too Many Requests",
        "Too many failed sign-ins for this account; try again later or ask an operator to unlock it.",
        headers={"Retry-After": str(lock.retry_after)},
    )


def refresh(session: Session, settings: Settings, refresh_token: str) -> TokenResponse:
    try:
        claims = tokens.decode(settings, refresh_token, "refresh")
    except tokens.InvalidTokenError:
        raise ProblemError(401, "Unauthorized", "The refresh token is invalid or expired.") from None
    user = session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise ProblemError(401, "Unauthorized", "The account is no longer active.")
    return tokens_for(session, settings, user, claims.firm_id)


def tokens_for(session: Session, settings: Settings, user: User, firm_id: uuid.UUID | None) -> TokenResponse:
    firms = memberships(session, user.id)
    if firm_id is not None:
        firms = [f for f in firms if f.id == firm_id]
    if not firms:
        raise ProblemError(403, "Forbidden", "This account is not a member of that firm.")
    firm = firms[0]
    access, ttl = tokens.issue(settings, tokens.TokenClaims(user.id, firm.id, firm.role, "access"))
    refresh_token, _ = tokens.issue(settings, tokens.TokenClaims(user.id, firm.id, firm.role, "refresh"))
    return TokenResponse(access_token=access, refresh_token=refresh_token, expires_in=ttl, firm=firm)
