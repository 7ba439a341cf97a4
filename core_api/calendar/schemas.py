from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import available_timezones

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from core_api.clients.schemas import ExternalRefOut

_ZONES = available_timezones()


def _zone(value: str | None) -> str | None:
    if value is not None and value not in _ZONES:
        raise ValueError("must be an IANA time zone such as 'America/New_York'")
    return value


class EventFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    description: str | None = Field(default=None, max_length=10_000)
    client_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = Field(default=None, description="A contact of `client_id`.")
    location: str | None = Field(default=None, max_length=300)


class EventCreate(EventFields):
    title: str = Field(min_length=1, max_length=300)
    staff_user_id: uuid.UUID = Field(description="The firm member whose calendar holds the event.")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    timezone: str = Field(default="UTC", description="IANA zone the event was planned in.")

    @field_validator("timezone")
    @classmethod
    def _zone_ok(cls, value: str) -> str:
        return _zone(value)

    @model_validator(mode="after")
    def _ends_after_start(self) -> EventCreate:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class EventUpdate(EventFields):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    staff_user_id: uuid.UUID | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    timezone: str | None = None
    version: int | None = Field(default=None, ge=1)

    @field_validator("timezone")
    @classmethod
    def _zone_ok(cls, value: str | None) -> str | None:
        return _zone(value)


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    title: str
    description: str | None
    staff_user_id: uuid.UUID
    client_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    starts_at: datetime
    ends_at: datetime
    timezone: str
    location: str | None
    provider_etags: dict[str, str]
    version: int
    created_at: datetime
    updated_at: datetime
    external_refs: list[ExternalRefOut] = []
