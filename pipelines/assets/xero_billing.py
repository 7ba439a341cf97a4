"""Xero sales invoices, payments and credit notes merged from the warehouse into the app's billing tables.

Lineage: warehouse.xero_{invoices,invoice_lines,payments,credit_notes} → app.{invoices,invoice_lines,payments,
payment_allocations}, each app row linked through app.external_refs (entity 'invoice', 'payment', or
'credit_note' for a credit note held as a payment). Only records of contacts already linked to a client
(entity 'client') are merged. The writing, settling, numbering and outbox guard are the vendor-neutral
`pipelines/billing_merge.py` (shared with QuickBooks); this module says what Xero's rows mean.

Xero's rules (docs/adr/0009-accounting-two-way-sync.md, "What is merged from Xero"):
- Sales invoices only (Type ACCREC). Bills (ACCPAY) are what the firm owes its suppliers, not its receivables:
  they stay in the warehouse and are counted as `invoices_skipped_bills`; so are payments of bills.
- Status: DRAFT and SUBMITTED (awaiting approval) → `draft`; AUTHORISED and PAID → issued, its status
  (`sent` / `partial` / `paid`) settled from the allocations below; VOIDED → `void`; DELETED (Xero deletes
  only drafts) → soft-deleted. Xero's own PAID is not copied: it follows from the same amounts.
- Amounts are Xero's: total, SubTotal, TotalTax, and each line's LineAmount and TaxAmount (a line of an
  `Inclusive` invoice is stored net of its tax, so the lines add up to the subtotal either way).
- A payment applies to one invoice: each AUTHORISED ACCRECPAYMENT becomes a payment (method 'other')
  allocated to its invoice; a DELETED one is soft-deleted with its allocation, re-opening the invoice.
- Credits lower a Xero balance too (AmountDue = Total - AmountPaid - AmountCredited): an AUTHORISED or PAID
  ACCRECCREDIT credit note becomes a non-cash payment whose allocations are the credit note's live
  `Allocations`, so `total - amount_paid` is Xero's AmountDue. Its amount is what it credits the customer's
  invoices or still can (allocations + RemainingCredit: cash refunds are not credit), so the payment's
  unallocated amount is Xero's RemainingCredit. A VOIDED or DELETED credit note is soft-deleted.
- An InvoiceNumber already used by another local invoice becomes `<InvoiceNumber>-XERO<first 8 of the
  InvoiceID>` (then `…-<connection>`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from pipelines import billing_merge
from pipelines.billing_merge import (
    DESCRIPTION_LENGTH,
    DRAFT,
    OPEN,
    VOID,
    Allocations,
    PaymentSource,
    VendorInvoice,
    money,
    quantity,
    rows,
)

PROVIDER = "xero"
SALES = "ACCREC"
SALES_CREDIT = "ACCRECCREDIT"
SALES_PAYMENT = "ACCRECPAYMENT"
# Xero invoice status → what the invoice is for the app (DELETED is a soft delete of a draft).
STATES = {
    "DRAFT": DRAFT,
    "SUBMITTED": DRAFT,
    "DELETED": DRAFT,
    "AUTHORISED": OPEN,
    "PAID": OPEN,
    "VOIDED": VOID,
}
LIVE_CREDIT_NOTE = ("AUTHORISED", "PAID")


# --------------------------------------------------------------------------- invoices


def _line_rows(lines: list[Any], inclusive: bool) -> list[dict[str, Any]]:
    out = []
    for position, line in enumerate(lines, start=1):
        tax = money(line.tax_amount)
        amount = money(line.line_amount) - (tax if inclusive else Decimal(0))
        out.append(
            {
                "position": position,
                "description": (line.description or line.item_code or "Line")[:DESCRIPTION_LENGTH],
                "quantity": quantity(line.quantity),
                "unit_price": quantity(line.unit_amount if line.unit_amount is not None else amount),
                "tax_rate": None,  # Xero names a TaxType, not a rate; the line's tax amount is kept
                "amount": amount,
                "tax_amount": tax,
            }
        )
    return out


def _invoices(session, connection_id, firm_id) -> list[VendorInvoice]:
    """The connection's sales invoices, by InvoiceNumber then id (the order decides who keeps a contested
    number; Xero's numbers are unique among sales invoices, so that is only against local ones)."""
    lines_of: dict[str, list[Any]] = defaultdict(list)
    for line in rows(
        session,
        "select l.* from warehouse.xero_invoice_lines l join warehouse.xero_invoices i "
        "on i.connection_id = l.connection_id and i.external_id = l.invoice_id "
        "where l.connection_id = :c and i.type = :sales order by l.invoice_id, l.line_number",
        c=connection_id,
        sales=SALES,
    ):
        lines_of[line.invoice_id].append(line)
    out = []
    for w in rows(
        session,
        "select * from warehouse.xero_invoices where connection_id = :c and firm_id = :f and type = :sales "
        "order by coalesce(invoice_number, ''), external_id",
        c=connection_id,
        f=firm_id,
        sales=SALES,
    ):
        issue = w.issue_date or (w.updated_at.date() if w.updated_at else datetime.now(UTC).date())
        state = STATES.get(w.status or "DRAFT", DRAFT)
        short = w.external_id[:8]
        out.append(
            VendorInvoice(
                external_id=w.external_id,
                customer_id=w.contact_id,
                number=w.invoice_number or f"XERO-{short}",
                number_suffix=f"-XERO{short}",
                currency=w.currency,
                issue_date=issue,
                due_date=w.due_date,
                subtotal=money(w.sub_total if w.sub_total is not None else w.total),
                tax_total=money(w.total_tax),
                total=money(w.total),
                notes=w.reference,
                state=state,
                # Xero does not say when an invoice was approved: its issue date is when it was issued.
                sent_at=None if state == DRAFT else datetime.combine(issue, time(), UTC),
                changed_at=w.updated_at,
                deleted_at=w.deleted_at or (w.updated_at if w.status == "DELETED" else None),
                lines=_line_rows(lines_of.get(w.external_id, []), w.line_amount_types == "Inclusive"),
            )
        )
    return out


def merge_invoices(session, tenant, connection_id) -> dict[str, int]:
    invoices = _invoices(session, connection_id, tenant.firm_id)
    counts = billing_merge.merge_invoices(session, tenant, connection_id, PROVIDER, invoices)
    bills = rows(
        session,
        "select count(*) from warehouse.xero_invoices where connection_id = :c and type is distinct from :s",
        c=connection_id,
        s=SALES,
    )[0][0]
    return counts | {"invoices_skipped_bills": bills}


# --------------------------------------------------------------------------- payments and credit notes


@dataclass
class _Payments:
    """Reads Xero's payments and credit notes once: the payment sources, and what each live one applies to
    (vendor ids and amounts) for the allocations that follow."""

    session: Any
    connection_id: uuid.UUID
    firm_id: uuid.UUID
    applied: list[tuple[tuple[str, str], str, Decimal]] = field(default_factory=list)

    def sources(self, clients: dict[str, uuid.UUID], currency: str) -> list[PaymentSource]:
        out = []
        for p in rows(
            self.session,
            "select p.*, i.contact_id as invoice_contact_id, i.currency as invoice_currency "
            "from warehouse.xero_payments p left join warehouse.xero_invoices i "
            "on i.connection_id = p.connection_id and i.external_id = p.invoice_id "
            "where p.connection_id = :c and p.firm_id = :f and p.invoice_id is not null "
            "and (p.payment_type = :payment or (p.payment_type is null and i.type = :sales))",
            c=self.connection_id,
            f=self.firm_id,
            payment=SALES_PAYMENT,
            sales=SALES,
        ):
            contact = p.contact_id or p.invoice_contact_id
            live = (
                p.deleted_at is None
                and p.status != "DELETED"
                and p.amount is not None
                and money(p.amount) > 0
                and contact in clients
            )
            values = None
            if live:
                values = {
                    "client_id": clients[contact],
                    "amount": money(p.amount),
                    "currency": p.invoice_currency or currency,
                    "received_date": p.payment_date or p.updated_at.date(),
                    "method": "other",
                    "reference": (p.reference or None) and p.reference[:100],
                    "notes": None,
                }
                self.applied.append((("payment", p.external_id), p.invoice_id, money(p.amount)))
            out.append(PaymentSource("payment", p.external_id, values))

        allocations: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
        for a in rows(
            self.session,
            # Xero's amounts as written (->> keeps the exact decimal); a deleted allocation says IsDeleted.
            "select n.external_id, a->'Invoice'->>'InvoiceID' as invoice_id, "
            "(a->>'Amount')::numeric as amount from warehouse.xero_credit_notes n "
            "cross join lateral jsonb_array_elements(case when jsonb_typeof(n.raw->'Allocations') = 'array' "
            "then n.raw->'Allocations' else '[]'::jsonb end) a "
            "where n.connection_id = :c and n.firm_id = :f and n.type = :credit "
            "and not coalesce((a->>'IsDeleted')::boolean, false)",
            c=self.connection_id,
            f=self.firm_id,
            credit=SALES_CREDIT,
        ):
            if a.invoice_id and a.amount is not None and money(a.amount) > 0:
                allocations[a.external_id].append((a.invoice_id, money(a.amount)))
        for n in rows(
            self.session,
            "select * from warehouse.xero_credit_notes where connection_id = :c and firm_id = :f "
            "and type = :credit",
            c=self.connection_id,
            f=self.firm_id,
            credit=SALES_CREDIT,
        ):
            applied = allocations.get(n.external_id, [])
            used = sum((amount for _, amount in applied), Decimal(0))
            amount = money(n.total) if n.remaining_credit is None else money(n.remaining_credit) + used
            live = (
                n.deleted_at is None
                and n.status in LIVE_CREDIT_NOTE
                and amount > 0
                and n.contact_id in clients
            )
            values = None
            if live:
                values = {
                    "client_id": clients[n.contact_id],
                    "amount": amount,
                    "currency": n.currency or currency,
                    "received_date": n.issue_date or n.updated_at.date(),
                    "method": "other",
                    "reference": f"Xero credit note {n.credit_note_number or n.external_id}"[:100],
                    "notes": n.reference,
                }
                self.applied += [(("credit_note", n.external_id), inv, amt) for inv, amt in applied]
            out.append(PaymentSource("credit_note", n.external_id, values))
        return sorted(out, key=lambda s: (s.entity, s.external_id))

    def allocations(
        self, payment_of: dict[tuple[str, str], uuid.UUID], invoice_of: dict[str, uuid.UUID]
    ) -> Allocations:
        """(local payment, local invoice) → amount, for what each live payment or credit note applies to a
        merged invoice."""
        desired: Allocations = defaultdict(Decimal)
        for source, invoice_id, amount in self.applied:
            payment, invoice = payment_of.get(source), invoice_of.get(invoice_id)
            if payment is not None and invoice is not None:
                desired[(payment, invoice)] += amount
        return dict(desired)


def merge_payments(session, tenant, connection_id) -> dict[str, int]:
    feed = _Payments(session, connection_id, tenant.firm_id)
    return billing_merge.merge_payments(
        session,
        tenant,
        connection_id,
        PROVIDER,
        entities=("payment", "credit_note"),
        sources=feed.sources,
        allocations=feed.allocations,
    )


__all__ = ["STATES", "merge_invoices", "merge_payments"]
