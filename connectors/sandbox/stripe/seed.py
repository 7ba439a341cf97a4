"""Seeded accounts: customers (the firm's clients) and their card payments, some refunded, with `created`
spread over a span before an anchor instant, and the events that history would have recorded."""

import random
from dataclasses import dataclass

from connectors.sandbox.common.fake_parties import make_party
from connectors.sandbox.stripe import book
from connectors.sandbox.stripe.account import Account

DAY = 86_400
SERVICES = (
    "Monthly bookkeeping",
    "Tax return preparation",
    "Payroll services",
    "Advisory retainer",
    "Audit support",
)
# Zero-decimal currencies have no minor unit: 120000 JPY is ¥120,000, 120000 USD is $1,200.00.
AMOUNT_RANGE = {"jpy": (5_000, 400_000), "krw": (50_000, 4_000_000)}
DEFAULT_RANGE = (5_000, 400_000)


@dataclass(frozen=True)
class SeedSpec:
    customers: int
    payments: int
    refund_share: float
    currency: str
    seed: int
    anchor: float
    spread_days: float


def seed_account(account: Account, spec: SeedSpec) -> dict[str, int]:
    rng = random.Random(spec.seed)  # noqa: S311 - fake data, not security
    start = int(spec.anchor - spec.spread_days * DAY)
    end = int(spec.anchor)
    customer_times = sorted(rng.randint(start, end) for _ in range(spec.customers))
    customers = []
    for created in customer_times:
        party = make_party(rng)
        customers.append(
            book.add_customer(
                account,
                created,
                notify=False,
                name=party.display_name,
                email=party.email,
                phone=party.phone,
                address={
                    "city": party.address.city,
                    "country": "US",
                    "line1": party.address.line1,
                    "line2": None,
                    "postal_code": party.address.postal_code,
                    "state": party.address.state,
                },
                metadata={"firm_client_kind": "company" if party.is_company else "individual"},
            )
        )
    low, high = AMOUNT_RANGE.get(spec.currency, DEFAULT_RANGE)
    refunds = 0
    for _ in range(spec.payments if customers else 0):
        customer = rng.choice(customers)
        created = rng.randint(customer["created"], end)
        _, charge = book.pay(
            account,
            created,
            amount=rng.randint(low, high),
            currency=spec.currency,
            customer_id=customer["id"],
            description=rng.choice(SERVICES),
            card=rng.choice(book.CARDS),
            notify=False,
        )
        if rng.random() < spec.refund_share:
            partial = rng.random() < 0.5
            amount = max(1, charge["amount"] // 2) if partial else None
            book.refund(
                account,
                charge["id"],
                rng.randint(created, end),
                amount=amount,
                reason="requested_by_customer",
                notify=False,
            )
            refunds += 1
    return counts(account)


def counts(account: Account) -> dict[str, int]:
    return {name: len(table.rows) for name, table in account.tables.items()}
