from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ConnectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: str = Field(min_length=1, max_length=40, description="A provider from GET /api/v1/providers.")
    display_name: str | None = Field(default=None, max_length=200)
    config: dict[str, Any] = Field(description="Validated by the provider's config model.")
    credentials: dict[str, Any] = Field(
        description="Validated by the provider's credentials model; stored encrypted."
    )
    sync_interval_minutes: int = Field(default=60, ge=5, le=10080, description="Scheduled sync cadence.")


class ConnectionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    sync_interval_minutes: int | None = Field(default=None, ge=5, le=10080)
    config: dict[str, Any] | None = Field(
        default=None,
        description="The whole new config, validated by the provider's config model; it must name the same "
        "account. E.g. a Slack connection's channel and `notify` choices.",
    )


class CredentialsReplace(BaseModel):
    """New credentials for the same account: a rotated API key, a changed bind password, fresh tokens."""

    model_config = ConfigDict(extra="forbid")
    credentials: dict[str, Any] = Field(
        description="The whole new set, validated by the provider's credentials model; stored encrypted."
    )


class SyncConflictOut(BaseModel):
    """An edit made on both sides, and how the rule resolved it (ADR 0009): both copies are kept."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    connection_id: uuid.UUID
    provider: str
    entity: str
    entity_id: uuid.UUID
    external_id: str
    platform_updated_at: datetime | None
    vendor_updated_at: datetime | None
    resolution: Literal["platform_wins", "vendor_wins"]
    platform_payload: dict[str, Any]
    vendor_payload: dict[str, Any]
    created_at: datetime


class DeadLetterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    connection_id: uuid.UUID
    provider: str
    stream: str
    external_id: str
    payload: dict[str, Any]
    error: str
    attempts: int
    status: str
    created_at: datetime
    last_attempt_at: datetime
    resolved_at: datetime | None


class SyncRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    full_refresh: bool = Field(default=False, description="Ignore stored cursors and re-read everything.")


class LastSync(BaseModel):
    at: datetime | None
    status: str | None
    records: int | None
    error: str | None


class ConnectionOut(BaseModel):
    id: uuid.UUID
    provider: str
    display_name: str
    account_id: str
    config: dict[str, Any]
    status: str
    status_detail: str | None
    sync_interval_minutes: int
    last_sync: LastSync
    created_at: datetime
    updated_at: datetime


class SyncRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    connection_id: uuid.UUID
    full_refresh: bool
    status: str
    run_id: str | None
    records: int | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ProviderOut(BaseModel):
    name: str
    display_name: str
    description: str
    streams: list[str]
    config_schema: dict[str, Any]
    credentials_schema: dict[str, Any]
    oauth: bool = Field(
        description="Connected through the vendor's consent screen (connections/oauth/…/start)."
    )
    mapping_schema: dict[str, Any] | None = Field(
        description="What the firm maps local records onto before pushes (PUT connections/{id}/mapping)."
    )


class MappingOut(BaseModel):
    connection_id: uuid.UUID
    provider: str
    mapping: dict[str, Any] = Field(description="Validated by the provider's mapping model when written.")
    complete: bool = Field(description="False until the firm has filled in what pushes need.")
    mapping_schema: dict[str, Any] = Field(description="JSON schema the SPA renders the mapping form from.")
