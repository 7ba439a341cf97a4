"""Models of the documents domain (issue 3). FIRM_SCOPED tables get forced RLS in their migration.

Folders form a tree per firm (a folder's name is unique among its live siblings, case-insensitively).
A document lives in a folder and points at its current version. Versions are immutable records of one
uploaded object in S3: created `pending` (a presigned upload URL is handed out), then either
`available` (the object was verified and the version got the next number, 1..n, per document) or
`rejected` (the object did not match what was declared). The API never updates or deletes a version
beyond that one transition; a trigger in migration 0004 refuses any change to a version's content fields.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from core_api.models.base import APP_SCHEMA, Base
from core_api.models.mixins import FirmOwned

FIRM_SCOPED: list[str] = ["app.folders", "app.documents", "app.document_versions"]

VERSION_STATUSES = ("pending", "available", "rejected")
_ROOT = "'00000000-0000-0000-0000-000000000000'::uuid"


class Folder(FirmOwned, Base):
    __tablename__ = "folders"
    __table_args__ = (
        Index("ix_folders_parent", "firm_id", "parent_id"),
        Index("ix_folders_client", "firm_id", "client_id"),
        {"schema": APP_SCHEMA},
    )
    __audit__ = "folder"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.folders.id", ondelete="CASCADE")
    )
    client_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.clients.id", ondelete="SET NULL")
    )


# Unique name among live siblings (root folders are siblings of each other), case-insensitively.
Index(
    "uq_folders_sibling_name",
    Folder.firm_id,
    func.coalesce(Folder.parent_id, text(_ROOT)),
    func.lower(Folder.name),
    unique=True,
    postgresql_where=Folder.deleted_at.is_(None),
)


class Document(FirmOwned, Base):
    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_folder", "firm_id", "folder_id"),
        Index("ix_documents_client", "firm_id", "client_id"),
        {"schema": APP_SCHEMA},
    )
    __audit__ = "document"

    folder_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.folders.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(255), nullable=False)  # the file name, e.g. "2026 return.pdf"
    client_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.clients.id", ondelete="SET NULL")
    )
    # Declared at creation; follows the current version's type once one is available.
    content_type: Mapped[str] = mapped_column(
        String(255), nullable=False, server_default=text("'application/octet-stream'")
    )
    current_version_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey(f"{APP_SCHEMA}.document_versions.id", ondelete="SET NULL", use_alter=True),
    )


class DocumentVersion(FirmOwned, Base):
    __tablename__ = "document_versions"
    __table_args__ = (
        UniqueConstraint("document_id", "number", name="uq_document_versions_number"),
        UniqueConstraint("s3_key", name="uq_document_versions_s3_key"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("size_bytes >= 0", name="size_non_negative"),
        CheckConstraint("status in ('pending', 'available', 'rejected')", name="status_known"),
        CheckConstraint("(status = 'available') = (number is not null)", name="numbered_when_available"),
        Index("ix_document_versions_document", "firm_id", "document_id"),
        {"schema": APP_SCHEMA},
    )
    __audit__ = "document_version"

    document_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.documents.id", ondelete="CASCADE"), nullable=False
    )
    # 1..n per document, assigned when the upload is verified (pending and rejected uploads have none).
    number: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("'pending'"))
    # firms/<firm_id>/documents/<document_id>/<version_id>: built from the tenant, never from input.
    s3_key: Mapped[str] = mapped_column(String(500), nullable=False)
    checksum_sha256: Mapped[str] = mapped_column(String(64), nullable=False)  # lowercase hex
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    content_type: Mapped[str] = mapped_column(String(255), nullable=False)
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.users.id", ondelete="SET NULL")
    )
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    s3_etag: Mapped[str | None] = mapped_column(String(200))
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
