"""Canonical records: the vendor-neutral shapes the app's own tables are merged from.

Mapping functions in `connectors/<vendor>/mapping.py` produce these from vendor payloads.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class CanonicalRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str = Field(description="Connector that produced the record, e.g. 'quickbooks'.")
    external_id: str = Field(min_length=1, description="The record's id in the provider's system.")


class CanonicalClient(CanonicalRecord):
    """A firm's client (a customer in the accounting system) as the app's `clients` table sees it."""

    name: str = Field(min_length=1)
    company_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    region: str | None = Field(default=None, description="State, province or county.")
    postal_code: str | None = None
    country: str | None = None
    active: bool = Field(description="False when the provider has deactivated (soft-deleted) it.")
    updated_at: AwareDatetime = Field(description="Provider's last-modified time.")
