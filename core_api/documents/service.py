"""Folders, documents and their immutable versions: use cases.

Upload protocol (see docs in the router): create a pending version bound to a declared size, SHA-256 and
content type → the client PUTs the bytes to the presigned URL → `complete` verifies the stored object and,
in one transaction, numbers the version, marks it available and makes it the document's current version.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core_api.clients.repository import ClientRepository
from core_api.crud import escape_like
from core_api.documents import storage as s3
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
    PresignedUpload,
    VersionCreate,
    VersionUpload,
)
from core_api.errors import Conflict, NotFound, ProblemError
from core_api.models.documents import Document, DocumentVersion, Folder
from core_api.tenancy import TenantContext


def _invalid(field: str, message: str) -> ProblemError:
    return ProblemError(422, "Validation Error", message, errors=[{"field": field, "message": message}])


@contextmanager
def _storage() -> Iterator[None]:
    try:
        yield
    except s3.StorageUnavailable as exc:
        raise ProblemError(503, "Service Unavailable", "Document storage is unavailable; try again.") from exc


@contextmanager
def _unique_names() -> Iterator[None]:
    """The sibling-name index is the last word when two writers race past the pre-check."""
    try:
        yield
    except IntegrityError as exc:
        if "uq_folders_sibling_name" in str(exc.orig):
            raise Conflict("a folder with this name already exists here", field="name") from None
        raise


def _check_client(session: Session, tenant: TenantContext, client_id: uuid.UUID | None) -> None:
    if client_id is not None and ClientRepository(session, tenant).get(client_id) is None:
        raise _invalid("client_id", "not a client of this firm")


def _folder_ref(repo: FolderRepository, folder_id: uuid.UUID, field: str) -> Folder:
    """A live folder of the firm, share-locked so it cannot be deleted before this transaction commits."""
    try:
        return repo.require_shared(folder_id)
    except NotFound:
        raise _invalid(field, "not a folder of this firm") from None


def _not_null(changes: dict, *fields: str) -> None:
    for field in fields:
        if field in changes and changes[field] is None:
            raise _invalid(field, "may not be null")


# --- folders ---


def list_folders(
    session: Session,
    tenant: TenantContext,
    *,
    limit: int,
    offset: int,
    sort: str,
    q: str | None,
    parent_id: uuid.UUID | None,
    root: bool,
    client_id: uuid.UUID | None,
) -> tuple[list[FolderOut], int]:
    if root and parent_id is not None:
        raise _invalid("query.root", "use either root=true or parent_id, not both")
    where = []
    if q:
        where.append(Folder.name.ilike(f"%{escape_like(q)}%", escape="\\"))
    if root:
        where.append(Folder.parent_id.is_(None))
    elif parent_id is not None:
        where.append(Folder.parent_id == parent_id)
    if client_id is not None:
        where.append(Folder.client_id == client_id)
    rows, total = FolderRepository(session, tenant).list(limit=limit, offset=offset, sort=sort, where=where)
    return [FolderOut.model_validate(f) for f in rows], total


def get_folder(session: Session, tenant: TenantContext, folder_id: uuid.UUID) -> FolderOut:
    return FolderOut.model_validate(FolderRepository(session, tenant).require(folder_id))


def create_folder(session: Session, tenant: TenantContext, body: FolderCreate) -> FolderOut:
    repo = FolderRepository(session, tenant)
    if body.parent_id is not None:
        _folder_ref(repo, body.parent_id, "parent_id")
    _check_client(session, tenant, body.client_id)
    if repo.name_taken(body.parent_id, body.name):
        raise Conflict("a folder with this name already exists here", field="name")
    with _unique_names():
        out = FolderOut.model_validate(repo.add(Folder(**body.model_dump())))
    session.commit()
    return out


def update_folder(
    session: Session, tenant: TenantContext, folder_id: uuid.UUID, body: FolderUpdate, if_match: int | None
) -> FolderOut:
    repo = FolderRepository(session, tenant)
    folder = repo.require(folder_id, for_update=True)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    _not_null(changes, "name")
    if "parent_id" in changes and changes["parent_id"] != folder.parent_id:
        repo.lock_tree()
        new_parent = changes["parent_id"]
        if new_parent is not None:
            _folder_ref(repo, new_parent, "parent_id")
            if folder.id in repo.ancestors(new_parent):
                raise _invalid("parent_id", "a folder cannot move under itself or one of its subfolders")
    if "client_id" in changes:
        _check_client(session, tenant, changes["client_id"])
    parent = changes.get("parent_id", folder.parent_id)
    name = changes.get("name", folder.name)
    if (parent != folder.parent_id or name.lower() != folder.name.lower()) and repo.name_taken(
        parent, name, exclude=folder.id
    ):
        raise Conflict("a folder with this name already exists here", field="name")
    expected = body.version if body.version is not None else if_match
    with _unique_names():
        repo.update(folder, changes, expected_version=expected)
    out = FolderOut.model_validate(folder)
    session.commit()
    return out


def delete_folder(
    session: Session, tenant: TenantContext, folder_id: uuid.UUID, if_match: int | None
) -> None:
    repo = FolderRepository(session, tenant)
    folder = repo.require(folder_id, for_update=True)  # blocks new children (they share-lock the folder)
    if repo.has_children(folder.id):
        raise Conflict("the folder is not empty: move or delete its folders and documents first")
    repo.soft_delete(folder, expected_version=if_match)
    session.commit()


# --- documents ---


def _version_out(version: DocumentVersion) -> DocumentVersionOut:
    return DocumentVersionOut.model_validate(version)


def _document_out(doc: Document, current: DocumentVersion | None) -> DocumentOut:
    out = DocumentOut.model_validate(doc)
    out.current_version = _version_out(current) if current is not None else None
    return out


def _with_current(session: Session, tenant: TenantContext, docs: list[Document]) -> list[DocumentOut]:
    ids = [d.current_version_id for d in docs if d.current_version_id is not None]
    versions = DocumentVersionRepository(session, tenant).by_ids(ids)
    return [
        _document_out(d, versions.get(d.current_version_id) if d.current_version_id else None) for d in docs
    ]


def list_documents(
    session: Session,
    tenant: TenantContext,
    *,
    limit: int,
    offset: int,
    sort: str,
    q: str | None,
    folder_id: uuid.UUID | None,
    client_id: uuid.UUID | None,
) -> tuple[list[DocumentOut], int]:
    where = []
    if q:
        where.append(Document.name.ilike(f"%{escape_like(q)}%", escape="\\"))
    if folder_id is not None:
        where.append(Document.folder_id == folder_id)
    if client_id is not None:
        where.append(Document.client_id == client_id)
    rows, total = DocumentRepository(session, tenant).list(limit=limit, offset=offset, sort=sort, where=where)
    return _with_current(session, tenant, rows), total


def get_document(session: Session, tenant: TenantContext, document_id: uuid.UUID) -> DocumentOut:
    doc = DocumentRepository(session, tenant).require(document_id)
    return _with_current(session, tenant, [doc])[0]


def create_document(session: Session, tenant: TenantContext, body: DocumentCreate) -> DocumentOut:
    _folder_ref(FolderRepository(session, tenant), body.folder_id, "folder_id")
    _check_client(session, tenant, body.client_id)
    doc = DocumentRepository(session, tenant).add(Document(**body.model_dump()))
    out = _document_out(doc, None)
    session.commit()
    return out


def update_document(
    session: Session,
    tenant: TenantContext,
    document_id: uuid.UUID,
    body: DocumentUpdate,
    if_match: int | None,
) -> DocumentOut:
    repo = DocumentRepository(session, tenant)
    doc = repo.require(document_id, for_update=True)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    _not_null(changes, "name", "folder_id")
    if "folder_id" in changes and changes["folder_id"] != doc.folder_id:
        _folder_ref(FolderRepository(session, tenant), changes["folder_id"], "folder_id")
    if "client_id" in changes:
        _check_client(session, tenant, changes["client_id"])
    expected = body.version if body.version is not None else if_match
    repo.update(doc, changes, expected_version=expected)
    out = _with_current(session, tenant, [doc])[0]
    session.commit()
    return out


def delete_document(
    session: Session, tenant: TenantContext, document_id: uuid.UUID, if_match: int | None
) -> None:
    repo = DocumentRepository(session, tenant)
    repo.soft_delete(repo.require(document_id, for_update=True), expected_version=if_match)
    session.commit()


# --- versions: upload, complete, download ---


def list_versions(
    session: Session,
    tenant: TenantContext,
    document_id: uuid.UUID,
    *,
    limit: int,
    offset: int,
    sort: str,
    status: str | None,
) -> tuple[list[DocumentVersionOut], int]:
    DocumentRepository(session, tenant).require(document_id)
    where = [DocumentVersion.document_id == document_id]
    if status:
        where.append(DocumentVersion.status == status)
    rows, total = DocumentVersionRepository(session, tenant).list(
        limit=limit, offset=offset, sort=sort, where=where
    )
    return [_version_out(v) for v in rows], total


def get_version(
    session: Session, tenant: TenantContext, document_id: uuid.UUID, version_id: uuid.UUID
) -> DocumentVersionOut:
    DocumentRepository(session, tenant).require(document_id)
    return _version_out(DocumentVersionRepository(session, tenant).require_of(document_id, version_id))


def create_version(
    session: Session,
    tenant: TenantContext,
    storage: s3.DocumentStorage,
    document_id: uuid.UUID,
    body: VersionCreate,
) -> VersionUpload:
    doc = DocumentRepository(session, tenant).require_shared(document_id)
    version_id = uuid.uuid4()
    key = s3.object_key(tenant.firm_id, doc.id, version_id)
    content_type = body.content_type or doc.content_type
    with _storage():
        upload = storage.presign_upload(
            key, size=body.size_bytes, checksum_sha256=body.checksum_sha256, content_type=content_type
        )
    version = DocumentVersionRepository(session, tenant).add(
        DocumentVersion(
            id=version_id,
            document_id=doc.id,
            status="pending",
            s3_key=key,
            checksum_sha256=body.checksum_sha256,
            size_bytes=body.size_bytes,
            content_type=content_type,
            uploaded_by=tenant.user_id,
        )
    )
    out = VersionUpload(
        version=_version_out(version),
        upload=PresignedUpload(url=upload.url, headers=upload.headers, expires_at=upload.expires_at),
    )
    session.commit()
    return out


def _same_type(stored: str | None, declared: str) -> bool:
    def norm(value: str) -> str:
        return ";".join(part.strip() for part in value.lower().split(";"))

    return stored is not None and norm(stored) == norm(declared)


def complete_version(
    session: Session,
    tenant: TenantContext,
    storage: s3.DocumentStorage,
    document_id: uuid.UUID,
    version_id: uuid.UUID,
) -> DocumentVersionOut:
    doc = DocumentRepository(session, tenant).require(document_id, for_update=True)
    versions = DocumentVersionRepository(session, tenant)
    version = versions.require_of(doc.id, version_id, for_update=True)
    if version.status == "available":
        return _version_out(version)  # completing twice is harmless (a retried request)
    if version.status == "rejected":
        raise Conflict(f"this upload was rejected ({version.rejection_reason}); create a new version")
    if not version.s3_key.startswith(f"firms/{tenant.firm_id}/"):  # defence in depth: never cross firms
        raise NotFound(versions.entity)

    with _storage():
        info = storage.head(version.s3_key)
        if info is None:
            raise ProblemError(
                422,
                "Upload Not Found",
                "Nothing has been uploaded to this version's URL yet; upload, then complete.",
                errors=[{"field": "upload", "message": "no object at the upload URL"}],
            )
        problems: list[dict[str, str]] = []
        if info.size != version.size_bytes:
            problems.append(
                {
                    "field": "size_bytes",
                    "message": f"uploaded {info.size} bytes, declared {version.size_bytes}",
                }
            )
        if not _same_type(info.content_type, version.content_type):
            problems.append(
                {
                    "field": "content_type",
                    "message": f"uploaded as {info.content_type!r}, declared {version.content_type!r}",
                }
            )
        if not problems:
            try:
                digest, length = storage.sha256(version.s3_key, info.etag)
            except s3.ObjectChanged:
                raise Conflict("the object changed while it was being verified; complete again") from None
            if length != version.size_bytes:
                problems.append({"field": "size_bytes", "message": f"read {length} bytes"})
            elif digest != version.checksum_sha256:
                problems.append(
                    {"field": "checksum_sha256", "message": "the uploaded content's SHA-256 differs"}
                )

    now = datetime.now(UTC)
    if problems:
        # The version stays unusable for good: recorded as rejected, its object removed.
        version.status = "rejected"
        version.completed_at = now
        version.rejection_reason = "; ".join(p["message"] for p in problems)[:500]
        session.flush()
        session.commit()
        storage.delete(version.s3_key)
        raise ProblemError(
            422,
            "Upload Rejected",
            "The uploaded object does not match the declared version.",
            errors=problems,
        )

    # One transaction: number it, make it available and current.
    version.number = versions.next_number(doc.id)
    version.status = "available"
    version.completed_at = now
    version.s3_etag = info.etag
    session.flush()
    doc.current_version_id = version.id
    doc.content_type = version.content_type
    session.flush()
    out = _version_out(version)
    session.commit()
    return out


def _download(storage: s3.DocumentStorage, doc: Document, version: DocumentVersion) -> DownloadLink:
    if version.status != "available" or version.number is None:
        raise Conflict(f"this version is not available for download (status {version.status})")
    with _storage():
        link = storage.presign_download(version.s3_key, file_name=doc.name, content_type=version.content_type)
    return DownloadLink(
        url=link.url,
        expires_at=link.expires_at,
        file_name=doc.name,
        content_type=version.content_type,
        size_bytes=version.size_bytes,
        version_id=version.id,
        number=version.number,
    )


def download_version(
    session: Session,
    tenant: TenantContext,
    storage: s3.DocumentStorage,
    document_id: uuid.UUID,
    version_id: uuid.UUID,
) -> DownloadLink:
    doc = DocumentRepository(session, tenant).require(document_id)
    version = DocumentVersionRepository(session, tenant).require_of(doc.id, version_id)
    return _download(storage, doc, version)


def download_current(
    session: Session, tenant: TenantContext, storage: s3.DocumentStorage, document_id: uuid.UUID
) -> DownloadLink:
    doc = DocumentRepository(session, tenant).require(document_id)
    if doc.current_version_id is None:
        raise Conflict("the document has no available version yet")
    version = DocumentVersionRepository(session, tenant).require_of(doc.id, doc.current_version_id)
    return _download(storage, doc, version)
