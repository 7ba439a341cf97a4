"""Vendor invoices and payments → app billing tables: one set of rules for every accounting vendor.

Each vendor module (`pipelines/assets/<vendor>_billing.py`) reads its warehouse rows into the shapes below
(`VendorInvoice`, `PaymentSource`, and the allocations it applied); this module writes them, in the caller's
tenant transaction, into app.invoices / app.invoice_lines / app.payments / app.payment_allocations, each app
row linked through app.external_refs (per connection, so one vendor's records never land on another's refs).

Rules (docs/data-ownership.md, "Accounting merges"):
- Only records of vendor customers already linked to a client (entity 'client') are merged.
- Amounts are the vendor's own, in Decimal, rounded to the cent; nothing is recomputed.
- `amount_paid` is the sum of the invoice's live allocations and `status` follows from it exactly as
  `core_api.billing.service` settles it (sent / partial / paid); draft and void stay as the vendor says.
- Invoice numbers are unique per firm: a vendor number already used by another local invoice gets the
  vendor's suffix (then `…-<connection>` if even that is taken); a number once given is kept.
- Writes are SQL, not the ORM, so pulled changes put nothing in the outbox (ADR 0009) and no audit rows
  (ADR 0005: set-based merges are recorded by Dagster's run history). Every updated row's `version` moves.
- Nothing is written when nothing differs; an invoice with a pending outbox change keeps its local header
  and lines until that change is pushed (ADR 0009's conflict rule decides there).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update

from core_api.models import ExternalRef, Firm
from core_api.models.billing import Invoice, InvoiceLine, Payment, PaymentAllocation

CENT = Decimal("0.01")
QUANTITY = Decimal("0.0001")
NUMBER_LENGTH = 40
DESCRIPTION_LENGTH = 500
INVOICES = Invoice.__table__
LINES = InvoiceLine.__table__
PAYMENTS = Payment.__table__
ALLOCATIONS = PaymentAllocation.__table__
REFS = ExternalRef.__table__

NUMBERS_LOCK = text(
    "select pg_advisory_xact_lock(hashtextextended('firmsync:invoice-numbers:' || :firm_id, 0))"
)

# A vendor invoice for the app: a draft, an issued one (its status follows its allocations), or void.
DRAFT, OPEN, VOID = "draft", "open", "void"


def money(value: Decimal | None) -> Decimal:
    return (value or Decimal(0)).quantize(CENT, ROUND_HALF_UP)


def quantity(value: Decimal | None) -> Decimal:
    return (value if value is not None else Decimal(1)).quantize(QUANTITY, ROUND_HALF_UP)


def rows(session, sql: str, **params) -> list[Any]:
    return list(session.execute(text(sql), params))


def links(session, connection_id, entities: tuple[str, ...]) -> dict[tuple[str, str], uuid.UUID]:
    """(entity, vendor id) → app id, for this connection's external_refs of those entities."""
    return {
        (r.entity, r.external_id): r.entity_id
        for r in rows(
            session,
            "select entity, external_id, entity_id from app.external_refs "
            "where connection_id = :c and entity = any(:e)",
            c=connection_id,
            e=list(entities),
        )
    }


def linked(session, connection_id, entity: str) -> dict[str, uuid.UUID]:
    return {ext: app_id for (_, ext), app_id in links(session, connection_id, (entity,)).items()}


class Batch:
    """New rows gathered during a merge, inserted per table (one executemany each), in the order given."""

    def __init__(self, provider: str, *tables) -> None:
        self.provider = provider
        self.rows: dict[Any, list[dict[str, Any]]] = {table: [] for table in tables}

    def add(self, table, **row) -> None:
        self.rows[table].append(row)

    def link(self, firm_id, connection_id, entity: str, entity_id: uuid.UUID, external_id: str) -> None:
        self.add(
            REFS,
            id=uuid.uuid4(),
            firm_id=firm_id,
            entity=entity,
            entity_id=entity_id,
            provider=self.provider,
            connection_id=connection_id,
            external_id=external_id,
        )

    def flush(self, session) -> None:
        for table, batch in self.rows.items():
            if batch:
                session.execute(insert(table), batch)
                batch.clear()


def firm_currency(session, firm_id) -> str:
    return session.execute(select(Firm.currency).where(Firm.id == firm_id)).scalar_one()


def _changed(current: Any, desired: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in desired.items() if getattr(current, k) != v}


# --------------------------------------------------------------------------- settling


def resettle(session, invoice_ids, payment_ids) -> tuple[int, int]:
    """Recompute invoices' amount_paid + status and payments' amount_allocated from live allocations, as
    `core_api.billing.service._settle` does; rows already right are not written."""
    invoices = session.execute(
        text(
            """
            with paid as (
                select i.id, coalesce(sum(a.amount) filter (where a.deleted_at is null), 0) as paid
                from app.invoices i left join app.payment_allocations a on a.invoice_id = i.id
                where i.id = any(:ids) group by i.id
            ), settled as (
                select i.id, p.paid,
                       case when i.status in ('draft', 'void') then i.status
                            when p.paid >= i.total then 'paid'
                            when p.paid = 0 then 'sent'
                            else 'partial' end as status
                from app.invoices i join paid p on p.id = i.id
            )
            update app.invoices i set amount_paid = s.paid, status = s.status,
                   version = i.version + 1, updated_at = now()
            from settled s
            where s.id = i.id and (i.amount_paid, i.status) is distinct from (s.paid, s.status)
            """
        ),
        {"ids": list(invoice_ids)},
    ).rowcount
    payments = session.execute(
        text(
            """
            with allocated as (
                select p.id, coalesce(sum(a.amount) filter (where a.deleted_at is null), 0) as allocated
                from app.payments p left join app.payment_allocations a on a.payment_id = p.id
                where p.id = any(:ids) group by p.id
            )
            update app.payments p set amount_allocated = s.allocated, version = p.version + 1,
                   updated_at = now()
            from allocated s
            where s.id = p.id and p.amount_allocated is distinct from s.allocated
            """
        ),
        {"ids": list(payment_ids)},
    ).rowcount
    return invoices or 0, payments or 0


# --------------------------------------------------------------------------- invoices


@dataclass
class InvoiceNumbers:
    """The firm's invoice numbers (soft-deleted ones too: numbers are never reused) → invoice id."""

    taken: dict[str, uuid.UUID]

    def choose(self, wanted: str, suffix: str, connection_id, invoice_id, current: str | None) -> str:
        """`wanted`, else `<wanted><suffix>`, else `<wanted><suffix>-<connection>`: the first one free (or
        already this invoice's); the current number is kept while it is one of them."""
        base = wanted[: NUMBER_LENGTH - len(suffix) - 9]
        candidates = [
            wanted[:NUMBER_LENGTH],
            f"{base}{suffix}",
            f"{base}{suffix}-{str(connection_id)[:8]}",
        ]
        if current in candidates and self.taken.get(current) in (None, invoice_id):
            return current
        for number in candidates:
            if self.taken.get(number) in (None, invoice_id):
                if current is not None:
                    self.taken.pop(current, None)
                self.taken[number] = invoice_id
                return number
        raise ValueError(f"no free invoice number for vendor invoice {wanted!r}")


@dataclass(frozen=True)
class VendorInvoice:
    """One vendor invoice in the app's terms. `lines` are app.invoice_lines values (`position`,
    `description`, `quantity`, `unit_price`, `tax_rate`, `amount`, `tax_amount`)."""

    external_id: str
    customer_id: str | None  # the vendor's customer id, linked to a client through external_refs
    number: str  # the vendor's number (or a fallback naming the vendor)
    number_suffix: str  # appended when `number` is taken by another local invoice, e.g. "-QB130"
    currency: str | None
    issue_date: date
    due_date: date | None
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    notes: str | None
    state: str  # DRAFT | OPEN | VOID
    sent_at: datetime | None  # when it was issued, as far as the vendor says (kept once set)
    changed_at: datetime | None  # the vendor's last change (the void time of a voided invoice)
    deleted_at: datetime | None
    lines: list[dict[str, Any]] = field(default_factory=list)


def _line_key(row: dict[str, Any]) -> tuple:
    return (row["position"], row["description"], row["quantity"], row["unit_price"], row["amount"])


# Local changes this connection has not been sent yet: outbox rows past its push cursor ("<xid>:<seq>" of the
# last row the push handled, pipelines/push.py). Once pushed, the vendor's copy applies again.
PENDING_PUSH = """
    select distinct o.entity_id from app.outbox o
    left join app.sync_state p on p.connection_id = :connection_id and p.stream = 'push:outbox'
    where o.entity = 'invoice' and o.status = 'pending' and o.entity_id = any(:ids)
      and (o.xid, o.seq) > (cast(split_part(coalesce(p.cursor, '0:0'), ':', 1) as xid8),
                            cast(split_part(coalesce(p.cursor, '0:0'), ':', 2) as bigint))
"""


def merge_invoices(
    session, tenant, connection_id, provider: str, invoices: Iterable[VendorInvoice]
) -> dict[str, int]:
    """Create, update, void or soft-delete the local twins of `invoices` (in the order given, which decides
    who keeps a contested number), then re-settle every invoice of the connection."""
    firm_id = tenant.firm_id
    # Numbers are chosen from the firm's taken ones: two vendors' merges of one firm take turns, so they
    # never both pick the same free number (and one fails on uq_invoices_firm_number).
    session.execute(NUMBERS_LOCK, {"firm_id": str(firm_id)})
    currency = firm_currency(session, firm_id)
    clients = linked(session, connection_id, "client")
    invoice_of = linked(session, connection_id, "invoice")
    current = {
        r.id: r
        for r in rows(
            session, "select * from app.invoices where id = any(:ids)", ids=list(invoice_of.values())
        )
    }
    current_lines: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for r in rows(
        session,
        "select * from app.invoice_lines where invoice_id = any(:ids) order by position",
        ids=list(invoice_of.values()),
    ):
        current_lines.setdefault(r.invoice_id, []).append(r._asdict())
    pending = {
        r.entity_id
        for r in rows(
            session,
            PENDING_PUSH,
            ids=list(invoice_of.values()),
            connection_id=connection_id,
        )
    }
    numbers = InvoiceNumbers({r.number: r.id for r in rows(session, "select number, id from app.invoices")})
    counts = dict.fromkeys(("created", "updated", "unchanged", "skipped_unlinked", "held_pending_push"), 0)
    unapplied: list[uuid.UUID] = []
    new = Batch(provider, INVOICES, REFS, LINES)

    for v in invoices:
        client_id = clients.get(v.customer_id) if v.customer_id else None
        invoice_id = invoice_of.get(v.external_id)
        row = current.get(invoice_id) if invoice_id else None
        if client_id is None or (row is None and v.deleted_at is not None):
            counts["skipped_unlinked"] += client_id is None
            continue
        if row is not None and invoice_id in pending:
            counts["held_pending_push"] += 1
            continue
        invoice_id = invoice_id or uuid.uuid4()
        desired = {
            "number": numbers.choose(
                v.number, v.number_suffix, connection_id, invoice_id, row.number if row else None
            ),
            "client_id": client_id,
            "currency": v.currency or (row.currency if row else currency),
            "issue_date": v.issue_date,
            "due_date": max(v.due_date or v.issue_date, v.issue_date),
            "subtotal": v.subtotal,
            "tax_total": v.tax_total,
            "total": v.total,
            "notes": v.notes,
            "sent_at": (row.sent_at if row and row.sent_at else v.sent_at),
            "voided_at": (row.voided_at if row and row.voided_at else v.changed_at)
            if v.state == VOID
            else None,
            "deleted_at": (row.deleted_at if row and row.deleted_at else v.deleted_at),
        }
        if v.state in (DRAFT, VOID):
            desired["status"] = v.state
        elif row is None or row.status in ("void", "draft"):
            desired["status"] = "sent"  # settled from its allocations below
        if row is None:
            new.add(INVOICES, id=invoice_id, firm_id=firm_id, amount_paid=Decimal(0), **desired)
            new.link(firm_id, connection_id, "invoice", invoice_id, v.external_id)
            for line in v.lines:
                new.add(LINES, id=uuid.uuid4(), firm_id=firm_id, invoice_id=invoice_id, **line)
            counts["created"] += 1
            continue
        changes = _changed(row, desired)
        same_lines = [_line_key(x) for x in current_lines.get(invoice_id, [])] == [
            _line_key(x) for x in v.lines
        ]
        if not changes and same_lines:
            counts["unchanged"] += 1
            continue
        if v.total < row.amount_paid or v.state != OPEN or v.deleted_at is not None:
            # The vendor unapplied the payments of a voided, deleted or reduced invoice: so do we, before
            # the new total goes in (the payments merge then writes what the vendor applies now).
            unapplied.append(invoice_id)
            session.execute(
                update(ALLOCATIONS)
                .where(ALLOCATIONS.c.invoice_id == invoice_id, ALLOCATIONS.c.deleted_at.is_(None))
                .values(deleted_at=text("now()"), version=ALLOCATIONS.c.version + 1, updated_at=text("now()"))
            )
            changes["amount_paid"] = Decimal(0)
        session.execute(
            update(INVOICES)
            .where(INVOICES.c.id == invoice_id)
            .values(**changes, version=INVOICES.c.version + 1, updated_at=text("now()"))
        )
        if not same_lines:
            session.execute(delete(LINES).where(LINES.c.invoice_id == invoice_id))
            for line in v.lines:
                new.add(LINES, id=uuid.uuid4(), firm_id=firm_id, invoice_id=invoice_id, **line)
        counts["updated"] += 1
    new.flush(session)

    payments = [
        r.payment_id
        for r in rows(
            session,
            "select distinct payment_id from app.payment_allocations where invoice_id = any(:ids)",
            ids=unapplied,
        )
    ]
    settled, _ = resettle(session, linked(session, connection_id, "invoice").values(), payments)
    return {f"invoices_{k}": v for k, v in counts.items()} | {"invoices_settled": settled}


# --------------------------------------------------------------------------- payments


@dataclass(frozen=True)
class PaymentSource:
    """A local payment a vendor record stands for: a payment's cash, or a credit (memo / note) held as a
    non-cash payment."""

    entity: str  # external_refs entity, e.g. 'payment' | 'credit_memo' | 'credit_note'
    external_id: str
    # app.payments values (client_id, amount, currency, received_date, method, reference, notes), or None:
    # it no longer stands for a payment (deleted, voided, nothing left) and its local twin is soft-deleted.
    values: dict[str, Any] | None


Allocations = dict[tuple[uuid.UUID, uuid.UUID], Decimal]  # (local payment, local invoice) → amount


def merge_payments(
    session,
    tenant,
    connection_id,
    provider: str,
    entities: tuple[str, ...],
    sources: Callable[[dict[str, uuid.UUID], str], list[PaymentSource]],
    allocations: Callable[[dict[tuple[str, str], uuid.UUID], dict[str, uuid.UUID]], Allocations],
) -> dict[str, int]:
    """Payments from `sources(clients, firm currency)` (vendor customer id → client id), then allocations as
    `allocations(payment_of, invoice_of)` says the vendor applied them now, then the touched invoices and
    every payment of the connection re-settled."""
    firm_id = tenant.firm_id
    currency = firm_currency(session, firm_id)
    clients = linked(session, connection_id, "client")
    invoice_of = linked(session, connection_id, "invoice")
    payment_of = links(session, connection_id, entities)
    current = {
        r.id: r
        for r in rows(
            session, "select * from app.payments where id = any(:ids)", ids=list(payment_of.values())
        )
    }
    counts = dict.fromkeys(("created", "updated", "removed", "unchanged"), 0)
    headers: list[tuple[uuid.UUID, dict[str, Any]]] = []
    new = Batch(provider, PAYMENTS, REFS)
    for source in sources(clients, currency):
        payment_id = payment_of.get((source.entity, source.external_id))
        row = current.get(payment_id) if payment_id else None
        if source.values is None:
            if row is not None and row.deleted_at is None:
                headers.append((payment_id, {"deleted_at": text("now()")}))
                counts["removed"] += 1
            continue
        desired = {**source.values, "deleted_at": None}
        if row is None:
            payment_id = uuid.uuid4()
            new.add(PAYMENTS, id=payment_id, firm_id=firm_id, amount_allocated=Decimal(0), **desired)
            new.link(firm_id, connection_id, source.entity, payment_id, source.external_id)
            payment_of[(source.entity, source.external_id)] = payment_id
            counts["created"] += 1
        elif changes := _changed(row, desired):
            headers.append((payment_id, changes))
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1

    new.flush(session)

    # Allocations: what the vendor applies now, against the live ones of this connection's payments.
    desired_allocations = allocations(payment_of, invoice_of)
    existing = rows(
        session,
        "select id, payment_id, invoice_id, amount from app.payment_allocations "
        "where payment_id = any(:ids) and deleted_at is null order by created_at, id",
        ids=list(payment_of.values()),
    )
    touched_invoices: set[uuid.UUID] = set()
    kept: set[tuple[uuid.UUID, uuid.UUID]] = set()
    allocation_counts = dict.fromkeys(("created", "updated", "removed"), 0)
    for a in existing:
        pair = (a.payment_id, a.invoice_id)
        if pair in desired_allocations and pair not in kept:
            kept.add(pair)
            if a.amount != desired_allocations[pair]:
                session.execute(
                    update(ALLOCATIONS)
                    .where(ALLOCATIONS.c.id == a.id)
                    .values(
                        amount=desired_allocations[pair],
                        version=ALLOCATIONS.c.version + 1,
                        updated_at=text("now()"),
                    )
                )
                allocation_counts["updated"] += 1
                touched_invoices.add(a.invoice_id)
            continue
        session.execute(
            update(ALLOCATIONS)
            .where(ALLOCATIONS.c.id == a.id)
            .values(deleted_at=text("now()"), version=ALLOCATIONS.c.version + 1, updated_at=text("now()"))
        )
        allocation_counts["removed"] += 1
        touched_invoices.add(a.invoice_id)
    fresh = [
        {"id": uuid.uuid4(), "firm_id": firm_id, "payment_id": p, "invoice_id": i, "amount": amount}
        for (p, i), amount in sorted(
            desired_allocations.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))
        )
        if (p, i) not in kept
    ]
    if fresh:
        session.execute(insert(ALLOCATIONS), fresh)
        allocation_counts["created"] = len(fresh)
        touched_invoices.update(row["invoice_id"] for row in fresh)

    # Headers last, with amount_allocated from the allocations just written (amount >= allocated holds).
    live_sum = (
        select(func.coalesce(func.sum(ALLOCATIONS.c.amount), 0))
        .where(ALLOCATIONS.c.payment_id == PAYMENTS.c.id, ALLOCATIONS.c.deleted_at.is_(None))
        .scalar_subquery()
    )
    for payment_id, changes in headers:
        session.execute(
            update(PAYMENTS)
            .where(PAYMENTS.c.id == payment_id)
            .values(
                **changes, amount_allocated=live_sum, version=PAYMENTS.c.version + 1, updated_at=text("now()")
            )
        )
    settled_invoices, _ = resettle(session, touched_invoices, payment_of.values())
    return (
        {f"payments_{k}": v for k, v in counts.items()}
        | {f"allocations_{k}": v for k, v in allocation_counts.items()}
        | {"invoices_settled": settled_invoices}
    )


__all__ = [
    "DRAFT",
    "OPEN",
    "VOID",
    "Allocations",
    "InvoiceNumbers",
    "PaymentSource",
    "VendorInvoice",
    "merge_invoices",
    "merge_payments",
    "money",
    "quantity",
    "resettle",
    "rows",
]
