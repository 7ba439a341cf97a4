"""QuickBooks invoices and payments merged from the warehouse into the app's billing tables.

Lineage: warehouse.quickbooks_{invoices,invoice_lines,payments,payment_allocations,credit_memos} →
app.{invoices,invoice_lines,payments,payment_allocations}, each app row linked through app.external_refs
(entity 'invoice', 'payment', or 'credit_memo' for a credit memo held as a payment). Only records of
customers already linked to a client (entity 'client') are merged. The writing, settling, numbering and
outbox guard are the vendor-neutral `pipelines/billing_merge.py`; this module says what QuickBooks' rows mean.

QuickBooks' rules (docs/data-ownership.md, "Accounting merges"):
- An invoice's total is TotalAmt and its lines' amounts are the vendor's line amounts (not recomputed as
  quantity x unit price, which QuickBooks does not guarantee); a discount line is stored negative.
- Credits lower a QuickBooks balance too: a credit memo becomes a non-cash payment (method 'other') and its
  applications become allocations, so `total - amount_paid` is QuickBooks' Balance for every invoice.
  Within one QuickBooks payment, its credit memos are spent first, then its cash, invoices in Id order.
- A voided or deleted payment (QuickBooks keeps voided ones zeroed) and a deleted invoice are soft-deleted,
  with their allocations; the invoices they paid are re-settled.
- A DocNumber already used by another local invoice becomes `<DocNumber>-QB<Id>` (then `…-<connection>`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict, deque
from datetime import date
from decimal import Decimal
from typing import Any

from pipelines import billing_merge
from pipelines.billing_merge import (
    DESCRIPTION_LENGTH,
    OPEN,
    VOID,
    Allocations,
    PaymentSource,
    VendorInvoice,
    money,
    quantity,
    resettle,
    rows,
)

PROVIDER = "quickbooks"


def _id_order(external_id: str) -> tuple[int, str]:
    return (len(external_id), external_id)  # QuickBooks Ids are integers as text


# --------------------------------------------------------------------------- invoices


def _line_rows(lines: list[Any]) -> list[dict[str, Any]]:
    out = []
    for position, line in enumerate(lines, start=1):
        amount = money(line.amount)
        if line.detail_type == "DiscountLineDetail":
            amount = -amount  # QuickBooks states a discount as a positive amount that lowers the total
        unit_price = line.unit_price if line.unit_price is not None else amount
        out.append(
            {
                "position": position,
                "description": (line.description or line.item_name or line.detail_type or "Line")[
                    :DESCRIPTION_LENGTH
                ],
                "quantity": quantity(line.quantity),
                "unit_price": quantity(unit_price),
                "tax_rate": None,
                "amount": amount,
                "tax_amount": Decimal("0.00"),
            }
        )
    return out


def _invoices(session, connection_id, firm_id) -> list[VendorInvoice]:
    """The connection's QuickBooks invoices in Id order (the order decides who keeps a contested number)."""
    lines_of: dict[str, list[Any]] = defaultdict(list)
    for line in rows(
        session,
        "select * from warehouse.quickbooks_invoice_lines where connection_id = :c "
        "order by invoice_external_id, line_number, line_id",
        c=connection_id,
    ):
        lines_of[line.invoice_external_id].append(line)
    out = []
    for w in sorted(
        rows(
            session,
            "select * from warehouse.quickbooks_invoices where connection_id = :c and firm_id = :f",
            c=connection_id,
            f=firm_id,
        ),
        key=lambda w: _id_order(w.external_id),
    ):
        issue = w.txn_date or (w.created_at.date() if w.created_at else date.today())
        out.append(
            VendorInvoice(
                external_id=w.external_id,
                customer_id=w.customer_id,
                number=w.doc_number or f"QB-{w.external_id}",
                number_suffix=f"-QB{w.external_id}",
                currency=w.currency,
                issue_date=issue,
                due_date=w.due_date,
                subtotal=money(w.subtotal if w.subtotal is not None else w.total),
                tax_total=money(w.tax_total),
                total=money(w.total),
                notes=w.customer_memo,
                state=VOID if w.voided else OPEN,
                sent_at=w.created_at,
                changed_at=w.updated_at,
                deleted_at=w.deleted_at,
                lines=_line_rows(lines_of.get(w.external_id, [])),
            )
        )
    return out


def merge_invoices(session, tenant, connection_id) -> dict[str, int]:
    invoices = _invoices(session, connection_id, tenant.firm_id)
    return billing_merge.merge_invoices(session, tenant, connection_id, PROVIDER, invoices)


# --------------------------------------------------------------------------- payments


def _sources(session, connection_id, firm_id, clients, currency) -> list[PaymentSource]:
    sources = []
    for p in rows(
        session, "select * from warehouse.quickbooks_payments where connection_id = :c and firm_id = :f",
        c=connection_id, f=firm_id,
    ):  # fmt: skip
        live = p.deleted_at is None and not p.voided and p.total and p.total > 0 and p.customer_id in clients
        values = None
        if live:
            values = {
                "client_id": clients[p.customer_id],
                "amount": money(p.total),
                "currency": p.currency or currency,
                "received_date": p.txn_date or p.created_at.date(),
                "method": "other",
                "reference": (p.reference or None) and p.reference[:100],
                "notes": p.private_note,
            }
        sources.append(PaymentSource("payment", p.external_id, values))
    for m in rows(
        session, "select * from warehouse.quickbooks_credit_memos where connection_id = :c and firm_id = :f",
        c=connection_id, f=firm_id,
    ):  # fmt: skip
        live = m.deleted_at is None and not m.voided and m.total and m.total > 0 and m.customer_id in clients
        values = None
        if live:
            values = {
                "client_id": clients[m.customer_id],
                "amount": money(m.total),
                "currency": m.currency or currency,
                "received_date": m.txn_date or m.created_at.date(),
                "method": "other",
                "reference": f"QuickBooks credit memo {m.doc_number or m.external_id}"[:100],
                "notes": m.customer_memo or m.private_note,
            }
        sources.append(PaymentSource("credit_memo", m.external_id, values))
    return sorted(sources, key=lambda s: (s.entity, _id_order(s.external_id)))


def _desired_allocations(
    session,
    connection_id,
    firm_id,
    payment_of: dict[tuple[str, str], uuid.UUID],
    invoice_of: dict[str, uuid.UUID],
) -> Allocations:
    """(local payment, local invoice) → amount, from each live QuickBooks payment's lines: its credit memos
    are spent first, then its cash, over its invoices in Id order (amounts are conserved exactly)."""
    links: dict[str, list[Any]] = defaultdict(list)
    for a in rows(
        session,
        "select a.* from warehouse.quickbooks_payment_allocations a join warehouse.quickbooks_payments p "
        "on p.connection_id = a.connection_id and p.external_id = a.payment_external_id "
        "where a.connection_id = :c and p.firm_id = :f and p.deleted_at is null "
        "and not coalesce(p.voided, false)",
        c=connection_id,
        f=firm_id,
    ):
        links[a.payment_external_id].append(a)
    desired: Allocations = defaultdict(Decimal)
    for payment, lines in sorted(links.items(), key=lambda kv: _id_order(kv[0])):
        invoices = sorted((r for r in lines if r.txn_type == "Invoice"), key=lambda r: _id_order(r.txn_id))
        credits = sorted((r for r in lines if r.txn_type == "CreditMemo"), key=lambda r: _id_order(r.txn_id))
        cash = sum((money(r.amount) for r in invoices), Decimal(0)) - sum(
            (money(r.amount) for r in credits), Decimal(0)
        )
        funds = deque(
            [[payment_of.get(("credit_memo", r.txn_id)), money(r.amount)] for r in credits]
            + [[payment_of.get(("payment", payment)), max(cash, Decimal(0))]]
        )
        for r in invoices:
            need = money(r.amount)
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
    return billing_merge.merge_payments(
        session,
        tenant,
        connection_id,
        PROVIDER,
        entities=("payment", "credit_memo"),
        sources=lambda clients, currency: _sources(session, connection_id, firm_id, clients, currency),
        allocations=lambda payment_of, invoice_of: _desired_allocations(
            session, connection_id, firm_id, payment_of, invoice_of
        ),
    )


__all__ = ["merge_invoices", "merge_payments", "resettle"]
