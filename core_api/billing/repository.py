"""Billing data access (tenant-filtered; RLS is the second lock).

Allocation writes lock rows in one order everywhere — the payment, then the invoice — so two
transactions touching the same pair can wait for each other but never deadlock.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from core_api.crud import TenantRepository
from core_api.models import Firm
from core_api.models.billing import (
    Engagement,
    Invoice,
    InvoiceNumberCounter,
    Payment,
    PaymentAllocation,
)
from core_api.tenancy import TenantContext

INVOICE_NUMBER_PREFIX = "INV-"
INVOICE_NUMBER_DIGITS = 6


def firm_settings(session: Session, tenant: TenantContext) -> tuple[str, str]:
    """(currency, timezone) of the caller's firm: new engagements, invoices and payments take its currency."""
    row = session.execute(select(Firm.currency, Firm.timezone).where(Firm.id == tenant.firm_id)).one()
    return row.currency, row.timezone


class EngagementRepository(TenantRepository[Engagement]):
    model = Engagement
    entity = "engagement"
    sorts = {
        "title": func.lower(Engagement.title).asc(),
        "-title": func.lower(Engagement.title).desc(),
        "start_date": Engagement.start_date.asc().nulls_last(),
        "-start_date": Engagement.start_date.desc().nulls_last(),
        "created_at": Engagement.created_at.asc(),
        "-created_at": Engagement.created_at.desc(),
        "updated_at": Engagement.updated_at.asc(),
        "-updated_at": Engagement.updated_at.desc(),
    }

    def has_live_invoices(self, engagement_id: uuid.UUID) -> bool:
        return bool(
            self.session.scalar(
                select(
                    exists().where(
                        Invoice.firm_id == self.tenant.firm_id,
                        Invoice.engagement_id == engagement_id,
                        Invoice.deleted_at.is_(None),
                    )
                )
            )
        )


class InvoiceRepository(TenantRepository[Invoice]):
    model = Invoice
    entity = "invoice"
    sorts = {
        "number": Invoice.number.asc(),
        "-number": Invoice.number.desc(),
        "issue_date": Invoice.issue_date.asc(),
        "-issue_date": Invoice.issue_date.desc(),
        "due_date": Invoice.due_date.asc(),
        "-due_date": Invoice.due_date.desc(),
        "total": Invoice.total.asc(),
        "-total": Invoice.total.desc(),
        "created_at": Invoice.created_at.asc(),
        "-created_at": Invoice.created_at.desc(),
        "updated_at": Invoice.updated_at.asc(),
        "-updated_at": Invoice.updated_at.desc(),
    }

    def number_taken(self, number: str, *, exclude: uuid.UUID | None = None) -> bool:
        """Numbers are unique per firm across every invoice ever made, deleted drafts included."""
        query = select(Invoice.id).where(Invoice.firm_id == self.tenant.firm_id, Invoice.number == number)
        if exclude is not None:
            query = query.where(Invoice.id != exclude)
        return self.session.scalar(query.limit(1)) is not None

    def next_number(self) -> str:
        """The next free "INV-000123". The counter row stays locked until commit, so concurrent creates
        in one firm take numbers one after another; numbers a user typed in by hand are skipped."""
        table = InvoiceNumberCounter.__table__
        bump = (
            pg_insert(table)
            .values(firm_id=self.tenant.firm_id, last_value=1)
            .on_conflict_do_update(
                index_elements=[table.c.firm_id], set_={"last_value": table.c.last_value + 1}
            )
            .returning(table.c.last_value)
        )
        while True:
            value = self.session.execute(bump).scalar_one()
            number = f"{INVOICE_NUMBER_PREFIX}{value:0{INVOICE_NUMBER_DIGITS}d}"
            if not self.number_taken(number):
                return number

    def allocated(self, invoice_id: uuid.UUID) -> Decimal:
        return self.session.scalar(
            select(func.coalesce(func.sum(PaymentAllocation.amount), 0)).where(
                PaymentAllocation.firm_id == self.tenant.firm_id,
                PaymentAllocation.invoice_id == invoice_id,
                PaymentAllocation.deleted_at.is_(None),
            )
        )

    def has_allocations(self, invoice_id: uuid.UUID) -> bool:
        return bool(
            self.session.scalar(
                select(
                    exists().where(
                        PaymentAllocation.firm_id == self.tenant.firm_id,
                        PaymentAllocation.invoice_id == invoice_id,
                        PaymentAllocation.deleted_at.is_(None),
                    )
                )
            )
        )


class PaymentRepository(TenantRepository[Payment]):
    model = Payment
    entity = "payment"
    sorts = {
        "received_date": Payment.received_date.asc(),
        "-received_date": Payment.received_date.desc(),
        "amount": Payment.amount.asc(),
        "-amount": Payment.amount.desc(),
        "created_at": Payment.created_at.asc(),
        "-created_at": Payment.created_at.desc(),
        "updated_at": Payment.updated_at.asc(),
        "-updated_at": Payment.updated_at.desc(),
    }

    def allocated(self, payment_id: uuid.UUID) -> Decimal:
        return self.session.scalar(
            select(func.coalesce(func.sum(PaymentAllocation.amount), 0)).where(
                PaymentAllocation.firm_id == self.tenant.firm_id,
                PaymentAllocation.payment_id == payment_id,
                PaymentAllocation.deleted_at.is_(None),
            )
        )


class AllocationRepository(TenantRepository[PaymentAllocation]):
    model = PaymentAllocation
    entity = "allocation"
    sorts = {
        "created_at": PaymentAllocation.created_at.asc(),
        "-created_at": PaymentAllocation.created_at.desc(),
        "amount": PaymentAllocation.amount.asc(),
        "-amount": PaymentAllocation.amount.desc(),
    }
