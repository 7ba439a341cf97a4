from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.orm import Session

from core_api.auth.dependencies import require, tenant_db
from core_api.clients import service
from core_api.clients.repository import ClientRepository, ContactRepository
from core_api.clients.schemas import (
    ClientCreate,
    ClientOut,
    ClientStatus,
    ClientUpdate,
    ContactCreate,
    ContactListItem,
    ContactOut,
    ContactUpdate,
)
from core_api.http import COMMON_ERRORS, ITEM_ERRORS, WRITE_ERRORS, if_match, set_etag
from core_api.pagination import Page, PageParams, page_params
from core_api.permissions import Permission
from core_api.tenancy import TenantContext

router = APIRouter(prefix="/api/v1/clients", tags=["clients"], responses=COMMON_ERRORS)
ClientSort = Literal[tuple(ClientRepository.sorts)]  # type: ignore[valid-type]
ContactSort = Literal[tuple(ContactRepository.sorts)]  # type: ignore[valid-type]
# Firm-wide contacts (the contacts page); a contact is still created and changed under its client.
contacts_router = APIRouter(prefix="/api/v1/contacts", tags=["clients"], responses=COMMON_ERRORS)
READ = Depends(require(Permission.clients_read))
WRITE = Depends(require(Permission.clients_write))


@router.get("", response_model=Page[ClientOut])
def list_clients(
    page: PageParams = Depends(page_params),
    q: str | None = Query(None, max_length=200, description="Case-insensitive name search."),
    status_: ClientStatus | None = Query(None, alias="status"),
    sort: ClientSort = Query("name"),  # type: ignore[valid-type]
    tenant: TenantContext = READ,
    session: Session = Depends(tenant_db),
) -> Page[ClientOut]:
    items, total = service.list_clients(
        session, tenant, limit=page.limit, offset=page.offset, q=q, status=status_, sort=sort
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("", response_model=ClientOut, status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
def create_client(
    body: ClientCreate,
    response: Response,
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> ClientOut:
    client = service.create_client(session, tenant, body)
    response.headers["Location"] = f"/api/v1/clients/{client.id}"
    set_etag(response, client.version)
    return client


@router.get("/{client_id}", response_model=ClientOut, responses=ITEM_ERRORS)
def get_client(
    client_id: uuid.UUID,
    response: Response,
    tenant: TenantContext = READ,
    session: Session = Depends(tenant_db),
) -> ClientOut:
    client = service.get_client(session, tenant, client_id)
    set_etag(response, client.version)
    return client


@router.patch("/{client_id}", response_model=ClientOut, responses=WRITE_ERRORS)
def update_client(
    client_id: uuid.UUID,
    body: ClientUpdate,
    response: Response,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> ClientOut:
    client = service.update_client(session, tenant, client_id, body, expected)
    set_etag(response, client.version)
    return client


@router.delete("/{client_id}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
def delete_client(
    client_id: uuid.UUID,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> Response:
    service.delete_client(session, tenant, client_id, expected)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{client_id}/contacts", response_model=Page[ContactOut], responses=ITEM_ERRORS)
def list_contacts(
    client_id: uuid.UUID,
    page: PageParams = Depends(page_params),
    q: str | None = Query(None, max_length=200, description="Search first/last name and email."),
    sort: ContactSort = Query("name"),  # type: ignore[valid-type]
    tenant: TenantContext = READ,
    session: Session = Depends(tenant_db),
) -> Page[ContactOut]:
    items, total = service.list_contacts(
        session, tenant, client_id, limit=page.limit, offset=page.offset, sort=sort, q=q
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/{client_id}/contacts",
    response_model=ContactOut,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_ERRORS,
)
def create_contact(
    client_id: uuid.UUID,
    body: ContactCreate,
    response: Response,
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> ContactOut:
    contact = service.create_contact(session, tenant, client_id, body)
    response.headers["Location"] = f"/api/v1/clients/{client_id}/contacts/{contact.id}"
    set_etag(response, contact.version)
    return contact


@router.get("/{client_id}/contacts/{contact_id}", response_model=ContactOut, responses=ITEM_ERRORS)
def get_contact(
    client_id: uuid.UUID,
    contact_id: uuid.UUID,
    response: Response,
    tenant: TenantContext = READ,
    session: Session = Depends(tenant_db),
) -> ContactOut:
    contact = service.get_contact(session, tenant, client_id, contact_id)
    set_etag(response, contact.version)
    return contact


@router.patch("/{client_id}/contacts/{contact_id}", response_model=ContactOut, responses=WRITE_ERRORS)
def update_contact(
    client_id: uuid.UUID,
    contact_id: uuid.UUID,
    body: ContactUpdate,
    response: Response,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> ContactOut:
    contact = service.update_contact(session, tenant, client_id, contact_id, body, expected)
    set_etag(response, contact.version)
    return contact


@router.delete(
    "/{client_id}/contacts/{contact_id}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE_ERRORS
)
def delete_contact(
    client_id: uuid.UUID,
    contact_id: uuid.UUID,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> Response:
    service.delete_contact(session, tenant, client_id, contact_id, expected)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@contacts_router.get("", response_model=Page[ContactListItem])
def list_firm_contacts(
    page: PageParams = Depends(page_params),
    q: str | None = Query(None, max_length=200, description="Search first/last name and email."),
    client_id: uuid.UUID | None = Query(None, description="Only this client's contacts."),
    sort: ContactSort = Query("name"),  # type: ignore[valid-type]
    tenant: TenantContext = READ,
    session: Session = Depends(tenant_db),
) -> Page[ContactListItem]:
    items, total = service.list_firm_contacts(
        session, tenant, limit=page.limit, offset=page.offset, sort=sort, q=q, client_id=client_id
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)
