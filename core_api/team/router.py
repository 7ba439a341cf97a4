from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.orm import Session

from core_api.auth.dependencies import require, tenant_db
from core_api.http import COMMON_ERRORS, ITEM_ERRORS, WRITE_ERRORS, if_match, set_etag
from core_api.pagination import Page, PageParams, page_params
from core_api.permissions import Permission
from core_api.team import service
from core_api.team.schemas import (
    AuditEntryOut,
    FirmOut,
    FirmUpdate,
    InvitationCreate,
    InvitationCreated,
    InvitationOut,
    MemberOut,
    MemberUpdate,
)
from core_api.tenancy import Role, TenantContext

router = APIRouter(prefix="/api/v1", tags=["team"], responses=COMMON_ERRORS)
TEAM_READ = Depends(require(Permission.team_read))
TEAM_MANAGE = Depends(require(Permission.team_manage))


@router.get("/firm", response_model=FirmOut)
def get_firm(
    response: Response, tenant: TenantContext = TEAM_READ, session: Session = Depends(tenant_db)
) -> FirmOut:
    firm = service.get_firm(session, tenant)
    set_etag(response, firm.version)
    return firm


@router.patch("/firm", response_model=FirmOut, responses=WRITE_ERRORS)
def update_firm(
    body: FirmUpdate,
    response: Response,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = Depends(require(Permission.settings_manage)),
    session: Session = Depends(tenant_db),
) -> FirmOut:
    firm = service.update_firm(session, tenant, body, expected)
    set_etag(response, firm.version)
    return firm


@router.get("/team/members", response_model=Page[MemberOut])
def list_members(
    page: PageParams = Depends(page_params),
    role: Role | None = Query(None),
    active: bool | None = Query(None),
    tenant: TenantContext = TEAM_READ,
    session: Session = Depends(tenant_db),
) -> Page[MemberOut]:
    items, total = service.list_members(
        session, tenant, limit=page.limit, offset=page.offset, role=role, active=active
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.patch("/team/members/{user_id}", response_model=MemberOut, responses=WRITE_ERRORS)
def change_role(
    user_id: uuid.UUID,
    body: MemberUpdate,
    tenant: TenantContext = TEAM_MANAGE,
    session: Session = Depends(tenant_db),
) -> MemberOut:
    return service.change_role(session, tenant, user_id, body.role)


@router.post("/team/members/{user_id}/deactivate", response_model=MemberOut, responses=WRITE_ERRORS)
def deactivate_member(
    user_id: uuid.UUID, tenant: TenantContext = TEAM_MANAGE, session: Session = Depends(tenant_db)
) -> MemberOut:
    """The member can no longer sign in to this firm (access tokens already issued expire within minutes)."""
    return service.set_active(session, tenant, user_id, active=False)


@router.post("/team/members/{user_id}/reactivate", response_model=MemberOut, responses=WRITE_ERRORS)
def reactivate_member(
    user_id: uuid.UUID, tenant: TenantContext = TEAM_MANAGE, session: Session = Depends(tenant_db)
) -> MemberOut:
    return service.set_active(session, tenant, user_id, active=True)


@router.get("/team/invitations", response_model=Page[InvitationOut])
def list_invitations(
    page: PageParams = Depends(page_params),
    pending: bool | None = Query(None, description="Only invitations neither accepted nor revoked."),
    tenant: TenantContext = TEAM_MANAGE,
    session: Session = Depends(tenant_db),
) -> Page[InvitationOut]:
    items, total = service.list_invitations(
        session, tenant, limit=page.limit, offset=page.offset, pending=pending
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/team/invitations",
    response_model=InvitationCreated,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_ERRORS,
)
def create_invitation(
    body: InvitationCreate, tenant: TenantContext = TEAM_MANAGE, session: Session = Depends(tenant_db)
) -> InvitationCreated:
    return service.create_invitation(session, tenant, body)


@router.delete(
    "/team/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE_ERRORS
)
def revoke_invitation(
    invitation_id: uuid.UUID, tenant: TenantContext = TEAM_MANAGE, session: Session = Depends(tenant_db)
) -> Response:
    service.revoke_invitation(session, tenant, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/audit-log", response_model=Page[AuditEntryOut], responses=ITEM_ERRORS)
def list_audit(
    page: PageParams = Depends(page_params),
    entity: str | None = Query(None, max_length=40, description="client, invoice, membership, …"),
    entity_id: str | None = Query(None, max_length=64),
    actor_user_id: uuid.UUID | None = Query(None),
    since: datetime | None = Query(None),
    tenant: TenantContext = Depends(require(Permission.audit_read)),
    session: Session = Depends(tenant_db),
) -> Page[AuditEntryOut]:
    items, total = service.list_audit(
        session,
        tenant,
        limit=page.limit,
        offset=page.offset,
        entity=entity,
        entity_id=entity_id,
        actor_user_id=actor_user_id,
        since=since,
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)
