from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

ClientStatus = Literal["active", "inactive", "terminated"]


class ExternalRefOut(BaseModel):
    provider: str
    connection_id: uuid.UUID
    external_id: str


class ClientFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    industry: str | None = Field(default=None, max_length=100)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=50)
    address_line1: str | None = Field(default=None, max_length=200)
    address_line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=100)
    notes: str | None = Field(default=None, max_length=10_000)
    primary_contact_id: uuid.UUID | None = Field(default=None, description="One of this client's contacts.")
    account_manager_id: uuid.UUID | None = Field(default=None, description="A member of the firm.")


class ClientCreate(ClientFields):
    name: str = Field(min_length=1, max_length=200, description="Company (or person) name.")
    status: ClientStatus = "active"


class ClientUpdate(ClientFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: ClientStatus | None = None
    version: int | None = Field(
        default=None, ge=1, description="Optimistic concurrency: the version you read."
    )


class ClientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    industry: str | None
    email: str | None
    phone: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None
    status: str
    notes: str | None
    primary_contact_id: uuid.UUID | None
    account_manager_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime
    external_refs: list[ExternalRefOut] = []


class ContactFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    last_name: str | None = Field(default=None, max_length=100)
    title: str | None = Field(default=None, max_length=100)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=50)
    email_opt_out: bool | None = None
    sms_opt_out: bool | None = None
    call_opt_out: bool | None = None


class ContactCreate(ContactFields):
    first_name: str = Field(min_length=1, max_length=100)


class ContactUpdate(ContactFields):
    first_name: str | None = Field(default=None, min_length=1, max_length=100)
    version: int | None = Field(default=None, ge=1)


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    client_id: uuid.UUID
    first_name: str
    last_name: str
    title: str | None
    email: str | None
    phone: str | None
    email_opt_out: bool
    sms_opt_out: bool
    call_opt_out: bool
    version: int
    created_at: datetime
    updated_at: datetime
    external_refs: list[ExternalRefOut] = []


class ContactListItem(ContactOut):
    """A contact in the firm-wide list, with the name of its client."""

    client_name: str
