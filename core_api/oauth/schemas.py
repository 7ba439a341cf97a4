from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class OAuthStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    sync_interval_minutes: int = Field(default=60, ge=5, le=10080, description="Scheduled sync cadence.")


class OAuthStartOut(BaseModel):
    session_id: uuid.UUID
    authorization_url: str = Field(description="Send the browser here; the vendor redirects back to the API.")
    expires_at: datetime


class OAuthAccountOut(BaseModel):
    id: str
    name: str


class OAuthSessionOut(BaseModel):
    id: uuid.UUID
    provider: str
    status: Literal["pending", "awaiting_account", "completed", "failed", "expired"]
    accounts: list[OAuthAccountOut] = Field(description="Vendor accounts the grant covers (pick one).")
    connection_id: uuid.UUID | None
    error: str | None
    expires_at: datetime


class AccountChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_id: str = Field(min_length=1, max_length=255, description="One of the session's `accounts`.")
