from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from core_api.calendar.schemas import _zone
from core_api.tenancy import Role

CURRENCIES = (
    "USD",
    "EUR",
    "GBP",
    "CAD",
    "AUD",
    "NZD",
    "CHF",
    "JPY",
    "SEK",
    "NOK",
    "DKK",
    "ZAR",
    "SGD",
    "INR",
)
Currency = Literal[CURRENCIES]  # type: ignore[valid-type]


class SignupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    firm_name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    password: str = Field(min_length=12, max_length=1024, description="At least 12 characters.")
    full_name: str = Field(min_length=1, max_length=200)
    timezone: str = "UTC"
    currency: Currency = "USD"  # type: ignore[valid-type]

    @field_validator("timezone")
    @classmethod
    def _zone_ok(cls, value: str) -> str:
        return _zone(value)


class FirmOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    slug: str
    timezone: str
    currency: str
    version: int
    created_at: datetime


class FirmUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = None
    currency: Currency | None = None  # type: ignore[valid-type]
    version: int | None = Field(default=None, ge=1)

    @field_validator("timezone")
    @classmethod
    def _zone_ok(cls, value: str | None) -> str | None:
        return _zone(value)


class MemberOut(BaseModel):
    user_id: uuid.UUID
    email: str
    full_name: str
    role: Role
    active: bool
    joined_at: datetime


class MemberUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    email: EmailStr
    role: Role = Role.staff


class InvitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    email: str
    role: Role
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class InvitationCreated(InvitationOut):
    token: str = Field(description="Shown once: send it to the invitee (only its hash is stored).")


class AcceptInvitation(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    token: str = Field(min_length=20, max_length=200)
    password: str = Field(
        min_length=12, max_length=1024, description="New account: choose one; existing account: its password."
    )
    full_name: str | None = Field(default=None, max_length=200, description="Required for a new account.")


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    actor_user_id: uuid.UUID | None
    action: str
    entity: str
    entity_id: str
    before: dict | None
    after: dict | None
    created_at: datetime
