"""Canonical records: the vendor-neutral shapes the app's own tables are merged from and pushed from.

Mapping functions in `connectors/<vendor>/mapping.py` produce the pulled ones from vendor payloads and
turn the pushed ones (`ClientDetails`, `CanonicalInvoice`) into vendor payloads.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class CanonicalRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str = Field(description="Connector that produced the record, e.g. 'quickbooks'.")
    external_id: str = Field(min_length=1, description="The record's id in the provider's system.")


class ClientDetails(BaseModel):
    """What the app knows about a client, without any provider's identity: what a push sends."""

    model_config = ConfigDict(frozen=True, extra="forbid")

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


class CanonicalClient(CanonicalRecord, ClientDetails):
    """A firm's client (a customer in the accounting system) as the app's `clients` table sees it."""

    updated_at: AwareDatetime = Field(description="Provider's last-modified time.")


class CanonicalInvoiceLine(BaseModel):
    """One line of an app invoice. Amounts are in the invoice's currency, already rounded by the app."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str = Field(min_length=1)
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal = Field(description="quantity * unit_price, rounded.")
    tax_rate: Decimal | None = Field(default=None, description="Percent (20 means 20 %); None: untaxed.")
    service: str | None = Field(
        default=None, description="Kind of service, the key a connection's item mapping is looked up by."
    )


class CanonicalInvoice(BaseModel):
    """An app invoice as a push sends it. The provider's customer id comes from the client's external ref."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str = Field(min_length=1)
    customer_external_id: str = Field(min_length=1, description="The client's id in the provider's system.")
    currency: str = Field(min_length=3, max_length=3)
    issue_date: dt.date
    due_date: dt.date
    notes: str | None = None
    lines: tuple[CanonicalInvoiceLine, ...] = Field(min_length=1)


class CalendarEventDetails(BaseModel):
    """What the app knows about a calendar event, without any provider's identity: what a push sends.

    Times are instants; `timezone` is the IANA zone the event was planned in (it decides local wall time for
    the vendor, e.g. across daylight-saving changes). An all-day event covers the local dates from
    `starts_at` up to, not including, the date of `ends_at`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1)
    description: str | None = None
    location: str | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    timezone: str = Field(default="UTC", description="IANA zone, e.g. 'America/New_York'.")
    all_day: bool = False
    attendee_emails: tuple[str, ...] = ()


class CanonicalPayment(CanonicalRecord):
    """Money a client paid, as the app's `payments` table sees it. Amounts are in major units of
    `currency` (converted from the provider's minor units by the currency's exponent)."""

    client_external_id: str | None = Field(description="The paying client's id in the provider, if known.")
    amount: Decimal = Field(gt=0, description="Amount paid, before refunds.")
    amount_refunded: Decimal = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217 code, upper case.")
    received_at: AwareDatetime
    method: str = Field(
        description="One of the app's payment methods: card, bank_transfer, direct_debit, ..."
    )
    reference: str | None = Field(default=None, description="What the firm recognises the payment by.")
    refunded: bool = Field(description="True once the whole amount went back to the client.")
