"""QuickBooks invoices and payments merged from the warehouse into the app's billing tables.

Lineage: warehouse.quickbooks_{invoices,invoice_lines,payments,payment_allocations,credit_memos} →
app.{invoices,invoice_lines,payments,payment_allocations}, each app row linked through app.external_refs
(entity 'invoice', 'payment', or 'credit_memo' for a credit memo held as a payment). Only records of
customers already linked to a client (entity 'client') are merged.

Rules (docs/data-ownership.md, "Accounting merges"):
- Amounts are QuickBooks' own, in Decimal: an invoice's total is TotalAmt and its lines' amounts are the
  vendor's line amounts (not recomputed as quantity x unit price, which QuickBooks does not guarantee).
- `amount_paid` is the sum of the invoice's live allocations and `status` follows from it exactly as
  `core_api.billing.service` settles it (sent / partial / paid); a voided invoice is `void`.
- Credits lower a QuickBooks balance too: a credit memo becomes a non-cash payment (method 'other') and its
  applications become allocations, so `total - amount_paid` is QuickBooks' Balance for every invoice.
  Within one QuickBooks payment, its credit memos are spent first, then its cash, invoices in Id order.
- A voided or deleted payment (QuickBooks keeps voided ones zeroed) and a deleted invoice are soft-deleted,
  with their allocations; the invoices they paid are re-settled.
- Invoice numbers are unique per firm: a DocNumber already used by another local invoice becomes
  `<DocNumber>-QB<Id>` (then `…-<connection>` if even that is taken); a number once given is kept.
- Writes are SQL, not the ORM, so pulled changes put nothing in the outbox (ADR 0009) and no audit rows
  (ADR 0005: set-based merges are recorded by Dagster's run history). Every updated row's `version` moves.
- Nothing is written when nothing differs; an invoice with a pending outbox change keeps its local header
  and lines until that change is pushed (ADR 0009's conflict rule decides there).
"""

from __future__ import annotations

import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update

from core_api.models import ExternalRef, Firm
from core_api.models.billing import Invoice, InvoiceLine, Payment, PaymentAllocation

PROVIDER = "quickbooks"
CENT = Decimal("0.01")
QUANTITY = Decimal("0.0001")
NUMBER_LENGTH = 40
DESCRIPTION_LENGTH = 500
INVOICES = Invoice.__table__
LINES = InvoiceLine.__table__
PAYMENTS = Payment.__table__
ALLOCATIONS = PaymentAllocation.__table__
REFS = ExternalRef.__table__


def _money(value: Decimal | None) -> Decimal:
    return (value or Decimal(0)).quantize(CENT, ROUND_HALF_UP)


def _id_order(external_id: str) -> tuple[int, str]:
    return (len(external_id), external_id)  # QuickBooks Ids are integers as text


def _rows(session, sql: str, **params) -> list[Any]:
    return list(session.execute(text(sql), params))


def _links(session, connection_id, entities: tuple[str, ...]) -> dict[tuple[str, str], uuid.UUID]:
    return {
        (r.entity, r.external_id): r.entity_id
        for r in _rows(
            session,
            "select entity, external_id, entity_id from app.external_refs "
            "where connection_id = :c and entity = any(:e)",
            c=connection_id,
            e=list(entities),
        )
    }


class _Batch:
    """New rows gathered during a merge, inserted per table (one executemany each), in the order given."""

    def __init__(self, *tables) -> None:
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
            provider=PROVIDER,
            connection_id=connection_id,
            external_id=external_id,
        )

    def flush(self, session) -> None:
        for table, rows in self.rows.items():
            if rows:
                session.execute(insert(table), rows)
                rows.clear()


def _firm_currency(session, firm_id) -> str:
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
class _Numbers:
    """The firm's invoice numbers (soft-deleted ones too: numbers are never reused) → invoice id."""

    taken: dict[str, uuid.UUID]

    def choose(self, doc_number: str | None, external_id: str, connection_id, invoice_id, current) -> str:
        base = (doc_number or f"QB-{external_id}")[: NUMBER_LENGTH - len(external_id) - 12]
        candidates = [
            (doc_number or f"QB-{external_id}")[:NUMBER_LENGTH],
            f"{base}-QB{external_id}",
            f"{base}-QB{external_id}-{str(connection_id)[:8]}",
        ]
        if current in candidates and self.taken.get(current) in (None, invoice_id):
            return current
        for number in candidates:
            if self.taken.get(number) in (None, invoice_id):
                if current is not None:
                    self.taken.pop(current, None)
                self.taken[number] = invoice_id
                return number
        raise ValueError(f"no free invoice number for QuickBooks invoice {external_id}")


def _line_rows(lines: list[Any]) -> list[dict[str, Any]]:
    out = []
    for position, line in enumerate(lines, start=1):
        amount = _money(line.amount)
        if line.detail_type == "DiscountLineDetail":
            amount = -amount  # QuickBooks states a discount as a positive amount that lowers the total
        quantity = (line.quantity if line.quantity is not None else Decimal(1)).quantize(
            QUANTITY, ROUND_HALF_UP
        )
        unit_price = line.unit_price if line.unit_price is not None else amount
        out.append(
            {
                "position": position,
                "description": (line.description or line.item_name or line.detail_type or "Line")[
                    :DESCRIPTION_LENGTH
                ],
                "quantity": quantity,
                "unit_price": unit_price.quantize(QUANTITY, ROUND_HALF_UP),
                "tax_rate": None,
                "amount": amount,
                "tax_amount": Decimal("0.00"),
            }
        )
    return out


def _line_key(row: dict[str, Any]) -> tuple:
    return (row["position"], row["description"], row["quantity"], row["unit_price"], row["amount"])


def merge_invoices(session, tenant, connection_id) -> dict[str, int]:
    firm_id = tenant.firm_id
    currency = _firm_currency(session, firm_id)
    clients = {ext: cid for (_, ext), cid in _links(session, connection_id, ("client",)).items()}
    linked = {ext: iid for (_, ext), iid in _links(session, connection_id, ("invoice",)).items()}
    warehouse = sorted(
        _rows(
            session,
            "select * from warehouse.quickbooks_invoices where connection_id = :c and firm_id = :f",
            c=connection_id,
            f=firm_id,
        ),
        key=lambda w: _id_order(w.external_id),
    )
    lines_of: dict[str, list[Any]] = defaultdict(list)
    for line in _rows(
        session,
        "select * from warehouse.quickbooks_invoice_lines where connection_id = :c "
        "order by invoice_external_id, line_number, line_id",
        c=connection_id,
    ):
        lines_of[line.invoice_external_id].append(line)
    current = {
        r.id: r
        for r in _rows(session, "select * from app.invoices where id = any(:ids)", ids=list(linked.values()))
    }
    current_lines: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for r in _rows(
        session,
        "select * from app.invoice_lines where invoice_id = any(:ids) order by position",
        ids=list(linked.values()),
    ):
        current_lines[r.invoice_id].append(r._asdict())
    pending = {
        r.entity_id
        for r in _rows(
            session,
            "select distinct entity_id from app.outbox where entity = 'invoice' and status = 'pending' "
            "and entity_id = any(:ids)",
            ids=list(linked.values()),
        )
    }
    numbers = _Numbers({r.number: r.id for r in _rows(session, "select number, id from app.invoices")})
    counts = dict.fromkeys(("created", "updated", "unchanged", "skipped_unlinked", "held_pending_push"), 0)
    unapplied: list[uuid.UUID] = []
    new = _Batch(INVOICES, REFS, LINES)

    for w in warehouse:
        client_id = clients.get(w.customer_id)
        invoice_id = linked.get(w.external_id)
        row = current.get(invoice_id) if invoice_id else None
        if client_id is None or (row is None and w.deleted_at is not None):
            counts["skipped_unlinked"] += client_id is None
            continue
        if row is not None and invoice_id in pending:
            counts["held_pending_push"] += 1
            continue
        invoice_id = invoice_id or uuid.uuid4()
        issue = w.txn_date or (w.created_at.date() if w.created_at else date.today())
        total = _money(w.total)
        desired = {
            "number": numbers.choose(
                w.doc_number, w.external_id, connection_id, invoice_id, row.number if row else None
            ),
            "client_id": client_id,
            "currency": w.currency or (row.currency if row else currency),
            "issue_date": issue,
            "due_date": max(w.due_date or issue, issue),
            "subtotal": _money(w.subtotal if w.subtotal is not None else w.total),
            "tax_total": _money(w.tax_total),
            "total": total,
            "notes": w.customer_memo,
            "sent_at": (row.sent_at if row and row.sent_at else w.created_at),
            "voided_at": (row.voided_at if row and row.voided_at else w.updated_at) if w.voided else None,
            "deleted_at": (row.deleted_at if row and row.deleted_at else w.deleted_at),
        }
        if w.voided:
            desired["status"] = "void"
        elif row is None or row.status in ("void", "draft"):
            desired["status"] = "sent"  # settled from its allocations below
        lines = _line_rows(lines_of.get(w.external_id, []))
        if row is None:
            new.add(INVOICES, id=invoice_id, firm_id=firm_id, amount_paid=Decimal(0), **desired)
            new.link(firm_id, connection_id, "invoice", invoice_id, w.external_id)
            for line in lines:
                new.add(LINES, id=uuid.uuid4(), firm_id=firm_id, invoice_id=invoice_id, **line)
            counts["created"] += 1
            continue
        changes = _changed(row, desired)
        same_lines = [_line_key(x) for x in current_lines.get(invoice_id, [])] == [
            _line_key(x) for x in lines
        ]
        if not changes and same_lines:
            counts["unchanged"] += 1
            continue
        if total < row.amount_paid or w.voided or w.deleted_at is not None:
            # QuickBooks unapplied the payments of a voided, deleted or reduced invoice: so do we, before
            # the new total goes in (the payments merge then writes what QuickBooks applies now).
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
            for line in lines:
                new.add(LINES, id=uuid.uuid4(), firm_id=firm_id, invoice_id=invoice_id, **line)
        counts["updated"] += 1
    new.flush(session)

    payments = [
        r.payment_id
        for r in _rows(
            session,
            "select distinct payment_id from app.payment_allocations where invoice_id = any(:ids)",
            ids=unapplied,
        )
    ]
    all_linked = list(_links(session, connection_id, ("invoice",)).values())
    settled, _ = resettle(session, all_linked, payments)
    return {f"invoices_{k}": v for k, v in counts.items()} | {"invoices_settled": settled}


# --------------------------------------------------------------------------- payments


@dataclass(frozen=True)
class _Source:
    """A local payment a QuickBooks record stands for: a Payment's cash or a CreditMemo's credit."""

    entity: str  # external_refs entity: 'payment' | 'credit_memo'
    external_id: str
    values: dict[str, Any] | None  # None: it no longer stands for a payment (deleted, voided, zero)


def _sources(session, connection_id, firm_id, clients, currency) -> list[_Source]:
    sources = []
    for p in _rows(
        session, "select * from warehouse.quickbooks_payments where connection_id = :c and firm_id = :f",
        c=connection_id, f=firm_id,
    ):  # fmt: skip
        live = p.deleted_at is None and not p.voided and p.total and p.total > 0 and p.customer_id in clients
        values = None
        if live:
            values = {
                "client_id": clients[p.customer_id],
                "amount": _money(p.total),
                "currency": p.currency or currency,
                "received_date": p.txn_date or p.created_at.date(),
                "method": "other",
                "reference": (p.reference or None) and p.reference[:100],
                "notes": p.private_note,
            }
        sources.append(_Source("payment", p.external_id, values))
    for m in _rows(
        session, "select * from warehouse.quickbooks_credit_memos where connection_id = :c and firm_id = :f",
        c=connection_id, f=firm_id,
    ):  # fmt: skip
        live = m.deleted_at is None and not m.voided and m.total and m.total > 0 and m.customer_id in clients
        values = None
        if live:
            values = {
                "client_id": clients[m.customer_id],
                "amount": _money(m.total),
                "currency": m.currency or currency,
                "received_date": m.txn_date or m.created_at.date(),
                "method": "other",
                "reference": f"QuickBooks credit memo {m.doc_number or m.external_id}"[:100],
                "notes": m.customer_memo or m.private_note,
            }
        sources.append(_Source("credit_memo", m.external_id, values))
    return sorted(sources, key=lambda s: (s.entity, _id_order(s.external_id)))


def _desired_allocations(
    session,
    connection_id,
    firm_id,
    payment_of: dict[tuple[str, str], uuid.UUID],
    invoice_of: dict[str, uuid.UUID],
) -> dict[tuple[uuid.UUID, uuid.UUID], Decimal]:
    """(local payment, local invoice) → amount, from each live QuickBooks payment's lines: its credit memos
    are spent first, then its cash, over its invoices in Id order (amounts are conserved exactly)."""
    links: dict[str, list[Any]] = defaultdict(list)
    for a in _rows(
        session,
        "select a.* from warehouse.quickbooks_payment_allocations a join warehouse.quickbooks_payments p "
        "on p.connection_id = a.connection_id and p.external_id = a.payment_external_id "
        "where a.connection_id = :c and p.firm_id = :f and p.deleted_at is null "
        "and not coalesce(p.voided, false)",
        c=connection_id,
        f=firm_id,
    ):
        links[a.payment_external_id].append(a)
    desired: dict[tuple[uuid.UUID, uuid.UUID], Decimal] = defaultdict(Decimal)
    for payment, rows in sorted(links.items(), key=lambda kv: _id_order(kv[0])):
        invoices = sorted((r for r in rows if r.txn_type == "Invoice"), key=lambda r: _id_order(r.txn_id))
        credits = sorted((r for r in rows if r.txn_type == "CreditMemo"), key=lambda r: _id_order(r.txn_id))
        cash = sum((_money(r.amount) for r in invoices), Decimal(0)) - sum(
            (_money(r.amount) for r in credits), Decimal(0)
        )
        funds = deque(
            [[payment_of.get(("credit_memo", r.txn_id)), _money(r.amount)] for r in credits]
            + [[payment_of.get(("payment", payment)), max(cash, Decimal(0))]]
        )
        for r in invoices:
            need = _money(r.amount)
            while need > 0 and funds:
                source, left = funds[0]
                take = min(need, left)
                if take > 0 and source is not None and r.txn_id in invoice_of:
                    desired[(source, invoice_of[r.txn_id])] += take
                need -= take
                funds[0][1] = left - take
                if funds[0][1] <= 0:
                    funds.popleft()
    return {k: v for k, v in desired.items() if v > 0}


def merge_payments(session, tenant, connection_id) -> dict[str, int]:
    firm_id = tenant.firm_id
    currency = _firm_currency(session, firm_id)
    clients = {ext: cid for (_, ext), cid in _links(session, connection_id, ("client",)).items()}
    invoice_of = {ext: iid for (_, ext), iid in _links(session, connection_id, ("invoice",)).items()}
    payment_of = _links(session, connection_id, ("payment", "credit_memo"))
    current = {
        r.id: r
        for r in _rows(
            session, "select * from app.payments where id = any(:ids)", ids=list(payment_of.values())
        )
    }
    counts = dict.fromkeys(("created", "updated", "removed", "unchanged"), 0)
    headers: list[tuple[uuid.UUID, dict[str, Any]]] = []
    new = _Batch(PAYMENTS, REFS)
    for source in _sources(session, connection_id, firm_id, clients, currency):
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

    # Allocations: what QuickBooks applies now, against the live ones of this connection's payments.
    desired = _desired_allocations(session, connection_id, firm_id, payment_of, invoice_of)
    existing = _rows(
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
        if pair in desired and pair not in kept:
            kept.add(pair)
            if a.amount != desired[pair]:
                session.execute(
                    update(ALLOCATIONS)
                    .where(ALLOCATIONS.c.id == a.id)
                    .values(amount=desired[pair], version=ALLOCATIONS.c.version + 1, updated_at=text("now()"))
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
        for (p, i), amount in sorted(desired.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1])))
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


__all__ = ["merge_invoices", "merge_payments", "resettle"]
