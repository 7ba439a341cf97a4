from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from core_api.clients.schemas import ClientOut, ContactOut, ExternalRefOut

LeadStatus = Literal["new", "contacted", "qualified", "converted", "lost"]
# "converted" is reached only through POST /leads/{id}/convert.
SettableStatus = Literal["new", "contacted", "qualified", "lost"]


class LeadFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    company_name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=50)
    source: str | None = Field(default=None, max_length=60, description="referral, website, event, …")
    score: int | None = Field(default=None, ge=0, le=100)
    assignee_id: uuid.UUID | None = Field(default=None, description="A member of the firm.")
    notes: str | None = Field(default=None, max_length=10_000)


class LeadCreate(LeadFields):
    name: str = Field(min_length=1, max_length=200, description="The person's name.")
    status: SettableStatus = "new"


class LeadUpdate(LeadFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: SettableStatus | None = None
    version: int | None = Field(default=None, ge=1)


class LeadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    company_name: str | None
    email: str | None
    phone: str | None
    source: str | None
    status: str
    score: int
    assignee_id: uuid.UUID | None
    notes: str | None
    converted_client_id: uuid.UUID | None
    converted_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    external_refs: list[ExternalRefOut] = []


class LeadConvert(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    client_name: str | None = Field(
        default=None, min_length=1, max_length=200, description="Default: the lead's company, else its name."
    )
    create_contact: bool = Field(default=True, description="Also create the lead's person as a contact.")
    version: int | None = Field(default=None, ge=1)


class LeadConversion(BaseModel):
    lead: LeadOut
    client: ClientOut
    contact: ContactOut | None
