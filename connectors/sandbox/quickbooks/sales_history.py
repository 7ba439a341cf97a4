"""Seeded sales history: invoices a firm sends its clients, the payments that settle them (fully or in
part), a few credit memos and a voided invoice. Deterministic for a seed, an anchor and the company's
customers, so the demo company is identical after every restart.

Everything is written through the realm's own create / void path in time order, as a bookkeeper would
have entered it, so Ids, DocNumbers, SyncTokens, balances and LinkedTxn are exactly what the API
produces. Customers are never modified.
"""

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.sandbox.quickbooks.realm import QUICKBOOKS_USER, Realm
from connectors.sandbox.quickbooks.table import EntityRow

DAY = 86_400
# (item, quantities, unit prices, line description)
FIRM_WORK: tuple[tuple[str, tuple[float, ...], tuple[float, ...], str], ...] = (
    ("Tax preparation", (1,), (450, 650, 900, 1250), "{year} income tax returns, federal and state"),
    ("Advisory hours", (1, 1.5, 2, 3, 4, 6, 8, 10), (175, 225), "Advisory: {topic}"),
    ("Bookkeeping", (1, 2, 3), (350, 500, 750), "Monthly bookkeeping, {month}"),
    ("Payroll processing", (1, 2), (95, 145), "Payroll runs, {month}"),
    ("Filing fees", (1,), (25, 70, 125), "State filing fee"),
)
TOPICS = (
    "entity structure",
    "cash-flow forecast",
    "year-end tax planning",
    "sales tax nexus review",
    "retirement plan options",
    "quarterly estimated taxes",
    "loan application package",
)
PRIVATE_NOTES = (
    "Engagement letter on file.",
    "Client asked for a payment plan.",
    "Rush job before the filing deadline.",
    "Billed per the fixed-fee agreement.",
)
PAYMENT_METHODS_NOTE = ("Check", "ACH", "Card on file", "Wire")


@dataclass(order=True)
class _Step:
    at: float
    order: int
    run: Callable[[], None] = field(compare=False)


@dataclass
class SalesPlan:
    """How much history to write: ``invoices`` for the given customers between ``start`` and ``end``."""

    customers: list[EntityRow]
    invoices: int
    start: float
    end: float
    paid_share: float = 0.55
    partly_paid_share: float = 0.15
    credit_memos: int = 0
    voided: int = 0


def write_sales_history(realm: Realm, plan: SalesPlan, rng: random.Random) -> dict[str, Any]:
    """Create the planned transactions in time order; return what was made, by entity."""
    made: dict[str, list[EntityRow]] = {"Invoice": [], "Payment": [], "CreditMemo": []}
    steps: list[_Step] = []
    order = itertools.count()

    def at_time(at: float, run: Callable[[], None]) -> None:
        steps.append(_Step(at, next(order), run))

    open_invoices: list[tuple[float, dict[str, EntityRow], EntityRow]] = []
    # A client is invoiced only once they are on the books.
    customers = [row for row in plan.customers if row.created + 3600 < plan.end]
    for _ in range(plan.invoices if customers else 0):
        customer = rng.choice(customers)
        at = rng.uniform(max(plan.start, customer.created + 3600), plan.end)
        body = _invoice_body(realm, rng, customer, at)
        total = round(sum(line["Amount"] for line in body["Line"]), 2)
        holder: dict[str, EntityRow] = {}
        at_time(at, _creator(realm, "Invoice", body, at, made, holder))
        draw = rng.random()
        pay_at = at + rng.uniform(5, 45) * DAY
        if pay_at >= plan.end:  # a recent invoice that gets paid was paid sooner
            pay_at = at + rng.random() * (plan.end - at)
        if draw < plan.paid_share + plan.partly_paid_share:
            share = 1.0 if draw < plan.paid_share else rng.choice((0.25, 0.4, 0.5, 0.6))
            amount = round(total * share, 2)
            at_time(pay_at, _payment(realm, rng, customer, amount, holder, pay_at, made))
        else:
            open_invoices.append((at, holder, customer))
    rng.shuffle(open_invoices)
    for at, holder, _ in open_invoices[: plan.voided]:
        void_at = min(at + rng.uniform(1, 10) * DAY, plan.end)
        at_time(void_at, _voider(realm, holder, void_at))
    for at, holder, customer in open_invoices[plan.voided : plan.voided + plan.credit_memos]:
        credit_at = min(at + rng.uniform(2, 20) * DAY, plan.end)
        amount = rng.choice((75, 100, 150, 250))
        credit = _credit_memo_body(realm, customer, amount, credit_at)
        credit_holder: dict[str, EntityRow] = {}
        at_time(credit_at, _creator(realm, "CreditMemo", credit, credit_at, made, credit_holder))
        apply_at = min(credit_at + 3600, plan.end)
        at_time(apply_at, _credit_applied(realm, customer, amount, holder, credit_holder, apply_at, made))
    for step in sorted(steps):
        step.run()
    return {name: [row.id for row in rows] for name, rows in made.items()}


def _txn_date(realm: Realm, at: float) -> str:
    return datetime.fromtimestamp(at, realm.zone).date().isoformat()


def _invoice_body(realm: Realm, rng: random.Random, customer: EntityRow, at: float) -> dict[str, Any]:
    when = datetime.fromtimestamp(at, realm.zone)
    lines = []
    for item_name, quantities, prices, description in rng.sample(FIRM_WORK, rng.choice((1, 1, 2, 2, 3))):
        item = realm.items.get(realm.items.id_for_name(item_name))  # type: ignore[arg-type]
        qty, price = rng.choice(quantities), rng.choice(prices)
        text = description.format(year=when.year - 1, topic=rng.choice(TOPICS), month=when.strftime("%B %Y"))
        lines.append(
            {
                "Amount": round(qty * price, 2),
                "Description": text,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": str(item.id)}, "Qty": qty, "UnitPrice": price},  # type: ignore[union-attr]
            }
        )
    body: dict[str, Any] = {
        "CustomerRef": {"value": str(customer.id)},
        "TxnDate": _txn_date(realm, at),
        "Line": lines,
        "EmailStatus": "EmailSent" if rng.random() < 0.8 else "NotSet",
    }
    if rng.random() < 0.2:
        body["PrivateNote"] = rng.choice(PRIVATE_NOTES)
    return body


def _credit_memo_body(realm: Realm, customer: EntityRow, amount: float, at: float) -> dict[str, Any]:
    item_id = realm.items.id_for_name("Advisory hours")
    return {
        "CustomerRef": {"value": str(customer.id)},
        "TxnDate": _txn_date(realm, at),
        "PrivateNote": "Courtesy credit",
        "Line": [
            {
                "Amount": amount,
                "Description": "Courtesy credit: advisory time written off",
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": str(item_id)}},
            }
        ],
    }


def _creator(
    realm: Realm,
    entity: str,
    body: dict[str, Any],
    at: float,
    made: dict[str, list[EntityRow]],
    holder: dict[str, EntityRow],
) -> Callable[[], None]:
    def run() -> None:
        holder["row"] = realm.create(entity, body, at, QUICKBOOKS_USER)
        made[entity].append(holder["row"])

    return run


def _payment(
    realm: Realm,
    rng: random.Random,
    customer: EntityRow,
    amount: float,
    invoice: dict[str, EntityRow],
    at: float,
    made: dict[str, list[EntityRow]],
) -> Callable[[], None]:
    reference = f"{rng.choice(PAYMENT_METHODS_NOTE)} {rng.randint(1000, 9999)}"

    def run() -> None:
        body = {
            "CustomerRef": {"value": str(customer.id)},
            "TotalAmt": amount,
            "TxnDate": _txn_date(realm, at),
            "PaymentRefNum": reference,
            "Line": [
                {"Amount": amount, "LinkedTxn": [{"TxnId": str(invoice["row"].id), "TxnType": "Invoice"}]}
            ],
        }
        made["Payment"].append(realm.create("Payment", body, at, QUICKBOOKS_USER))

    return run


def _voider(realm: Realm, invoice: dict[str, EntityRow], at: float) -> Callable[[], None]:
    def run() -> None:
        realm.void("Invoice", realm.token_body("Invoice", invoice["row"].id), at, QUICKBOOKS_USER)

    return run


def _credit_applied(
    realm: Realm,
    customer: EntityRow,
    amount: float,
    invoice: dict[str, EntityRow],
    credit: dict[str, EntityRow],
    at: float,
    made: dict[str, list[EntityRow]],
) -> Callable[[], None]:
    """QBO applies a credit memo to an invoice with a zero-amount payment linking both."""

    def run() -> None:
        open_amount = realm.invoices.get(invoice["row"].id).entity["Balance"]  # type: ignore[union-attr]
        applied = min(amount, open_amount)
        if applied <= 0:
            return
        body = {
            "CustomerRef": {"value": str(customer.id)},
            "TotalAmt": 0,
            "TxnDate": _txn_date(realm, at),
            "Line": [
                {"Amount": applied, "LinkedTxn": [{"TxnId": str(invoice["row"].id), "TxnType": "Invoice"}]},
                {"Amount": applied, "LinkedTxn": [{"TxnId": str(credit["row"].id), "TxnType": "CreditMemo"}]},
            ],
        }
        made["Payment"].append(realm.create("Payment", body, at, QUICKBOOKS_USER))

    return run


def seed_demo_books(realm: Realm, seed: int, anchor: float) -> dict[str, Any]:
    """The demo firm's last year: invoices for about 45% of its active clients, most of them paid."""
    rng = random.Random(f"qbo-books:{seed}")  # noqa: S311 - fake data, not secrets
    active = [row for row in realm.customers.in_id_order() if row.active]
    billed = [row for row in active if rng.random() < 0.45]
    if not billed:
        return {"Invoice": [], "Payment": [], "CreditMemo": []}
    plan = SalesPlan(
        customers=billed,
        invoices=round(len(billed) * 2.2),
        start=anchor - 365 * DAY,
        end=anchor - 3600,
        credit_memos=max(1, len(billed) // 40),
        voided=1,
    )
    return write_sales_history(realm, plan, rng)


def add_invoices(
    realm: Realm, count: int, seed: int, now: float, days: float, paid_share: float, partly_paid_share: float
) -> dict[str, Any]:
    """Bulk history for benchmarks: ``count`` invoices for random active customers over ``days``."""
    rng = random.Random(f"qbo-invoices:{seed}:{realm.invoices.last_id}")  # noqa: S311 - fake data
    active = [row for row in realm.customers.in_id_order() if row.active]
    plan = SalesPlan(
        customers=active,
        invoices=count,
        start=now - days * DAY,
        end=now,
        paid_share=paid_share,
        partly_paid_share=partly_paid_share,
    )
    return write_sales_history(realm, plan, rng)
