from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Response, status
from sqlalchemy.orm import Session

from connectors import registry
from core_api.auth.dependencies import current_tenant, require, tenant_db
from core_api.connections import service
from core_api.connections.schemas import (
    ConnectionCreate,
    ConnectionOut,
    ConnectionUpdate,
    CredentialsReplace,
    DeadLetterOut,
    MappingOut,
    ProviderOut,
    SyncConflictOut,
    SyncRequestCreate,
    SyncRequestOut,
)
from core_api.http import COMMON_ERRORS, ITEM_ERRORS, WRITE_ERRORS
from core_api.pagination import Page, PageParams, page_params
from core_api.permissions import Permission
from core_api.tenancy import TenantContext

router = APIRouter(prefix="/api/v1", tags=["connections"], responses=COMMON_ERRORS)


@router.get("/providers", response_model=list[ProviderOut])
def list_providers(_: TenantContext = Depends(current_tenant)) -> list[ProviderOut]:
    """What can be connected, with JSON schemas the SPA renders as the connect form."""
    return [
        ProviderOut(
            name=spec.provider,
            display_name=spec.display_name,
            description=spec.description,
            streams=list(spec.streams),
            config_schema=spec.config_model.model_json_schema(),
            credentials_schema=spec.credentials_model.model_json_schema(),
            oauth=spec.oauth is not None,
            mapping_schema=spec.mapping_model.model_json_schema() if spec.mapping_model else None,
        )
        for spec in registry.CONNECTORS.values()
    ]


@router.get("/connections", response_model=Page[ConnectionOut])
def list_connections(
    page: PageParams = Depends(page_params),
    provider: str | None = Query(None, max_length=40),
    tenant: TenantContext = Depends(require(Permission.connections_read)),
    session: Session = Depends(tenant_db),
) -> Page[ConnectionOut]:
    items, total = service.list_connections(
        session, tenant, limit=page.limit, offset=page.offset, provider=provider
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/connections", response_model=ConnectionOut, status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS
)
def create_connection(
    body: ConnectionCreate,
    response: Response,
    tenant: TenantContext = Depends(require(Permission.connections_write)),
    session: Session = Depends(tenant_db),
) -> ConnectionOut:
    connection = service.create_connection(session, tenant, body)
    response.headers["Location"] = f"/api/v1/connections/{connection.id}"
    return connection


@router.get("/connections/{connection_id}", response_model=ConnectionOut, responses=ITEM_ERRORS)
def get_connection(
    connection_id: uuid.UUID,
    tenant: TenantContext = Depends(require(Permission.connections_read)),
    session: Session = Depends(tenant_db),
) -> ConnectionOut:
    return service.get_connection(session, tenant, connection_id)


@router.delete("/connections/{connection_id}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
def delete_connection(
    connection_id: uuid.UUID,
    tenant: TenantContext = Depends(require(Permission.connections_write)),
    session: Session = Depends(tenant_db),
) -> Response:
    service.delete_connection(session, tenant, connection_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/connections/{connection_id}/sync",
    response_model=SyncRequestOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=WRITE_ERRORS,
)
def request_sync(
    connection_id: uuid.UUID,
    response: Response,
    body: SyncRequestCreate | None = Body(None),
    tenant: TenantContext = Depends(require(Permission.connections_sync)),
    session: Session = Depends(tenant_db),
) -> SyncRequestOut:
    """Queue a sync. Written as a row; the pipelines' sensor turns it into a Dagster run."""
    request = service.request_sync(
        session, tenant, connection_id, full_refresh=body.full_refresh if body else False
    )
    response.headers["Location"] = f"/api/v1/sync-requests/{request.id}"
    return request


@router.get("/sync-requests/{request_id}", response_model=SyncRequestOut, responses=ITEM_ERRORS)
def get_sync_request(
    request_id: uuid.UUID,
    tenant: TenantContext = Depends(require(Permission.connections_read)),
    session: Session = Depends(tenant_db),
) -> SyncRequestOut:
    return service.get_sync_request(session, tenant, request_id)


@router.patch("/connections/{connection_id}", response_model=ConnectionOut, responses=WRITE_ERRORS)
def update_connection(
    connection_id: uuid.UUID,
    body: ConnectionUpdate,
    tenant: TenantContext = Depends(require(Permission.connections_write)),
    session: Session = Depends(tenant_db),
) -> ConnectionOut:
    """Rename a connection, change its scheduled sync cadence, or replace its config (same account)."""
    return service.update_connection(session, tenant, connection_id, body)


@router.put("/connections/{connection_id}/credentials", response_model=ConnectionOut, responses=WRITE_ERRORS)
def replace_credentials(
    connection_id: uuid.UUID,
    body: CredentialsReplace,
    tenant: TenantContext = Depends(require(Permission.connections_write)),
    session: Session = Depends(tenant_db),
) -> ConnectionOut:
    """Replace the stored credentials (same account): a rotated Stripe key, a new bind password. OAuth
    connections are usually re-authorised through the connect flow instead, which does the same."""
    return service.replace_credentials(session, tenant, connection_id, body)


@router.get("/dead-letters", response_model=Page[DeadLetterOut])
def list_dead_letters(
    page: PageParams = Depends(page_params),
    connection_id: uuid.UUID | None = Query(None),
    status_: Literal["open", "retry", "resolved"] | None = Query(None, alias="status"),
    tenant: TenantContext = Depends(require(Permission.connections_read)),
    session: Session = Depends(tenant_db),
) -> Page[DeadLetterOut]:
    """Records a sync could not load, kept with their payload and error."""
    items, total = service.list_dead_letters(
        session, tenant, limit=page.limit, offset=page.offset, connection_id=connection_id, status=status_
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/sync-conflicts", response_model=Page[SyncConflictOut])
def list_sync_conflicts(
    page: PageParams = Depends(page_params),
    connection_id: uuid.UUID | None = Query(None),
    tenant: TenantContext = Depends(require(Permission.connections_read)),
    session: Session = Depends(tenant_db),
) -> Page[SyncConflictOut]:
    """Edits made both here and at the vendor between two syncs, newest first, with both copies and which
    one won (the later one on the vendor's clock, unless the platform's is newer)."""
    items, total = service.list_sync_conflicts(
        session, tenant, limit=page.limit, offset=page.offset, connection_id=connection_id
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/dead-letters/{letter_id}/retry", response_model=DeadLetterOut, responses=WRITE_ERRORS)
def retry_dead_letter(
    letter_id: uuid.UUID,
    tenant: TenantContext = Depends(require(Permission.connections_sync)),
    session: Session = Depends(tenant_db),
) -> DeadLetterOut:
    return service.retry_dead_letter(session, tenant, letter_id)


@router.get("/connections/{connection_id}/mapping", response_model=MappingOut, responses=ITEM_ERRORS)
def get_mapping(
    connection_id: uuid.UUID,
    tenant: TenantContext = Depends(require(Permission.connections_read)),
    session: Session = Depends(tenant_db),
) -> MappingOut:
    """How this connection maps local records onto the vendor's (items, income accounts, tax codes)."""
    return service.get_mapping(session, tenant, connection_id)


@router.put("/connections/{connection_id}/mapping", response_model=MappingOut, responses=WRITE_ERRORS)
def put_mapping(
    connection_id: uuid.UUID,
    body: dict[str, Any] = Body(..., description="Validated by the provider's mapping model."),
    tenant: TenantContext = Depends(require(Permission.connections_write)),
    session: Session = Depends(tenant_db),
) -> MappingOut:
    """Replace the mapping; pushes to the vendor use it from the next run on."""
    return service.put_mapping(session, tenant, connection_id, body)
