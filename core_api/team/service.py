"""Sign-up, invitations, members and firm settings."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core_api.auth.schemas import TokenResponse
from core_api.auth.service import find_user, tokens_for
from core_api.crud import check_version
from core_api.db import bind_tenant
from core_api.errors import Conflict, NotFound, ProblemError
from core_api.models import AuditEntry, Firm, Invitation, Membership, User
from core_api.security.passwords import hash_password, verify_password
from core_api.settings import Settings
from core_api.team.schemas import (
    AcceptInvitation,
    AuditEntryOut,
    FirmOut,
    FirmUpdate,
    InvitationCreate,
    InvitationCreated,
    InvitationOut,
    MemberOut,
    SignupRequest,
)
from core_api.tenancy import Role, TenantContext, issue_tenant_context

INVITATION_TTL = timedelta(days=7)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _slug(name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "firm"
    return f"{base}-{secrets.token_hex(3)}"


# --- sign-up and invitations (no tenant yet: the firm is chosen by the operation itself) ---


def signup(session: Session, settings: Settings, body: SignupRequest) -> TokenResponse:
    if find_user(session, body.email) is not None:
        raise Conflict(
            "an account with this email already exists; sign in and create the firm from there", field="email"
        )
    user = User(
        email=body.email.lower(), password_hash=hash_password(body.password), full_name=body.full_name
    )
    session.add(user)
    session.flush()
    tenant = issue_tenant_context(uuid.uuid4(), Role.firm_admin, user.id)
    bind_tenant(session, tenant)
    session.add(
        Firm(
            id=tenant.firm_id,
            name=body.firm_name,
            slug=_slug(body.firm_name),
            timezone=body.timezone,
            currency=body.currency,
        )
    )
    session.flush()
    session.add(Membership(firm_id=tenant.firm_id, user_id=user.id, role=Role.firm_admin))
    session.flush()
    tokens = tokens_for(session, settings, user, tenant.firm_id)
    session.commit()
    return tokens


def accept_invitation(session: Session, settings: Settings, body: AcceptInvitation) -> TokenResponse:
    row = session.execute(
        text("select * from app.invitation_by_token(:h)"), {"h": _token_hash(body.token)}
    ).first()
    if row is None:
        raise NotFound("invitation")
    if row.revoked_at is not None or row.expires_at < datetime.now(UTC):
        raise ProblemError(410, "Gone", "This invitation was revoked or has expired; ask for a new one.")
    if row.accepted_at is not None:
        raise Conflict("this invitation was already accepted")
    user = find_user(session, row.email)
    if user is None:
        if not body.full_name:
            message = "required when creating a new account"
            raise ProblemError(
                422, "Validation Error", message, errors=[{"field": "full_name", "message": message}]
            )
        user = User(
            email=row.email.lower(), password_hash=hash_password(body.password), full_name=body.full_name
        )
        session.add(user)
        session.flush()
    elif not verify_password(user.password_hash, body.password):
        raise ProblemError(401, "Unauthorized", "The password does not match the existing account.")
    tenant = issue_tenant_context(row.firm_id, Role(row.role), user.id)
    bind_tenant(session, tenant)
    existing = session.scalar(
        select(Membership).where(Membership.firm_id == row.firm_id, Membership.user_id == user.id)
    )
    if existing is not None:
        raise Conflict("this account is already a member of the firm")
    session.add(Membership(firm_id=row.firm_id, user_id=user.id, role=Role(row.role)))
    invitation = session.get(Invitation, row.id)
    invitation.accepted_at = datetime.now(UTC)
    session.flush()
    tokens = tokens_for(session, settings, user, row.firm_id)
    session.commit()
    return tokens


def create_invitation(session: Session, tenant: TenantContext, body: InvitationCreate) -> InvitationCreated:
    email = body.email.lower()
    member = session.scalar(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.firm_id == tenant.firm_id, func.lower(User.email) == email)
    )
    if member is not None:
        raise Conflict("already a member of this firm", field="email")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        firm_id=tenant.firm_id,
        email=email,
        role=body.role,
        token_hash=_token_hash(token),
        invited_by=tenant.user_id,
        expires_at=datetime.now(UTC) + INVITATION_TTL,
    )
    session.add(invitation)
    session.flush()
    session.refresh(invitation)
    out = InvitationCreated(**InvitationOut.model_validate(invitation).model_dump(), token=token)
    session.commit()
    return out


def list_invitations(
    session: Session, tenant: TenantContext, *, limit: int, offset: int, pending: bool | None
):
    query = select(Invitation).where(Invitation.firm_id == tenant.firm_id)
    if pending:
        query = query.where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Invitation.created_at.desc(), Invitation.id).limit(limit).offset(offset)
    )
    return [InvitationOut.model_validate(r) for r in rows], total


def revoke_invitation(session: Session, tenant: TenantContext, invitation_id: uuid.UUID) -> None:
    invitation = session.scalar(
        select(Invitation)
        .where(Invitation.firm_id == tenant.firm_id, Invitation.id == invitation_id)
        .with_for_update()
    )
    if invitation is None:
        raise NotFound("invitation")
    if invitation.accepted_at is not None:
        raise Conflict("an accepted invitation cannot be revoked; deactivate the member instead")
    invitation.revoked_at = invitation.revoked_at or datetime.now(UTC)
    session.commit()


# --- members ---


def _members_query(tenant: TenantContext):
    return (
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.firm_id == tenant.firm_id)
    )


def _member_out(membership: Membership, user: User) -> MemberOut:
    return MemberOut(
        user_id=user.id,
        email=user.email,
        full_name=user.full_name,
        role=membership.role,
        active=membership.deactivated_at is None,
        joined_at=membership.created_at,
    )


def list_members(
    session: Session,
    tenant: TenantContext,
    *,
    limit: int,
    offset: int,
    role: Role | None,
    active: bool | None,
) -> tuple[list[MemberOut], int]:
    query = _members_query(tenant)
    if role:
        query = query.where(Membership.role == role)
    if active is not None:
        query = query.where(
            Membership.deactivated_at.is_(None) if active else Membership.deactivated_at.isnot(None)
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(func.lower(User.email), User.id).limit(limit).offset(offset)).all()
    return [_member_out(m, u) for m, u in rows], total


def _locked_member(session: Session, tenant: TenantContext, user_id: uuid.UUID) -> tuple[Membership, User]:
    row = session.execute(
        _members_query(tenant).where(Membership.user_id == user_id).with_for_update(of=Membership)
    ).first()
    if row is None:
        raise NotFound("member")
    return row[0], row[1]


def _ensure_another_admin(session: Session, tenant: TenantContext, user_id: uuid.UUID) -> None:
    # Lock every active admin row, so two concurrent demotions cannot leave the firm without one.
    admins = session.scalars(
        select(Membership.user_id)
        .where(
            Membership.firm_id == tenant.firm_id,
            Membership.role == Role.firm_admin,
            Membership.deactivated_at.is_(None),
        )
        .with_for_update()
    ).all()
    if set(admins) <= {user_id}:
        raise Conflict("the firm must keep at least one active firm_admin")


def change_role(session: Session, tenant: TenantContext, user_id: uuid.UUID, role: Role) -> MemberOut:
    membership, user = _locked_member(session, tenant, user_id)
    if membership.role == Role.firm_admin and role != Role.firm_admin:
        _ensure_another_admin(session, tenant, user_id)
    membership.role = role
    session.flush()
    out = _member_out(membership, user)
    session.commit()
    return out


def set_active(session: Session, tenant: TenantContext, user_id: uuid.UUID, *, active: bool) -> MemberOut:
    membership, user = _locked_member(session, tenant, user_id)
    if not active:
        if user_id == tenant.user_id:
            raise Conflict("you cannot deactivate yourself")
        if membership.role == Role.firm_admin:
            _ensure_another_admin(session, tenant, user_id)
        membership.deactivated_at = membership.deactivated_at or datetime.now(UTC)
    else:
        membership.deactivated_at = None
    session.flush()
    out = _member_out(membership, user)
    session.commit()
    return out


# --- firm settings and audit log ---


def get_firm(session: Session, tenant: TenantContext) -> FirmOut:
    firm = session.scalar(select(Firm).where(Firm.id == tenant.firm_id))
    if firm is None:
        raise NotFound("firm")
    return FirmOut.model_validate(firm)


def update_firm(session: Session, tenant: TenantContext, body: FirmUpdate, if_match: int | None) -> FirmOut:
    firm = session.scalar(select(Firm).where(Firm.id == tenant.firm_id).with_for_update())
    if firm is None:
        raise NotFound("firm")
    check_version(firm, body.version if body.version is not None else if_match)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    for field in ("name", "timezone", "currency"):
        if field in changes and changes[field] is None:
            raise ProblemError(
                422,
                "Validation Error",
                f"{field} may not be null",
                errors=[{"field": field, "message": "may not be null"}],
            )
    for field, value in changes.items():
        setattr(firm, field, value)
    session.flush()
    session.refresh(firm)
    out = FirmOut.model_validate(firm)
    session.commit()
    return out


def list_audit(
    session: Session,
    tenant: TenantContext,
    *,
    limit: int,
    offset: int,
    entity: str | None,
    entity_id: str | None,
    actor_user_id: uuid.UUID | None,
    since: datetime | None,
) -> tuple[list[AuditEntryOut], int]:
    query = select(AuditEntry).where(AuditEntry.firm_id == tenant.firm_id)
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    if actor_user_id:
        query = query.where(AuditEntry.actor_user_id == actor_user_id)
    if since:
        query = query.where(AuditEntry.created_at >= since)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
    return [AuditEntryOut.model_validate(r) for r in rows], total
