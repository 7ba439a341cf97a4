from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Header, Query, Response, status
from sqlalchemy.orm import Session

from core_api.auth.dependencies import require, tenant_db
from core_api.clients import service
from core_api.clients.repository import SORTS
from core_api.clients.schemas import ClientCreate, ClientOut, ClientStatus, ClientUpdate
from core_api.errors import ProblemError
from core_api.pagination import Page, PageParams, page_params
from core_api.permissions import Permission
from core_api.tenancy import TenantContext

router = APIRouter(prefix="/api/v1/clients", tags=["clients"])
SortKey = Literal[tuple(SORTS)]  # type: ignore[valid-type]


@router.get("", response_model=Page[ClientOut])
def list_clients(
    page: PageParams = Depends(page_params),
    q: str | None = Query(None, max_length=200, description="Case-insensitive name search."),
    status_: ClientStatus | None = Query(None, alias="status"),
    sort: SortKey = Query("name"),  # type: ignore[valid-type]
    tenant: TenantContext = Depends(require(Permission.clients_read)),
    session: Session = Depends(tenant_db),
) -> Page[ClientOut]:
    items, total = service.list_clients(
        session, tenant, limit=page.limit, offset=page.offset, q=q, status=status_, sort=sort
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("", response_model=ClientOut, status_code=status.HTTP_201_CREATED)
def create_client(
    body: ClientCreate,
    response: Response,
    tenant: TenantContext = Depends(require(Permission.clients_write)),
    session: Session = Depends(tenant_db),
) -> ClientOut:
    client = service.create_client(session, tenant, body)
    response.headers["Location"] = f"/api/v1/clients/{client.id}"
    response.headers["ETag"] = f'"{client.version}"'
    return client


@router.get("/{client_id}", response_model=ClientOut)
def get_client(
    client_id: uuid.UUID,
    response: Response,
    tenant: TenantContext = Depends(require(Permission.clients_read)),
    session: Session = Depends(tenant_db),
) -> ClientOut:
    client = service.get_client(session, tenant, client_id)
    response.headers["ETag"] = f'"{client.version}"'
    return client


@router.patch("/{client_id}", response_model=ClientOut)
def update_client(
    client_id: uuid.UUID,
    body: ClientUpdate,
    response: Response,
    if_match: str | None = Header(None, description='The ETag you read, e.g. "3"; stale → 409.'),
    tenant: TenantContext = Depends(require(Permission.clients_write)),
    session: Session = Depends(tenant_db),
) -> ClientOut:
    client = service.update_client(session, tenant, client_id, body, _etag_version(if_match))
    response.headers["ETag"] = f'"{client.version}"'
    return client


@router.delete("/{client_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_client(
    client_id: uuid.UUID,
    tenant: TenantContext = Depends(require(Permission.clients_write)),
    session: Session = Depends(tenant_db),
) -> Response:
    service.delete_client(session, tenant, client_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _etag_version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise ProblemError(
            400,
            "Bad Request",
            "If-Match must be an ETag from this API.",
            errors=[{"field": "If-Match", "message": 'expected a quoted version number, e.g. "3"'}],
        )
    return int(value)
