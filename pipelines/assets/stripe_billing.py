"""Stripe charges merged from the warehouse into app.payments, applied to the invoices they pay (ADR 0013).

Lineage: warehouse.stripe_{charges,payment_intents,refunds} → app.payments / app.payment_allocations, each
payment linked through app.external_refs (entity 'payment', external id: the charge id). The writing and
settling are the vendor-neutral `pipelines/billing_merge.py`; this module says what Stripe's rows mean.

- A charge is the payment (not its PaymentIntent: an intent may take several attempts, and refunds hang off
  the charge): one that succeeded and was paid (`mapping.charge_to_payment`). Its amount is what is left of
  it after refunds — `amount - amount_refunded`, in major units of its currency exactly (the connector
  converts minor units by the currency's exponent: JPY 1099 is ¥1,099, USD 1099 is $10.99). The refunds
  are recorded in the payment's notes (ids and amounts); a charge refunded in full leaves no payment (its
  local twin is soft-deleted, its allocations with it, so the invoice re-opens).
- Its client: the client linked to the charge's customer, else the client of the invoice it pays. Neither:
  not merged (`payments_skipped_no_client`).
- The invoice it pays, first found of: metadata `firmsync_invoice_id` (the app invoice's id), metadata
  `invoice_number` (the firm's invoice number) — the charge's metadata, then its PaymentIntent's — then the
  number of the Stripe invoice when the charge carries it expanded. The invoice must be live, issued (not
  draft or void), of the payment's client and in its currency. Otherwise the payment stays unallocated.
- Applied: the smaller of the payment and what the invoice still owes besides this connection's Stripe
  payments (charges in `created` order when several pay one invoice). The invoice's amount_paid and status
  follow (`billing_merge.resettle`: sent / partial / paid), so a refund re-opens what it reduced.
- A three-decimal currency (KWD, BHD, ...) amount that does not fit the app's cents is not merged
  (`payments_skipped_precision`) rather than rounded.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from connectors.stripe.mapping import charge_to_payment
from pipelines import billing_merge
from pipelines.billing_merge import CENT, Allocations, PaymentSource, rows

PROVIDER = "stripe"
ENTITY = "payment"


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


@dataclass
class _Charge:
    external_id: str
    values: dict[str, Any] | None
    invoice: Any | None  # the app invoice row it pays, when one is identified


@dataclass
class _Payments:
    session: Any
    connection_id: uuid.UUID
    firm_id: uuid.UUID
    charges: list[_Charge] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("payments_skipped_no_client", "payments_skipped_precision", "payments_unmatched"), 0
        )
    )

    def _invoices(self, wanted: list[tuple[uuid.UUID | None, str | None, str | None]]) -> tuple[dict, dict]:
        ids = sorted({str(i) for i, _, _ in wanted if i})
        numbers = sorted({n for _, n, _ in wanted if n} | {n for _, _, n in wanted if n})
        found = rows(
            self.session,
            "select id, number, client_id, currency, total, status, deleted_at from app.invoices "
            "where firm_id = :f and (id = any(cast(:ids as uuid[])) or number = any(:numbers))",
            f=self.firm_id,
            ids=ids,
            numbers=numbers,
        )
        return {r.id: r for r in found}, {r.number: r for r in found}

    def sources(self, clients: dict[str, uuid.UUID], currency: str) -> list[PaymentSource]:
        refunds: dict[str, list[Any]] = defaultdict(list)
        for r in rows(
            self.session,
            "select charge_id, external_id, amount, currency from warehouse.stripe_refunds "
            "where connection_id = :c and firm_id = :f and status in ('succeeded', 'pending') "
            "order by created_at, external_id",
            c=self.connection_id,
            f=self.firm_id,
        ):
            refunds[r.charge_id].append(r)
        charges = rows(
            self.session,
            "select ch.external_id, ch.raw, pi.metadata as intent_metadata "
            "from warehouse.stripe_charges ch left join warehouse.stripe_payment_intents pi "
            "on pi.connection_id = ch.connection_id and pi.external_id = ch.payment_intent_id "
            "where ch.connection_id = :c and ch.firm_id = :f order by ch.created_at, ch.external_id",
            c=self.connection_id,
            f=self.firm_id,
        )
        wanted = [self._wanted(ch) for ch in charges]
        by_id, by_number = self._invoices(wanted)
        out = []
        for ch, (invoice_id, number, stripe_number) in zip(charges, wanted, strict=True):
            invoice = (
                by_id.get(invoice_id)
                or (by_number.get(number) if number else None)
                or (by_number.get(stripe_number) if stripe_number else None)
            )
            values = self._values(ch, invoice, clients, refunds.get(ch.external_id, []))
            if values is not None and invoice is not None and not self._payable(invoice, values):
                invoice = None
            if values is not None and invoice is None:
                self.counts["payments_unmatched"] += 1
            self.charges.append(_Charge(ch.external_id, values, invoice))
            out.append(PaymentSource(ENTITY, ch.external_id, values))
        return out

    @staticmethod
    def _wanted(ch: Any) -> tuple[uuid.UUID | None, str | None, str | None]:
        raw = ch.raw if isinstance(ch.raw, dict) else {}
        mine = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
        intent = ch.intent_metadata if isinstance(ch.intent_metadata, dict) else {}
        invoice_id = _uuid(mine.get("firmsync_invoice_id")) or _uuid(intent.get("firmsync_invoice_id"))
        number = _text(mine.get("invoice_number")) or _text(intent.get("invoice_number"))
        stripe_invoice = raw.get("invoice")
        stripe_number = _text(stripe_invoice.get("number")) if isinstance(stripe_invoice, dict) else None
        return invoice_id, number, stripe_number

    def _values(
        self, ch: Any, invoice: Any | None, clients: dict[str, uuid.UUID], refunds: list[Any]
    ) -> dict[str, Any] | None:
        payment = charge_to_payment(ch.raw)
        if payment is None:
            return None
        net = payment.amount - payment.amount_refunded
        if net <= 0:
            return None
        if net != net.quantize(CENT):
            self.counts["payments_skipped_precision"] += 1
            return None
        client_id = clients.get(payment.client_external_id or "") or (invoice.client_id if invoice else None)
        if client_id is None:
            self.counts["payments_skipped_no_client"] += 1
            return None
        notes = f"Stripe charge {ch.external_id}: {payment.amount} {payment.currency}"
        if payment.amount_refunded > 0:
            detail = ", ".join(f"{r.external_id} {r.amount}" for r in refunds if r.amount)
            notes += f"; refunded {payment.amount_refunded} {payment.currency}" + (
                f" ({detail})" if detail else ""
            )
        return {
            "client_id": client_id,
            "amount": net.quantize(CENT),
            "currency": payment.currency,
            "received_date": payment.received_at.date(),
            "method": payment.method,
            "reference": (payment.reference or ch.external_id)[:100],
            "notes": notes,
        }

    @staticmethod
    def _payable(invoice: Any, values: dict[str, Any]) -> bool:
        return (
            invoice.deleted_at is None
            and invoice.status not in ("draft", "void")
            and invoice.client_id == values["client_id"]
            and invoice.currency.upper() == values["currency"].upper()
        )

    def allocations(
        self, payment_of: dict[tuple[str, str], uuid.UUID], invoice_of: dict[str, uuid.UUID]
    ) -> Allocations:
        """Each live payment to the invoice it pays, up to what the invoice still owes besides this
        connection's Stripe payments (oldest charge first)."""
        targets = {c.invoice.id: c.invoice for c in self.charges if c.values is not None and c.invoice}
        mine = [p for (entity, _), p in payment_of.items() if entity == ENTITY]
        others = {
            r.invoice_id: r.paid
            for r in rows(
                self.session,
                "select invoice_id, sum(amount) as paid from app.payment_allocations "
                "where invoice_id = any(:i) and deleted_at is null and not (payment_id = any(:p)) "
                "group by invoice_id",
                i=list(targets),
                p=mine,
            )
        }
        owed = {i: inv.total - others.get(i, Decimal(0)) for i, inv in targets.items()}
        desired: Allocations = {}
        for charge in self.charges:
            payment = payment_of.get((ENTITY, charge.external_id))
            if charge.values is None or charge.invoice is None or payment is None:
                continue
            amount = min(charge.values["amount"], owed[charge.invoice.id])
            if amount > 0:
                desired[(payment, charge.invoice.id)] = amount
                owed[charge.invoice.id] -= amount
        return desired


def merge_payments(session, tenant, connection_id) -> dict[str, int]:
    feed = _Payments(session, connection_id, tenant.firm_id)
    # Hash joins for the set-based reads: a fresh load has no statistics yet (see stripe.merge_clients).
    # (SET LOCAL: an error rolls the transaction back, and the setting with it.)
    session.execute(text("set local enable_nestloop = off"))
    counts = billing_merge.merge_payments(
        session,
        tenant,
        connection_id,
        PROVIDER,
        entities=(ENTITY,),
        sources=feed.sources,
        allocations=feed.allocations,
    )
    session.execute(text("set local enable_nestloop = on"))
    return counts | feed.counts


__all__ = ["merge_payments"]
