"""Billing use cases: engagements, invoices and their status machine, payments and allocations.

Invoice status machine (stored lifecycle + one derived state):

    draft ──send──► sent ──allocations──► partial ──allocations──► paid
      │               │  ◄──allocation deleted──┘ ◄──────────────────┘
      │               │
      └─────void──────┴──void (only with nothing allocated)──► void (final)

- `overdue` is never stored: a `sent` or `partial` invoice whose due date is before today in the firm's
  timezone is *reported* as overdue (reads, list filter `status=overdue`). Computing it at read time means
  no scheduler, no stale rows, and extending the due date of a sent invoice un-overdues it at once.
- `partial`/`paid`/`sent` after sending follow from the live allocations, recomputed in the transaction that
  changes them, with the payment and then the invoice row locked (`require(..., for_update=True)`), so two
  concurrent allocations cannot together overpay an invoice or over-spend a payment.
- send: draft only, and only with at least one line; a zero total goes straight to `paid` (nothing is owed).
- void: from draft, sent or overdue-with-nothing-paid. Not from partial/paid (payments are allocated) or void.
- Lines, client, engagement, number and issue date change only in draft; after sending only `due_date` and
  `notes`; a void invoice does not change. Only drafts are deleted (soft); sent invoices are voided.
- A forbidden transition is a 409 with a message naming the invoice's current status.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core_api.billing import money
from core_api.billing.repository import (
    AllocationRepository,
    EngagementRepository,
    InvoiceRepository,
    PaymentRepository,
    firm_settings,
)
from core_api.billing.schemas import (
    AllocationCreate,
    AllocationOut,
    EngagementCreate,
    EngagementLineIn,
    EngagementOut,
    EngagementUpdate,
    InvoiceCreate,
    InvoiceLineIn,
    InvoiceOut,
    InvoiceUpdate,
    PaymentCreate,
    PaymentOut,
    PaymentUpdate,
)
from core_api.clients.repository import ClientRepository
from core_api.clients.schemas import ExternalRefOut
from core_api.clients.service import ref_outs
from core_api.crud import check_version, escape_like
from core_api.errors import Conflict, ProblemError
from core_api.models.billing import (
    Engagement,
    EngagementLine,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
)
from core_api.tenancy import TenantContext

DEFAULT_PAYMENT_TERMS = timedelta(days=30)
ENGAGEMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"active", "cancelled"}),
    "active": frozenset({"completed", "cancelled"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
}
FEE_FOR_MODE = {"fixed": "fixed_fee", "hourly": "hourly_rate", "retainer": "retainer_amount"}
MONEY_FEES = ("fixed_fee", "retainer_amount")  # in the currency's minor units; hourly_rate may be finer
EDITABLE_AFTER_SENDING = frozenset({"due_date", "notes"})
PAYABLE = ("sent", "partial", "paid")  # stored states whose status follows from allocations

T = TypeVar("T")


def _invalid(field: str, message: str) -> ProblemError:
    return ProblemError(422, "Validation Error", message, errors=[{"field": field, "message": message}])


def _not_null(changes: dict, *fields: str) -> None:
    for field in fields:
        if field in changes and changes[field] is None:
            raise _invalid(field, "may not be null")


def _fmt(value: Decimal | None, currency: str) -> Decimal | None:
    """Money as the currency writes it: 12.50 USD, 1250 JPY (storage is Numeric(18, 2) for all)."""
    return None if value is None else value.quantize(money.quantum(currency))


def _refs(refs: Iterable | None) -> list[ExternalRefOut]:
    return ref_outs(list(refs or []))


def firm_today(timezone: str) -> date:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.now(zone).date()


def _firm(session: Session, tenant: TenantContext) -> tuple[str, date]:
    """For new records: the firm's billing currency (one we can round) and today in its timezone."""
    currency, timezone = firm_settings(session, tenant)
    try:
        money.exponent(currency)
    except money.UnsupportedCurrency as exc:
        raise _invalid("currency", f"the firm's currency {currency} is not supported for billing") from exc
    return currency, firm_today(timezone)


def _today(session: Session, tenant: TenantContext) -> date:
    """Today in the firm's timezone: the day after the due date, an unpaid invoice is overdue."""
    return firm_today(firm_settings(session, tenant)[1])


def _check_currency(currency: str) -> None:
    try:
        money.exponent(currency)
    except money.UnsupportedCurrency as exc:
        raise _invalid("currency", str(exc)) from exc


def _check_exact(field: str, value: Decimal | None, currency: str) -> None:
    if value is not None and not money.is_exact(value, currency):
        places = money.exponent(currency)
        raise _invalid(field, f"{currency} amounts have {places} decimal place{'s' if places != 1 else ''}")


def _check_client(session: Session, tenant: TenantContext, client_id: uuid.UUID) -> None:
    if ClientRepository(session, tenant).get(client_id) is None:
        raise _invalid("client_id", "not a client of this firm")


def _check_dates(start: date | None, end: date | None, *, end_field: str, start_field: str) -> None:
    if start is not None and end is not None and end < start:
        raise _invalid(end_field, f"must be on or after {start_field} ({start.isoformat()})")


def _flush_unique_number(write: Callable[[], T], number: str) -> T:
    """Run a write; a concurrent insert of the same number (unique index) becomes a 409, not a 500.

    The failed transaction is not reused: the 409 propagates and the request's session rolls back."""
    try:
        return write()
    except IntegrityError as exc:
        if "uq_invoices_firm_number" in str(exc.orig):
            raise Conflict(f"invoice number {number} is already used in this firm", field="number") from exc
        raise


# --- engagements ---


def engagement_out(engagement: Engagement) -> EngagementOut:
    out = EngagementOut.model_validate(engagement)
    currency = engagement.currency
    out.fixed_fee = _fmt(out.fixed_fee, currency)
    out.retainer_amount = _fmt(out.retainer_amount, currency)
    out.lines_total = _fmt(out.lines_total, currency)  # type: ignore[assignment]
    for line in out.lines:
        line.amount = _fmt(line.amount, currency)  # type: ignore[assignment]
    return out


def _engagement_lines(
    lines: list[EngagementLineIn], currency: str, firm_id: uuid.UUID
) -> tuple[list[EngagementLine], Decimal]:
    rows = [
        EngagementLine(
            firm_id=firm_id,
            position=position,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=money.line_amount(line.quantity, line.unit_price, currency),
        )
        for position, line in enumerate(lines, start=1)
    ]
    total = money.total((row.amount for row in rows), currency)
    if total > money.MAX_AMOUNT:
        raise _invalid("lines", "the lines add up to more than this API can store")
    return rows, total


def _check_fees(mode: str, fees: dict, currency: str) -> None:
    required = FEE_FOR_MODE[mode]
    if fees.get(required) is None:
        raise _invalid(required, f"required when pricing_mode is {mode}")
    for other_mode, field in FEE_FOR_MODE.items():
        if field != required and fees.get(field) is not None:
            raise _invalid(field, f"only for pricing_mode {other_mode}; this engagement is {mode}")
    for field in MONEY_FEES:
        _check_exact(field, fees.get(field), currency)


def list_engagements(
    session: Session,
    tenant: TenantContext,
    *,
    limit: int,
    offset: int,
    sort: str,
    q: str | None = None,
    status: str | None = None,
    client_id: uuid.UUID | None = None,
    pricing_mode: str | None = None,
    start_date_from: date | None = None,
    start_date_to: date | None = None,
) -> tuple[list[EngagementOut], int]:
    where: list[ColumnElement[bool]] = []
    if q:
        where.append(Engagement.title.ilike(f"%{escape_like(q)}%", escape="\\"))
    if status:
        where.append(Engagement.status == status)
    if client_id:
        where.append(Engagement.client_id == client_id)
    if pricing_mode:
        where.append(Engagement.pricing_mode == pricing_mode)
    if start_date_from:
        where.append(Engagement.start_date >= start_date_from)
    if start_date_to:
        where.append(Engagement.start_date <= start_date_to)
    rows, total = EngagementRepository(session, tenant).list(
        limit=limit, offset=offset, sort=sort, where=where
    )
    return [engagement_out(e) for e in rows], total


def get_engagement(session: Session, tenant: TenantContext, engagement_id: uuid.UUID) -> EngagementOut:
    return engagement_out(EngagementRepository(session, tenant).require(engagement_id))


def create_engagement(session: Session, tenant: TenantContext, body: EngagementCreate) -> EngagementOut:
    repo = EngagementRepository(session, tenant)
    currency, _ = _firm(session, tenant)
    values = body.model_dump(exclude={"lines"})
    _check_client(session, tenant, body.client_id)
    _check_fees(body.pricing_mode, values, currency)
    _check_dates(body.start_date, body.end_date, end_field="end_date", start_field="start_date")
    lines, lines_total = _engagement_lines(body.lines or [], currency, tenant.firm_id)
    engagement = repo.add(Engagement(**values, currency=currency, lines=lines, lines_total=lines_total))
    out = engagement_out(engagement)
    session.commit()
    return out


def update_engagement(
    session: Session,
    tenant: TenantContext,
    engagement_id: uuid.UUID,
    body: EngagementUpdate,
    if_match: int | None,
) -> EngagementOut:
    repo = EngagementRepository(session, tenant)
    engagement = repo.require(engagement_id, for_update=True)
    expected = body.version if body.version is not None else if_match
    check_version(engagement, expected)
    if engagement.status in ("completed", "cancelled"):
        raise Conflict(f"a {engagement.status} engagement is read-only", field="status")
    changes = body.model_dump(exclude_unset=True, exclude={"version", "lines"})
    _not_null(changes, "title", "status", "pricing_mode")

    new_status = changes.get("status", engagement.status)
    if new_status != engagement.status and new_status not in ENGAGEMENT_TRANSITIONS[engagement.status]:
        allowed = " or ".join(sorted(ENGAGEMENT_TRANSITIONS[engagement.status])) or "nothing"
        raise Conflict(
            f"an engagement cannot go from {engagement.status} to {new_status} (allowed: {allowed})",
            field="status",
        )
    mode = changes.get("pricing_mode", engagement.pricing_mode)
    if mode != engagement.pricing_mode:  # the old mode's fee goes unless the caller sent it (→ 422 below)
        for field in FEE_FOR_MODE.values():
            changes.setdefault(field, None)
    fees = {field: changes.get(field, getattr(engagement, field)) for field in FEE_FOR_MODE.values()}
    _check_fees(mode, fees, engagement.currency)
    _check_dates(
        changes.get("start_date", engagement.start_date),
        changes.get("end_date", engagement.end_date),
        end_field="end_date" if "end_date" in changes else "start_date",
        start_field="start_date",
    )
    if "lines" in body.model_fields_set:
        if body.lines is None:
            raise _invalid("lines", "may not be null; send [] to remove every line")
        engagement.lines, changes["lines_total"] = _engagement_lines(
            body.lines, engagement.currency, tenant.firm_id
        )
        changes["updated_at"] = func.now()  # the row changes too, so its version moves with its lines
    repo.update(engagement, changes, expected_version=expected)
    out = engagement_out(engagement)
    session.commit()
    return out


def delete_engagement(
    session: Session, tenant: TenantContext, engagement_id: uuid.UUID, if_match: int | None
) -> None:
    repo = EngagementRepository(session, tenant)
    engagement = repo.require(engagement_id, for_update=True)
    check_version(engagement, if_match)
    if repo.has_live_invoices(engagement.id):
        raise Conflict("the engagement has invoices; cancel it instead of deleting it")
    repo.soft_delete(engagement, expected_version=if_match)
    session.commit()


# --- invoices ---


def effective_status(status: str, due_date: date, today: date) -> str:
    if status in ("sent", "partial") and due_date < today:
        return "overdue"
    return status


def _status_filter(status: str, today: date) -> ColumnElement[bool]:
    overdue = and_(Invoice.status.in_(("sent", "partial")), Invoice.due_date < today)
    if status == "overdue":
        return overdue
    if status in ("sent", "partial"):
        return and_(Invoice.status == status, Invoice.due_date >= today)
    return Invoice.status == status


def invoice_out(invoice: Invoice, today: date, refs: Iterable | None = None) -> InvoiceOut:
    out = InvoiceOut.model_validate(invoice)
    out.status = effective_status(invoice.status, invoice.due_date, today)  # type: ignore[assignment]
    currency = invoice.currency
    for field in ("subtotal", "tax_total", "total", "amount_paid", "balance_due"):
        setattr(out, field, _fmt(getattr(out, field), currency))
    for line in out.lines:
        line.amount = _fmt(line.amount, currency)  # type: ignore[assignment]
        line.tax_amount = _fmt(line.tax_amount, currency)  # type: ignore[assignment]
    out.external_refs = _refs(refs)
    return out


def _invoice_lines(
    lines: list[InvoiceLineIn], currency: str, firm_id: uuid.UUID
) -> tuple[list[InvoiceLine], money.Totals]:
    rows = []
    for position, line in enumerate(lines, start=1):
        priced = money.price_line(line.quantity, line.unit_price, line.tax_rate, currency)
        rows.append(
            InvoiceLine(
                firm_id=firm_id,
                position=position,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                amount=priced.amount,
                tax_amount=priced.tax_amount,
            )
        )
    totals = money.totals(
        (money.LineMoney(amount=row.amount, tax_amount=row.tax_amount) for row in rows), currency
    )
    if totals.total > money.MAX_AMOUNT:
        raise _invalid("lines", "the invoice total is more than this API can store")
    return rows, totals


def _check_invoice_links(
    session: Session, tenant: TenantContext, client_id: uuid.UUID, engagement_id: uuid.UUID | None
) -> None:
    _check_client(session, tenant, client_id)
    if engagement_id is not None:
        engagement = EngagementRepository(session, tenant).get(engagement_id)
        if engagement is None:
            raise _invalid("engagement_id", "not an engagement of this firm")
        if engagement.client_id != client_id:
            raise _invalid("engagement_id", "belongs to another client")


def list_invoices(
    session: Session,
    tenant: TenantContext,
    *,
    limit: int,
    offset: int,
    sort: str,
    q: str | None = None,
    status: str | None = None,
    client_id: uuid.UUID | None = None,
    engagement_id: uuid.UUID | None = None,
    issue_date_from: date | None = None,
    issue_date_to: date | None = None,
    due_date_from: date | None = None,
    due_date_to: date | None = None,
) -> tuple[list[InvoiceOut], int]:
    repo = InvoiceRepository(session, tenant)
    today = _today(session, tenant)
    where: list[ColumnElement[bool]] = []
    if q:
        where.append(Invoice.number.ilike(f"%{escape_like(q)}%", escape="\\"))
    if status:
        where.append(_status_filter(status, today))
    if client_id:
        where.append(Invoice.client_id == client_id)
    if engagement_id:
        where.append(Invoice.engagement_id == engagement_id)
    if issue_date_from:
        where.append(Invoice.issue_date >= issue_date_from)
    if issue_date_to:
        where.append(Invoice.issue_date <= issue_date_to)
    if due_date_from:
        where.append(Invoice.due_date >= due_date_from)
    if due_date_to:
        where.append(Invoice.due_date <= due_date_to)
    rows, total = repo.list(limit=limit, offset=offset, sort=sort, where=where)
    refs = repo.external_refs([i.id for i in rows])
    return [invoice_out(i, today, refs.get(i.id)) for i in rows], total


def get_invoice(session: Session, tenant: TenantContext, invoice_id: uuid.UUID) -> InvoiceOut:
    repo = InvoiceRepository(session, tenant)
    invoice = repo.require(invoice_id)
    today = _today(session, tenant)
    return invoice_out(invoice, today, repo.external_refs([invoice.id]).get(invoice.id))


def create_invoice(session: Session, tenant: TenantContext, body: InvoiceCreate) -> InvoiceOut:
    repo = InvoiceRepository(session, tenant)
    currency, today = _firm(session, tenant)
    _check_invoice_links(session, tenant, body.client_id, body.engagement_id)
    issue_date = body.issue_date or today
    due_date = body.due_date or issue_date + DEFAULT_PAYMENT_TERMS
    _check_dates(issue_date, due_date, end_field="due_date", start_field="issue_date")
    lines, totals = _invoice_lines(body.lines, currency, tenant.firm_id)
    if body.number is not None:
        number = body.number
        if repo.number_taken(number):
            raise Conflict(f"invoice number {number} is already used in this firm", field="number")
    else:
        number = repo.next_number()
    invoice = Invoice(
        number=number,
        client_id=body.client_id,
        engagement_id=body.engagement_id,
        status="draft",
        currency=currency,
        issue_date=issue_date,
        due_date=due_date,
        notes=body.notes,
        subtotal=totals.subtotal,
        tax_total=totals.tax_total,
        total=totals.total,
        amount_paid=money.ZERO,
        lines=lines,
    )
    _flush_unique_number(lambda: repo.add(invoice), number)
    out = invoice_out(invoice, today)
    session.commit()
    return out


def update_invoice(
    session: Session, tenant: TenantContext, invoice_id: uuid.UUID, body: InvoiceUpdate, if_match: int | None
) -> InvoiceOut:
    repo = InvoiceRepository(session, tenant)
    invoice = repo.require(invoice_id, for_update=True)
    today = _today(session, tenant)
    expected = body.version if body.version is not None else if_match
    check_version(invoice, expected)
    changes = body.model_dump(exclude_unset=True, exclude={"version", "lines"})
    replace_lines = "lines" in body.model_fields_set
    shown = effective_status(invoice.status, invoice.due_date, today)
    if invoice.status == "void":
        raise Conflict(f"invoice {invoice.number} is void and cannot be changed", field="status")
    if invoice.status != "draft":
        locked = sorted(set(changes) - EDITABLE_AFTER_SENDING) + (["lines"] if replace_lines else [])
        if locked:
            raise Conflict(
                f"invoice {invoice.number} is {shown}: only due_date and notes can change after it is sent",
                field=locked[0],
            )
    _not_null(changes, "client_id", "number", "issue_date", "due_date")
    client_id = changes.get("client_id", invoice.client_id)
    engagement_id = changes.get("engagement_id", invoice.engagement_id)
    if {"client_id", "engagement_id"} & set(changes):
        _check_invoice_links(session, tenant, client_id, engagement_id)
    _check_dates(
        changes.get("issue_date", invoice.issue_date),
        changes.get("due_date", invoice.due_date),
        end_field="due_date" if "due_date" in changes else "issue_date",
        start_field="issue_date",
    )
    number = changes.get("number", invoice.number)
    if number != invoice.number and repo.number_taken(number, exclude=invoice.id):
        raise Conflict(f"invoice number {number} is already used in this firm", field="number")
    if replace_lines:
        if body.lines is None:
            raise _invalid("lines", "may not be null; send [] to remove every line")
        invoice.lines, totals = _invoice_lines(body.lines, invoice.currency, tenant.firm_id)
        changes.update(subtotal=totals.subtotal, tax_total=totals.tax_total, total=totals.total)
        changes["updated_at"] = func.now()  # the row changes too, so its version moves with its lines
    _flush_unique_number(lambda: repo.update(invoice, changes, expected_version=expected), str(number))
    out = invoice_out(invoice, today, repo.external_refs([invoice.id]).get(invoice.id))
    session.commit()
    return out


def delete_invoice(
    session: Session, tenant: TenantContext, invoice_id: uuid.UUID, if_match: int | None
) -> None:
    repo = InvoiceRepository(session, tenant)
    invoice = repo.require(invoice_id, for_update=True)
    check_version(invoice, if_match)
    if invoice.status != "draft":
        today = _today(session, tenant)
        shown = effective_status(invoice.status, invoice.due_date, today)
        raise Conflict(
            f"invoice {invoice.number} is {shown}: only a draft can be deleted (void it instead)",
            field="status",
        )
    repo.soft_delete(invoice, expected_version=if_match)
    session.commit()


def send_invoice(
    session: Session, tenant: TenantContext, invoice_id: uuid.UUID, if_match: int | None
) -> InvoiceOut:
    """draft → sent (or straight to paid when the total is zero: nothing is owed)."""
    repo = InvoiceRepository(session, tenant)
    invoice = repo.require(invoice_id, for_update=True)
    today = _today(session, tenant)
    check_version(invoice, if_match)
    if invoice.status != "draft":
        shown = effective_status(invoice.status, invoice.due_date, today)
        raise Conflict(
            f"invoice {invoice.number} is {shown}: only a draft invoice can be sent", field="status"
        )
    if not invoice.lines:
        raise Conflict(
            f"invoice {invoice.number} has no lines: add at least one before sending", field="lines"
        )
    status = "paid" if invoice.total == 0 else "sent"
    repo.update(invoice, {"status": status, "sent_at": datetime.now(UTC)}, expected_version=if_match)
    out = invoice_out(invoice, today, repo.external_refs([invoice.id]).get(invoice.id))
    session.commit()
    return out


def void_invoice(
    session: Session, tenant: TenantContext, invoice_id: uuid.UUID, if_match: int | None
) -> InvoiceOut:
    """draft | sent | overdue (nothing paid) → void. Never with a payment allocated."""
    repo = InvoiceRepository(session, tenant)
    invoice = repo.require(invoice_id, for_update=True)
    today = _today(session, tenant)
    check_version(invoice, if_match)
    shown = effective_status(invoice.status, invoice.due_date, today)
    if invoice.status == "void":
        raise Conflict(f"invoice {invoice.number} is already void", field="status")
    if repo.has_allocations(invoice.id):
        raise Conflict(
            f"invoice {invoice.number} is {shown} with payments allocated: "
            "delete its allocations before voiding it",
            field="status",
        )
    if invoice.status not in ("draft", "sent"):
        raise Conflict(
            f"invoice {invoice.number} is {shown}: only a draft, sent or overdue invoice can be voided",
            field="status",
        )
    repo.update(invoice, {"status": "void", "voided_at": datetime.now(UTC)}, expected_version=if_match)
    out = invoice_out(invoice, today, repo.external_refs([invoice.id]).get(invoice.id))
    session.commit()
    return out


# --- payments ---


def payment_out(payment: Payment, refs: Iterable | None = None) -> PaymentOut:
    out = PaymentOut.model_validate(payment)
    for field in ("amount", "amount_allocated", "unallocated"):
        setattr(out, field, _fmt(getattr(out, field), payment.currency))
    out.external_refs = _refs(refs)
    return out


def list_payments(
    session: Session,
    tenant: TenantContext,
    *,
    limit: int,
    offset: int,
    sort: str,
    q: str | None = None,
    client_id: uuid.UUID | None = None,
    method: str | None = None,
    unallocated: bool | None = None,
    received_date_from: date | None = None,
    received_date_to: date | None = None,
) -> tuple[list[PaymentOut], int]:
    repo = PaymentRepository(session, tenant)
    where: list[ColumnElement[bool]] = []
    if q:
        where.append(Payment.reference.ilike(f"%{escape_like(q)}%", escape="\\"))
    if client_id:
        where.append(Payment.client_id == client_id)
    if method:
        where.append(Payment.method == method)
    if unallocated is True:
        where.append(Payment.amount_allocated < Payment.amount)
    elif unallocated is False:
        where.append(Payment.amount_allocated >= Payment.amount)
    if received_date_from:
        where.append(Payment.received_date >= received_date_from)
    if received_date_to:
        where.append(Payment.received_date <= received_date_to)
    rows, total = repo.list(limit=limit, offset=offset, sort=sort, where=where)
    refs = repo.external_refs([p.id for p in rows])
    return [payment_out(p, refs.get(p.id)) for p in rows], total


def get_payment(session: Session, tenant: TenantContext, payment_id: uuid.UUID) -> PaymentOut:
    repo = PaymentRepository(session, tenant)
    payment = repo.require(payment_id)
    return payment_out(payment, repo.external_refs([payment.id]).get(payment.id))


def create_payment(session: Session, tenant: TenantContext, body: PaymentCreate) -> PaymentOut:
    repo = PaymentRepository(session, tenant)
    firm_currency, today = _firm(session, tenant)
    currency = body.currency or firm_currency
    _check_currency(currency)
    _check_exact("amount", body.amount, currency)
    _check_client(session, tenant, body.client_id)
    values = body.model_dump()
    values.update(currency=currency, received_date=body.received_date or today, amount_allocated=money.ZERO)
    out = payment_out(repo.add(Payment(**values)))
    session.commit()
    return out


def update_payment(
    session: Session, tenant: TenantContext, payment_id: uuid.UUID, body: PaymentUpdate, if_match: int | None
) -> PaymentOut:
    repo = PaymentRepository(session, tenant)
    payment = repo.require(payment_id, for_update=True)
    expected = body.version if body.version is not None else if_match
    check_version(payment, expected)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    _not_null(changes, "client_id", "amount", "currency", "received_date", "method")
    allocated = repo.allocated(payment.id)
    for field in ("client_id", "currency"):
        if field in changes and changes[field] != getattr(payment, field) and allocated > 0:
            raise Conflict(f"{field} cannot change while the payment is allocated to invoices", field=field)
    currency = changes.get("currency", payment.currency)
    _check_currency(currency)
    amount = changes.get("amount", payment.amount)
    _check_exact("amount", amount, currency)
    if amount < allocated:
        raise _invalid(
            "amount", f"cannot be less than the amount already allocated ({_fmt(allocated, currency)})"
        )
    if "client_id" in changes:
        _check_client(session, tenant, changes["client_id"])
    repo.update(payment, changes, expected_version=expected)
    out = payment_out(payment, repo.external_refs([payment.id]).get(payment.id))
    session.commit()
    return out


def delete_payment(
    session: Session, tenant: TenantContext, payment_id: uuid.UUID, if_match: int | None
) -> None:
    repo = PaymentRepository(session, tenant)
    payment = repo.require(payment_id, for_update=True)
    check_version(payment, if_match)
    if repo.allocated(payment.id) > 0:
        raise Conflict("the payment is allocated to invoices: delete its allocations first")
    repo.soft_delete(payment, expected_version=if_match)
    session.commit()


# --- allocations ---


def allocation_out(allocation: PaymentAllocation, currency: str) -> AllocationOut:
    return AllocationOut(
        id=allocation.id,
        payment_id=allocation.payment_id,
        invoice_id=allocation.invoice_id,
        amount=_fmt(allocation.amount, currency),  # type: ignore[arg-type]
        currency=currency,
        version=allocation.version,
        created_at=allocation.created_at,
    )


def _settle(
    session: Session,
    tenant: TenantContext,
    payment: Payment,
    invoice: Invoice,
    *,
    allocated: Decimal | None = None,
    paid: Decimal | None = None,
) -> None:
    """Set both sides from their live allocations (summed by the caller under the row locks, or here)."""
    session.flush()
    if allocated is None:
        allocated = PaymentRepository(session, tenant).allocated(payment.id)
    if paid is None:
        paid = InvoiceRepository(session, tenant).allocated(invoice.id)
    payment.amount_allocated = allocated
    invoice.amount_paid = paid
    if invoice.status in PAYABLE:
        invoice.status = "sent" if paid == 0 else ("paid" if paid >= invoice.total else "partial")
    session.flush()


def list_payment_allocations(
    session: Session,
    tenant: TenantContext,
    payment_id: uuid.UUID,
    *,
    limit: int,
    offset: int,
    sort: str,
    invoice_id: uuid.UUID | None = None,
) -> tuple[list[AllocationOut], int]:
    payment = PaymentRepository(session, tenant).require(payment_id)
    where = [PaymentAllocation.payment_id == payment.id]
    if invoice_id:
        where.append(PaymentAllocation.invoice_id == invoice_id)
    rows, total = AllocationRepository(session, tenant).list(
        limit=limit, offset=offset, sort=sort, where=where
    )
    return [allocation_out(a, payment.currency) for a in rows], total


def list_invoice_allocations(
    session: Session, tenant: TenantContext, invoice_id: uuid.UUID, *, limit: int, offset: int, sort: str
) -> tuple[list[AllocationOut], int]:
    invoice = InvoiceRepository(session, tenant).require(invoice_id)
    where = [PaymentAllocation.invoice_id == invoice.id]
    rows, total = AllocationRepository(session, tenant).list(
        limit=limit, offset=offset, sort=sort, where=where
    )
    return [allocation_out(a, invoice.currency) for a in rows], total


def _allocation(
    session: Session, tenant: TenantContext, payment: Payment, allocation_id: uuid.UUID, **kw
) -> PaymentAllocation:
    allocation = AllocationRepository(session, tenant).require(allocation_id, **kw)
    if allocation.payment_id != payment.id:
        raise ProblemError(404, "Not Found", "allocation not found")
    return allocation


def get_allocation(
    session: Session, tenant: TenantContext, payment_id: uuid.UUID, allocation_id: uuid.UUID
) -> AllocationOut:
    payment = PaymentRepository(session, tenant).require(payment_id)
    return allocation_out(_allocation(session, tenant, payment, allocation_id), payment.currency)


def create_allocation(
    session: Session, tenant: TenantContext, payment_id: uuid.UUID, body: AllocationCreate
) -> AllocationOut:
    """Apply part of a payment to an invoice. Locks the payment, then the invoice (always this order)."""
    payments = PaymentRepository(session, tenant)
    invoices = InvoiceRepository(session, tenant)
    payment = payments.require(payment_id, for_update=True)
    invoice = invoices.get(body.invoice_id, for_update=True)
    if invoice is None:
        raise _invalid("invoice_id", "not an invoice of this firm")
    if invoice.client_id != payment.client_id:
        raise _invalid("invoice_id", "the invoice belongs to another client than the payment")
    if invoice.currency != payment.currency:
        raise _invalid(
            "invoice_id", f"the invoice is in {invoice.currency}, the payment in {payment.currency}"
        )
    if invoice.status in ("draft", "void"):
        raise Conflict(
            f"invoice {invoice.number} is {invoice.status}: payments apply only to sent invoices",
            field="invoice_id",
        )
    _check_exact("amount", body.amount, payment.currency)
    allocated, paid = payments.allocated(payment.id), invoices.allocated(invoice.id)
    unallocated = payment.amount - allocated
    if body.amount > unallocated:
        raise _invalid(
            "amount",
            f"exceeds the payment's unallocated amount "
            f"({_fmt(unallocated, payment.currency)} {payment.currency})",
        )
    balance = invoice.total - paid
    if body.amount > balance:
        raise _invalid(
            "amount",
            f"exceeds the balance due of invoice {invoice.number} ({_fmt(balance, invoice.currency)} "
            f"{invoice.currency})",
        )
    allocation = AllocationRepository(session, tenant).add(
        PaymentAllocation(payment_id=payment.id, invoice_id=invoice.id, amount=body.amount)
    )
    # The sums were read under both row locks, so no other allocation can have joined them since.
    _settle(session, tenant, payment, invoice, allocated=allocated + body.amount, paid=paid + body.amount)
    out = allocation_out(allocation, payment.currency)
    session.commit()
    return out


def delete_allocation(
    session: Session,
    tenant: TenantContext,
    payment_id: uuid.UUID,
    allocation_id: uuid.UUID,
    if_match: int | None,
) -> None:
    """Un-apply: the invoice goes back to partial/sent (or stays paid if other payments cover it)."""
    payment = PaymentRepository(session, tenant).require(payment_id, for_update=True)
    allocation = _allocation(session, tenant, payment, allocation_id, for_update=True)
    invoice = InvoiceRepository(session, tenant).require(allocation.invoice_id, for_update=True)
    AllocationRepository(session, tenant).soft_delete(allocation, expected_version=if_match)
    _settle(session, tenant, payment, invoice)
    session.commit()
