"""Models of the billing domain (issue 3): engagements, invoices, payments and their allocations.

Money columns are Numeric(18, 2) and quantities/rates Numeric(18, 4), `Decimal` in Python; amounts are
computed by `core_api.billing.money` on the server, never accepted from the caller. Lines are children
of their engagement/invoice (replaced as a set, firm-scoped for RLS, audited). Tables listed in
FIRM_SCOPED get forced RLS in migration 0003.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core_api.models.base import APP_SCHEMA, Base, created_at, firm_fk, uuid_pk
from core_api.models.mixins import FirmOwned

ENGAGEMENT_STATUSES = ("draft", "active", "completed", "cancelled")
PRICING_MODES = ("fixed", "hourly", "retainer")
# Stored lifecycle of an invoice. "overdue" is not stored: it is sent/partial past the due date, derived
# at read time (core_api.billing.service.effective_status) so it is never stale and needs no scheduler.
INVOICE_STATUSES = ("draft", "sent", "partial", "paid", "void")
PAYMENT_METHODS = ("bank_transfer", "card", "cash", "check", "direct_debit", "other")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


def _money(**kw) -> Mapped[Decimal]:
    return mapped_column(Numeric(18, 2), nullable=False, server_default=text("0"), **kw)


class EngagementLine(Base):
    __tablename__ = "engagement_lines"
    __table_args__ = (
        Index("ix_engagement_lines_engagement", "engagement_id", "position"),
        {"schema": APP_SCHEMA},
    )
    __audit__ = "engagement_line"

    id: Mapped[uuid.UUID] = uuid_pk()
    firm_id: Mapped[uuid.UUID] = firm_fk()
    engagement_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.engagements.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    description: Mapped[str] = mapped_column(String(500), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 4), nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 4), nullable=False)
    amount: Mapped[Decimal] = _money()  # quantity * unit_price in the engagement's currency's minor units
    created_at: Mapped[datetime] = created_at()


class Engagement(FirmOwned, Base):
    __tablename__ = "engagements"
    __table_args__ = (
        CheckConstraint(_in("status", ENGAGEMENT_STATUSES), name="status_values"),
        CheckConstraint(_in("pricing_mode", PRICING_MODES), name="pricing_mode_values"),
        CheckConstraint(
            "end_date is null or start_date is null or end_date >= start_date", name="end_after_start"
        ),
        CheckConstraint(
            "(pricing_mode = 'fixed' and fixed_fee is not null and hourly_rate is null"
            " and retainer_amount is null)"
            " or (pricing_mode = 'hourly' and hourly_rate is not null and fixed_fee is null"
            " and retainer_amount is null)"
            " or (pricing_mode = 'retainer' and retainer_amount is not null and fixed_fee is null"
            " and hourly_rate is null)",
            name="fee_matches_pricing_mode",
        ),
        Index("ix_engagements_client", "firm_id", "client_id"),
        Index("ix_engagements_status", "firm_id", "status"),
        {"schema": APP_SCHEMA},
    )
    __audit__ = "engagement"

    client_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.clients.id"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    # draft | active | completed | cancelled
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("'draft'"))
    # fixed | hourly | retainer; exactly the matching fee is set
    pricing_mode: Mapped[str] = mapped_column(String(20), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)  # the firm's currency at creation
    fixed_fee: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    hourly_rate: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    retainer_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))  # per billing period
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    lines_total: Mapped[Decimal] = _money()

    lines: Mapped[list[EngagementLine]] = relationship(
        order_by=EngagementLine.position, cascade="all, delete-orphan", lazy="selectin"
    )


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        CheckConstraint("tax_rate is null or (tax_rate >= 0 and tax_rate <= 100)", name="tax_rate_range"),
        Index("ix_invoice_lines_invoice", "invoice_id", "position"),
        {"schema": APP_SCHEMA},
    )
    __audit__ = "invoice_line"

    id: Mapped[uuid.UUID] = uuid_pk()
    firm_id: Mapped[uuid.UUID] = firm_fk()
    invoice_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.invoices.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    description: Mapped[str] = mapped_column(String(500), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 4), nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 4), nullable=False)
    tax_rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))  # percent: 20 means 20 %
    amount: Mapped[Decimal] = _money()  # round_half_up(quantity * unit_price)
    tax_amount: Mapped[Decimal] = _money()  # round_half_up(amount * tax_rate / 100)
    created_at: Mapped[datetime] = created_at()


class Invoice(FirmOwned, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        # Numbers are never reused, not even after a draft is deleted.
        UniqueConstraint("firm_id", "number", name="uq_invoices_firm_number"),
        CheckConstraint(_in("status", INVOICE_STATUSES), name="status_values"),
        CheckConstraint("due_date >= issue_date", name="due_after_issue"),
        CheckConstraint("amount_paid >= 0 and amount_paid <= total", name="paid_within_total"),
        Index("ix_invoices_client", "firm_id", "client_id"),
        Index("ix_invoices_status_due", "firm_id", "status", "due_date"),
        {"schema": APP_SCHEMA},
    )
    __audit__ = "invoice"
    __outbox__ = "invoice"

    number: Mapped[str] = mapped_column(String(40), nullable=False)
    client_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.clients.id"), nullable=False
    )
    engagement_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.engagements.id")
    )
    # draft | sent | partial | paid | void (overdue is derived at read time)
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("'draft'"))
    currency: Mapped[str] = mapped_column(String(3), nullable=False)  # the firm's currency at creation
    issue_date: Mapped[date] = mapped_column(Date, nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    subtotal: Mapped[Decimal] = _money()
    tax_total: Mapped[Decimal] = _money()
    total: Mapped[Decimal] = _money()
    amount_paid: Mapped[Decimal] = _money()  # sum of live allocations, recomputed under the row lock
    notes: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    lines: Mapped[list[InvoiceLine]] = relationship(
        order_by=InvoiceLine.position, cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def balance_due(self) -> Decimal:
        return self.total - self.amount_paid


class InvoiceNumberCounter(Base):
    """The last number the server assigned per firm; `INSERT … ON CONFLICT DO UPDATE` locks the row."""

    __tablename__ = "invoice_number_counters"
    __table_args__ = {"schema": APP_SCHEMA}

    firm_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.firms.id", ondelete="CASCADE"), primary_key=True
    )
    last_value: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Payment(FirmOwned, Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "amount_allocated >= 0 and amount_allocated <= amount", name="allocated_within_amount"
        ),
        CheckConstraint(_in("method", PAYMENT_METHODS), name="method_values"),
        Index("ix_payments_client", "firm_id", "client_id"),
        Index("ix_payments_received", "firm_id", "received_date"),
        {"schema": APP_SCHEMA},
    )
    __audit__ = "payment"
    __outbox__ = "payment"

    client_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.clients.id"), nullable=False
    )
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    received_date: Mapped[date] = mapped_column(Date, nullable=False)
    method: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("'other'"))
    reference: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    amount_allocated: Mapped[Decimal] = _money()  # sum of live allocations, recomputed under the row lock

    @property
    def unallocated(self) -> Decimal:
        return self.amount - self.amount_allocated


class PaymentAllocation(FirmOwned, Base):
    """Part of a payment applied to one invoice. Deleting (soft) an allocation un-applies it."""

    __tablename__ = "payment_allocations"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payment_allocations_payment", "firm_id", "payment_id"),
        Index("ix_payment_allocations_invoice", "firm_id", "invoice_id"),
        {"schema": APP_SCHEMA},
    )
    __audit__ = "payment_allocation"

    payment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.payments.id"), nullable=False
    )
    invoice_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.invoices.id"), nullable=False
    )
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), nullable=False)


FIRM_SCOPED: list[str] = [
    "app.engagements",
    "app.engagement_lines",
    "app.invoices",
    "app.invoice_lines",
    "app.invoice_number_counters",
    "app.payments",
    "app.payment_allocations",
]
