from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

VersionStatus = Literal["pending", "available", "rejected"]

# Names are single path segments: no slashes, no control characters.
_NAME = r"^[^/\\\x00-\x1f\x7f]+$"
FolderName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=_NAME)
]
FileName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=_NAME)
]
ContentType = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=255,
        pattern=r"^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+(\s*;\s*[a-z0-9_.-]+=[a-z0-9_.\"-]+)*$",
    ),
]
Sha256Hex = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[0-9a-fA-F]{64}$")
]
MAX_OBJECT_BYTES = 5 * 1024**3  # S3's limit for a single PUT


# --- folders ---


class FolderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: FolderName = Field(description="Unique among the parent's folders (case-insensitive).")
    parent_id: uuid.UUID | None = Field(default=None, description="A folder of this firm; null = top level.")
    client_id: uuid.UUID | None = Field(default=None, description="A client of this firm.")


class FolderUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: FolderName | None = None
    parent_id: uuid.UUID | None = Field(
        default=None, description="Move the folder; null moves it to the top level (not under itself)."
    )
    client_id: uuid.UUID | None = None
    version: int | None = Field(
        default=None, ge=1, description="Optimistic concurrency: the version you read."
    )


class FolderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    parent_id: uuid.UUID | None
    client_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime


# --- documents ---


class DocumentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    folder_id: uuid.UUID = Field(description="A folder of this firm.")
    name: FileName = Field(description="The file name, used when downloading.")
    client_id: uuid.UUID | None = Field(default=None, description="A client of this firm.")
    content_type: ContentType = "application/octet-stream"


class DocumentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: FileName | None = None
    folder_id: uuid.UUID | None = Field(default=None, description="Move the document to another folder.")
    client_id: uuid.UUID | None = None
    version: int | None = Field(
        default=None, ge=1, description="Optimistic concurrency: the version you read."
    )


class DocumentVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    document_id: uuid.UUID
    number: int | None = Field(description="1..n per document, assigned when the upload is verified.")
    status: VersionStatus
    size_bytes: int
    checksum_sha256: str = Field(description="Lowercase hex SHA-256 of the content.")
    content_type: str
    uploaded_by: uuid.UUID | None
    created_at: datetime
    completed_at: datetime | None
    rejection_reason: str | None


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    folder_id: uuid.UUID
    name: str
    client_id: uuid.UUID | None
    content_type: str
    current_version_id: uuid.UUID | None
    current_version: DocumentVersionOut | None = None
    version: int
    created_at: datetime
    updated_at: datetime


# --- uploads and downloads ---


class VersionCreate(BaseModel):
    """What the client is about to upload; the upload URL is bound to it and completion verifies it."""

    model_config = ConfigDict(extra="forbid")
    size_bytes: int = Field(ge=0, le=MAX_OBJECT_BYTES, description="Exact size of the content in bytes.")
    checksum_sha256: Sha256Hex = Field(description="Hex SHA-256 of the content.")
    content_type: ContentType | None = Field(default=None, description="Defaults to the document's type.")


class PresignedUpload(BaseModel):
    method: Literal["PUT"] = "PUT"
    url: str
    headers: dict[str, str] = Field(
        description="Send exactly these headers with the body (Content-Length must equal size_bytes)."
    )
    expires_at: datetime


class VersionUpload(BaseModel):
    version: DocumentVersionOut
    upload: PresignedUpload


class DownloadLink(BaseModel):
    method: Literal["GET"] = "GET"
    url: str
    expires_at: datetime
    file_name: str
    content_type: str
    size_bytes: int
    version_id: uuid.UUID
    number: int
