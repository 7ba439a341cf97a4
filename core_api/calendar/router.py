from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.orm import Session

from core_api.auth.dependencies import require, tenant_db
from core_api.calendar import service
from core_api.calendar.repository import EventRepository
from core_api.calendar.schemas import EventCreate, EventOut, EventUpdate
from core_api.http import COMMON_ERRORS, ITEM_ERRORS, WRITE_ERRORS, if_match, set_etag
from core_api.pagination import Page, PageParams, page_params
from core_api.permissions import Permission
from core_api.tenancy import TenantContext

router = APIRouter(prefix="/api/v1/calendar/events", tags=["calendar"], responses=COMMON_ERRORS)
EventSort = Literal[tuple(EventRepository.sorts)]  # type: ignore[valid-type]
READ = Depends(require(Permission.calendar_read))
WRITE = Depends(require(Permission.calendar_write))


@router.get("", response_model=Page[EventOut])
def list_events(
    page: PageParams = Depends(page_params),
    starts_after: datetime | None = Query(None, description="Inclusive lower bound on starts_at."),
    starts_before: datetime | None = Query(None, description="Exclusive upper bound on starts_at."),
    staff_user_id: uuid.UUID | None = Query(None),
    client_id: uuid.UUID | None = Query(None),
    sort: EventSort = Query("starts_at"),  # type: ignore[valid-type]
    tenant: TenantContext = READ,
    session: Session = Depends(tenant_db),
) -> Page[EventOut]:
    items, total = service.list_events(
        session,
        tenant,
        limit=page.limit,
        offset=page.offset,
        sort=sort,
        starts_after=starts_after,
        starts_before=starts_before,
        staff_user_id=staff_user_id,
        client_id=client_id,
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("", response_model=EventOut, status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
def create_event(
    body: EventCreate,
    response: Response,
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> EventOut:
    event = service.create_event(session, tenant, body)
    response.headers["Location"] = f"/api/v1/calendar/events/{event.id}"
    set_etag(response, event.version)
    return event


@router.get("/{event_id}", response_model=EventOut, responses=ITEM_ERRORS)
def get_event(
    event_id: uuid.UUID,
    response: Response,
    tenant: TenantContext = READ,
    session: Session = Depends(tenant_db),
) -> EventOut:
    event = service.get_event(session, tenant, event_id)
    set_etag(response, event.version)
    return event


@router.patch("/{event_id}", response_model=EventOut, responses=WRITE_ERRORS)
def update_event(
    event_id: uuid.UUID,
    body: EventUpdate,
    response: Response,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> EventOut:
    event = service.update_event(session, tenant, event_id, body, expected)
    set_etag(response, event.version)
    return event


@router.delete("/{event_id}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
def delete_event(
    event_id: uuid.UUID,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> Response:
    service.delete_event(session, tenant, event_id, expected)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
