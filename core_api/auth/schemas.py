from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from core_api.tenancy import Role


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    firm_id: uuid.UUID | None = Field(
        default=None, description="Which firm to sign in to; default: the first."
    )


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=1)


class FirmSummary(BaseModel):
    id: uuid.UUID
    name: str
    role: Role


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    firm: FirmSummary


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str


class MeResponse(BaseModel):
    user: UserOut
    firm: FirmSummary
    memberships: list[FirmSummary]
    permissions: list[str] = Field(
        description="What the current role may do here; the SPA offers only these (the API enforces them)."
    )
    dagster_ui_url: str | None = Field(
        default=None, description="The operators' console (Dagster UI), for roles with operations:console."
    )
