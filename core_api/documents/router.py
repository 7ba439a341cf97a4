"""Folders, documents and immutable versions in S3 (issue 3).

Upload: `POST /documents/{id}/versions` with the content's size, SHA-256 and type → a pending version and
a presigned PUT (send the returned headers; the URL expires) → `POST .../versions/{vid}/complete` verifies
the stored object and makes the version current. Download: `GET .../versions/{vid}/download` (or
`GET /documents/{id}/download` for the current version) → a short-lived presigned GET.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Response, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from core_api.auth.dependencies import require, tenant_db
from core_api.documents import service
from core_api.documents.repository import DocumentRepository, DocumentVersionRepository, FolderRepository
from core_api.documents.schemas import (
    DocumentCreate,
    DocumentOut,
    DocumentUpdate,
    DocumentVersionOut,
    DownloadLink,
    FolderCreate,
    FolderOut,
    FolderUpdate,
    VersionCreate,
    VersionStatus,
    VersionUpload,
)
from core_api.documents.storage import DocumentStorage, get_storage
from core_api.http import COMMON_ERRORS, ITEM_ERRORS, PROBLEM, WRITE_ERRORS, if_match, set_etag
from core_api.pagination import Page, PageParams, page_params
from core_api.permissions import Permission
from core_api.settings import get_settings
from core_api.tenancy import TenantContext

log = logging.getLogger(__name__)


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Dev only (FIRMSYNC_S3_CREATE_BUCKET): create the documents bucket at start-up if it is missing."""
    settings = get_settings()
    if settings.s3_create_bucket:
        storage = DocumentStorage.from_settings(settings)
        if await run_in_threadpool(storage.ensure_bucket, settings.s3_region):
            log.info("created S3 bucket %s", settings.s3_bucket)
    yield


router = APIRouter(prefix="/api/v1", tags=["documents"], responses=COMMON_ERRORS, lifespan=_lifespan)
FolderSort = Literal[tuple(FolderRepository.sorts)]  # type: ignore[valid-type]
DocumentSort = Literal[tuple(DocumentRepository.sorts)]  # type: ignore[valid-type]
VersionSort = Literal[tuple(DocumentVersionRepository.sorts)]  # type: ignore[valid-type]
READ = Depends(require(Permission.documents_read))
WRITE = Depends(require(Permission.documents_write))
STORAGE = Depends(get_storage)

STORAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    503: {"description": "Document storage (S3) is unreachable", **PROBLEM}
}
STATE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ITEM_ERRORS,
    409: {"description": "The version is not available (pending or rejected)", **PROBLEM},
    **STORAGE_ERRORS,
}


# --- folders ---


@router.get("/folders", response_model=Page[FolderOut])
def list_folders(
    page: PageParams = Depends(page_params),
    q: str | None = Query(None, max_length=200, description="Case-insensitive name search."),
    parent_id: uuid.UUID | None = Query(None, description="Only the folders directly inside this one."),
    root: bool = Query(False, description="Only top-level folders."),
    client_id: uuid.UUID | None = Query(None),
    sort: FolderSort = Query("name"),  # type: ignore[valid-type]
    tenant: TenantContext = READ,
    session: Session = Depends(tenant_db),
) -> Page[FolderOut]:
    items, total = service.list_folders(
        session,
        tenant,
        limit=page.limit,
        offset=page.offset,
        sort=sort,
        q=q,
        parent_id=parent_id,
        root=root,
        client_id=client_id,
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/folders", response_model=FolderOut, status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS
)
def create_folder(
    body: FolderCreate,
    response: Response,
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> FolderOut:
    folder = service.create_folder(session, tenant, body)
    response.headers["Location"] = f"/api/v1/folders/{folder.id}"
    set_etag(response, folder.version)
    return folder


@router.get("/folders/{folder_id}", response_model=FolderOut, responses=ITEM_ERRORS)
def get_folder(
    folder_id: uuid.UUID,
    response: Response,
    tenant: TenantContext = READ,
    session: Session = Depends(tenant_db),
) -> FolderOut:
    folder = service.get_folder(session, tenant, folder_id)
    set_etag(response, folder.version)
    return folder


@router.patch("/folders/{folder_id}", response_model=FolderOut, responses=WRITE_ERRORS)
def update_folder(
    folder_id: uuid.UUID,
    body: FolderUpdate,
    response: Response,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> FolderOut:
    folder = service.update_folder(session, tenant, folder_id, body, expected)
    set_etag(response, folder.version)
    return folder


@router.delete("/folders/{folder_id}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
def delete_folder(
    folder_id: uuid.UUID,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> Response:
    """409 while the folder still holds folders or documents."""
    service.delete_folder(session, tenant, folder_id, expected)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- documents ---


@router.get("/documents", response_model=Page[DocumentOut])
def list_documents(
    page: PageParams = Depends(page_params),
    q: str | None = Query(None, max_length=200, description="Case-insensitive name search."),
    folder_id: uuid.UUID | None = Query(None),
    client_id: uuid.UUID | None = Query(None),
    sort: DocumentSort = Query("name"),  # type: ignore[valid-type]
    tenant: TenantContext = READ,
    session: Session = Depends(tenant_db),
) -> Page[DocumentOut]:
    items, total = service.list_documents(
        session,
        tenant,
        limit=page.limit,
        offset=page.offset,
        sort=sort,
        q=q,
        folder_id=folder_id,
        client_id=client_id,
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/documents", response_model=DocumentOut, status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS
)
def create_document(
    body: DocumentCreate,
    response: Response,
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> DocumentOut:
    """Creates the document record; upload its content with `POST /documents/{id}/versions`."""
    doc = service.create_document(session, tenant, body)
    response.headers["Location"] = f"/api/v1/documents/{doc.id}"
    set_etag(response, doc.version)
    return doc


@router.get("/documents/{document_id}", response_model=DocumentOut, responses=ITEM_ERRORS)
def get_document(
    document_id: uuid.UUID,
    response: Response,
    tenant: TenantContext = READ,
    session: Session = Depends(tenant_db),
) -> DocumentOut:
    doc = service.get_document(session, tenant, document_id)
    set_etag(response, doc.version)
    return doc


@router.patch("/documents/{document_id}", response_model=DocumentOut, responses=WRITE_ERRORS)
def update_document(
    document_id: uuid.UUID,
    body: DocumentUpdate,
    response: Response,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> DocumentOut:
    doc = service.update_document(session, tenant, document_id, body, expected)
    set_etag(response, doc.version)
    return doc


@router.delete("/documents/{document_id}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
def delete_document(
    document_id: uuid.UUID,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
) -> Response:
    service.delete_document(session, tenant, document_id, expected)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/documents/{document_id}/download", response_model=DownloadLink, responses=STATE_ERRORS)
def download_current_version(
    document_id: uuid.UUID,
    tenant: TenantContext = READ,
    session: Session = Depends(tenant_db),
    storage: DocumentStorage = STORAGE,
) -> DownloadLink:
    """A short-lived presigned GET for the document's current version (409 before the first upload)."""
    return service.download_current(session, tenant, storage, document_id)


# --- versions (immutable: no update or delete) ---


@router.get(
    "/documents/{document_id}/versions", response_model=Page[DocumentVersionOut], responses=ITEM_ERRORS
)
def list_versions(
    document_id: uuid.UUID,
    page: PageParams = Depends(page_params),
    status_: VersionStatus | None = Query(None, alias="status"),
    sort: VersionSort = Query("-created_at"),  # type: ignore[valid-type]
    tenant: TenantContext = READ,
    session: Session = Depends(tenant_db),
) -> Page[DocumentVersionOut]:
    items, total = service.list_versions(
        session, tenant, document_id, limit=page.limit, offset=page.offset, sort=sort, status=status_
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/documents/{document_id}/versions",
    response_model=VersionUpload,
    status_code=status.HTTP_201_CREATED,
    responses={**ITEM_ERRORS, **STORAGE_ERRORS},
)
def create_version(
    document_id: uuid.UUID,
    body: VersionCreate,
    response: Response,
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
    storage: DocumentStorage = STORAGE,
) -> VersionUpload:
    """A pending version and a presigned PUT bound to the declared size, SHA-256 and content type.

    PUT exactly `size_bytes` bytes to `upload.url` with `upload.headers`, then call `complete`.
    """
    created = service.create_version(session, tenant, storage, document_id, body)
    response.headers["Location"] = f"/api/v1/documents/{document_id}/versions/{created.version.id}"
    return created


@router.get(
    "/documents/{document_id}/versions/{version_id}", response_model=DocumentVersionOut, responses=ITEM_ERRORS
)
def get_version(
    document_id: uuid.UUID,
    version_id: uuid.UUID,
    tenant: TenantContext = READ,
    session: Session = Depends(tenant_db),
) -> DocumentVersionOut:
    return service.get_version(session, tenant, document_id, version_id)


@router.post(
    "/documents/{document_id}/versions/{version_id}/complete",
    response_model=DocumentVersionOut,
    responses={
        **ITEM_ERRORS,
        409: {"description": "The version was rejected earlier, or the object changed meanwhile", **PROBLEM},
        **STORAGE_ERRORS,
    },
)
def complete_version(
    document_id: uuid.UUID,
    version_id: uuid.UUID,
    tenant: TenantContext = WRITE,
    session: Session = Depends(tenant_db),
    storage: DocumentStorage = STORAGE,
) -> DocumentVersionOut:
    """Verify the uploaded object (size, content type, SHA-256); number it, make it available and current.

    422 when nothing was uploaded yet (the version stays pending) or when the object does not match the
    declaration (the version is rejected for good and its object removed). Completing twice is harmless.
    """
    return service.complete_version(session, tenant, storage, document_id, version_id)


@router.get(
    "/documents/{document_id}/versions/{version_id}/download",
    response_model=DownloadLink,
    responses=STATE_ERRORS,
)
def download_version(
    document_id: uuid.UUID,
    version_id: uuid.UUID,
    tenant: TenantContext = READ,
    session: Session = Depends(tenant_db),
    storage: DocumentStorage = STORAGE,
) -> DownloadLink:
    """A short-lived presigned GET (Content-Disposition: attachment with the document's file name)."""
    return service.download_version(session, tenant, storage, document_id, version_id)
