"""Billing request/response models. Money is `Decimal` (a JSON string or number in, a string out)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from core_api.clients.schemas import ExternalRefOut

EngagementStatus = Literal["draft", "active", "completed", "cancelled"]
PricingMode = Literal["fixed", "hourly", "retainer"]
# "overdue" is derived: a sent or partially paid invoice whose due date (in the firm's timezone) has passed.
InvoiceStatus = Literal["draft", "sent", "partial", "paid", "overdue", "void"]
PaymentMethod = Literal["bank_transfer", "card", "cash", "check", "direct_debit", "other"]

# PostgreSQL text cannot hold NUL; refuse it as bad input (422) rather than failing in the driver.
NO_NUL = r"^[^\x00]*$"
Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
PositiveMoney = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=2)]
Rate = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=4)]
UnitPrice = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]
TaxRate = Annotated[
    Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4, description="Percent: 20 means 20 %.")
]
BillingDate = Annotated[date, Field(ge=date(1900, 1, 1), le=date(2999, 12, 31))]
Line = Annotated[str, Field(min_length=1, max_length=500, pattern=NO_NUL)]
Notes = Annotated[str, Field(max_length=10_000, pattern=NO_NUL)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. USD.")]
MAX_LINES = 200


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- engagements ---


class EngagementLineIn(_In):
    description: Line
    quantity: Quantity = Decimal(1)
    unit_price: UnitPrice


class EngagementLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal = Field(
        description="quantity * unit_price, rounded half-up to the currency's minor unit."
    )


class EngagementFields(_In):
    description: Notes | None = None
    fixed_fee: Money | None = Field(default=None, description="Required (only) for pricing_mode fixed.")
    hourly_rate: Rate | None = Field(default=None, description="Required (only) for pricing_mode hourly.")
    retainer_amount: Money | None = Field(
        default=None, description="Required (only) for pricing_mode retainer; per billing period."
    )
    start_date: BillingDate | None = None
    end_date: BillingDate | None = Field(default=None, description="On or after start_date.")
    lines: list[EngagementLineIn] | None = Field(
        default=None, max_length=MAX_LINES, description="Replaces every line of the engagement."
    )


class EngagementCreate(EngagementFields):
    client_id: uuid.UUID = Field(description="A client of the caller's firm.")
    title: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    status: Literal["draft", "active"] = "draft"
    pricing_mode: PricingMode


class EngagementUpdate(EngagementFields):
    title: str | None = Field(default=None, min_length=1, max_length=200, pattern=NO_NUL)
    status: EngagementStatus | None = Field(
        default=None, description="draft → active | cancelled; active → completed | cancelled."
    )
    pricing_mode: PricingMode | None = Field(
        default=None, description="Switching mode clears the fees of the old mode unless you send them."
    )
    version: int | None = Field(
        default=None, ge=1, description="Optimistic concurrency: the version you read."
    )


class EngagementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    client_id: uuid.UUID
    title: str
    description: str | None
    status: EngagementStatus
    pricing_mode: PricingMode
    currency: str
    fixed_fee: Decimal | None
    hourly_rate: Decimal | None
    retainer_amount: Decimal | None
    start_date: date | None
    end_date: date | None
    lines_total: Decimal
    lines: list[EngagementLineOut]
    version: int
    created_at: datetime
    updated_at: datetime


# --- invoices ---


class InvoiceLineIn(_In):
    description: Line
    quantity: Quantity = Decimal(1)
    unit_price: UnitPrice
    tax_rate: TaxRate | None = None


class InvoiceLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal | None
    amount: Decimal = Field(
        description="quantity * unit_price, rounded half-up to the currency's minor unit."
    )
    tax_amount: Decimal = Field(description="amount * tax_rate / 100, rounded half-up.")


InvoiceNumber = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        pattern=r"^[^\x00-\x1f]+$",
        description='Unique in the firm; leave out to get the next one, e.g. "INV-000123".',
    ),
]


class InvoiceCreate(_In):
    client_id: uuid.UUID = Field(description="A client of the caller's firm.")
    number: InvoiceNumber | None = None
    engagement_id: uuid.UUID | None = Field(default=None, description="An engagement of the same client.")
    issue_date: BillingDate | None = Field(default=None, description="Default: today in the firm's timezone.")
    due_date: BillingDate | None = Field(default=None, description="Default: issue_date + 30 days.")
    notes: Notes | None = None
    lines: list[InvoiceLineIn] = Field(default_factory=list, max_length=MAX_LINES)


class InvoiceUpdate(_In):
    """In draft everything may change; once sent only `due_date` and `notes`; a void invoice is final."""

    client_id: uuid.UUID | None = None
    number: InvoiceNumber | None = None
    engagement_id: uuid.UUID | None = None
    issue_date: BillingDate | None = None
    due_date: BillingDate | None = None
    notes: Notes | None = None
    lines: list[InvoiceLineIn] | None = Field(
        default=None, max_length=MAX_LINES, description="Replaces every line (draft only)."
    )
    version: int | None = Field(
        default=None, ge=1, description="Optimistic concurrency: the version you read."
    )


class InvoiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    number: str
    client_id: uuid.UUID
    engagement_id: uuid.UUID | None
    status: InvoiceStatus
    currency: str
    issue_date: date
    due_date: date
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    amount_paid: Decimal
    balance_due: Decimal
    notes: str | None
    sent_at: datetime | None
    voided_at: datetime | None
    lines: list[InvoiceLineOut]
    version: int
    created_at: datetime
    updated_at: datetime
    external_refs: list[ExternalRefOut] = []


# --- payments and allocations ---


class PaymentFields(_In):
    received_date: BillingDate | None = None
    method: PaymentMethod | None = None
    reference: str | None = Field(default=None, max_length=100, pattern=NO_NUL)
    notes: Notes | None = None


class PaymentCreate(PaymentFields):
    client_id: uuid.UUID = Field(description="A client of the caller's firm.")
    amount: PositiveMoney
    currency: Currency | None = Field(default=None, description="Default: the firm's currency.")
    received_date: BillingDate | None = Field(
        default=None, description="Default: today in the firm's timezone."
    )
    method: PaymentMethod = "other"


class PaymentUpdate(PaymentFields):
    """`client_id` and `currency` change only while nothing is allocated; `amount` never below it."""

    client_id: uuid.UUID | None = None
    amount: PositiveMoney | None = None
    currency: Currency | None = None
    version: int | None = Field(
        default=None, ge=1, description="Optimistic concurrency: the version you read."
    )


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    client_id: uuid.UUID
    amount: Decimal
    currency: str
    received_date: date
    method: PaymentMethod
    reference: str | None
    notes: str | None
    amount_allocated: Decimal
    unallocated: Decimal
    version: int
    created_at: datetime
    updated_at: datetime
    external_refs: list[ExternalRefOut] = []


class AllocationCreate(_In):
    invoice_id: uuid.UUID = Field(description="A sent invoice of the payment's client, in its currency.")
    amount: PositiveMoney = Field(
        description="At most the payment's unallocated amount and the invoice's balance."
    )


class AllocationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    payment_id: uuid.UUID
    invoice_id: uuid.UUID
    amount: Decimal
    currency: str
    version: int
    created_at: datetime
