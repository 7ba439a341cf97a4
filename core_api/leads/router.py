from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Body, Depends, Query, Response, status
from sqlalchemy.orm import Session

from core_api.auth.dependencies import require, tenant_db
from core_api.http import COMMON_ERRORS, ITEM_ERRORS, WRITE_ERRORS, if_match, set_etag
from core_api.leads import service
from core_api.leads.repository import LeadRepository
from core_api.leads.schemas import LeadConversion, LeadConvert, LeadCreate, LeadOut, LeadStatus, LeadUpdate
from core_api.pagination import Page, PageParams, page_params
from core_api.permissions import Permission
from core_api.tenancy import TenantContext

router = APIRouter(prefix="/api/v1/leads", tags=["leads"], responses=COMMON_ERRORS)
LeadSort = Literal[tuple(LeadRepository.sorts)]  # type: ignore[valid-type]
READ = Depends(require(Permission.leads_read))
WRITE = Depends(require(Permission.leads_write))


@router.get("", response_model=Page[LeadOut])
def list_leads(
    page: PageParams = Depends(page_params),
    q: str | None = Query(None, max_length=200, description="Search name and company."),
    status_: LeadStatus | None = Query(None, alias="status"),
    assignee_id: uuid.UUID | None = Query(None),
    min_score: int | None = Query(None, ge=0, le=100),
    sort: LeadSort = Query("-created_at"),  # type: ignore[valid-type]
    tenant: TenantContext = READ,
    session: Session = Depends(tenant_db),
) -> Page[LeadOut]:
    items, total = service.list_leads(
        session,
        tenant,
        limit=page.limit,
        offset=page.offset,
        sort=sort,
        q=q,
        status=status_,
        assignee_id=assignee_id,
        min_score=min_score,
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("", response_model=LeadOut, status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
def create_lead(
    body: LeadCreate, response: Response, tenant: TenantContext = WRITE, session: Session = Depends(tenant_db)
) -> LeadOut:
    lead = service.create_lead(session, tenant, body)
    response.headers["Location"] = f"/api/v1/leads/{lead.id}"
    set_etag(response, lead.version)
    return lead


@router.get("/{lead_id}", response_model=LeadOut, responses=ITEM_ERRORS)
def get_lead(
    lead_id: uuid.UUID,
    response: Response,
    tenant: TenantContext = READ,
    session: Session = Depends(tenant_db),
) -> LeadOut:
    lead = service.get_lead(session, tenant, lead_id)
    set_etag(response, lead.version)
    return lead


@router.patch("/{lead_id}", response_model=LeadOut, responses=WRITE_ERRORS)
def update_lead(
    lead_id: uuid.UUID,
    body: LeadUpdate,
    response: Response,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> LeadOut:
    lead = service.update_lead(session, tenant, lead_id, body, expected)
    set_etag(response, lead.version)
    return lead


@router.delete("/{lead_id}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
def delete_lead(
    lead_id: uuid.UUID,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> Response:
    service.delete_lead(session, tenant, lead_id, expected)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{lead_id}/convert",
    response_model=LeadConversion,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_ERRORS,
)
def convert_lead(
    lead_id: uuid.UUID,
    body: LeadConvert = Body(default_factory=LeadConvert),
    expected: int | None = Depends(if_match),
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> LeadConversion:
    """Convert a lead into a client (and a contact) in one transaction."""
    return service.convert_lead(session, tenant, lead_id, body, expected)
