from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

ClientStatus = Literal["active", "inactive"]


class ClientFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=50)
    address_line1: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=100)
    notes: str | None = Field(default=None, max_length=10_000)


class ClientCreate(ClientFields):
    name: str = Field(min_length=1, max_length=200)
    status: ClientStatus = "active"


class ClientUpdate(ClientFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: ClientStatus | None = None
    version: int | None = Field(
        default=None, ge=1, description="Optimistic concurrency: the version you read."
    )


class ExternalRefOut(BaseModel):
    provider: str
    connection_id: uuid.UUID
    external_id: str


class ClientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    email: str | None
    phone: str | None
    address_line1: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None
    status: str
    notes: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    external_refs: list[ExternalRefOut] = []
