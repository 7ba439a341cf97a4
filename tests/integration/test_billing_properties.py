"""Property tests: the server's money is exact to the currency's minor unit, in USD, JPY and EUR.

- totals: 1,000 random line sets → per-line amounts and taxes, subtotal, tax, total and balance due;
- balances: random line sets paid by random allocations from two payments, some removed again → amount
  paid, balance due, status and each payment's unallocated amount after every step.

Invoices are created through the service layer (what the HTTP handlers call) in the test's rolled-back
transaction. Expected values are computed here from first principles — integer arithmetic in minor units
with an explicit half-up rule — never with the production `core_api.billing.money` functions.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from core_api.billing import service
from core_api.billing.schemas import AllocationCreate, InvoiceCreate, PaymentCreate
from core_api.clients.schemas import ClientCreate
from core_api.clients.service import create_client
from core_api.db import bind_tenant
from core_api.tenancy import Role, issue_tenant_context
from tests.conftest import set_firm

# ISO 4217 minor units, written down independently of the production table.
MINOR_UNITS = {"USD": 2, "JPY": 0, "EUR": 2}
TOTALS_EXAMPLES = 1000
BALANCE_EXAMPLES = 1000


def _fixed(low: int, high: int, places: int = 4) -> st.SearchStrategy[Decimal]:
    """Decimals with `places` decimal places between low and high (given in 10^-places units)."""
    return st.integers(min_value=low, max_value=high).map(lambda n: Decimal(n).scaleb(-places))


quantities = _fixed(1, 10_000 * 10**4)  # 0.0001 .. 10,000
unit_prices = _fixed(0, 100_000 * 10**4)  # 0 .. 100,000.0000
tax_rates = st.one_of(
    st.none(),
    st.sampled_from([Decimal("0"), Decimal("5"), Decimal("8.875"), Decimal("19"), Decimal("20")]),
    _fixed(0, 100 * 10**4),  # 0 .. 100 %
)
line_sets = st.lists(st.tuples(quantities, unit_prices, tax_rates), min_size=1, max_size=6)


def _half_up(numerator: int, denominator: int) -> int:
    """round(numerator / denominator) with halves away from zero, for numerator >= 0."""
    return (2 * numerator + denominator) // (2 * denominator)


def _scaled(value: Decimal, places: int) -> int:
    scaled = value.scaleb(places)
    assert scaled == scaled.to_integral_value()
    return int(scaled)


def _expected(lines, places: int) -> dict:
    """Minor units per line: amount = q * p, tax = amount * rate / 100, each rounded half-up."""
    amounts, taxes = [], []
    for quantity, unit_price, rate in lines:
        q, p = _scaled(quantity, 4), _scaled(unit_price, 4)  # q / 10^4, p / 10^4
        amount = _half_up(q * p * 10**places, 10**8)
        tax = 0 if rate is None else _half_up(amount * _scaled(rate, 4), 100 * 10**4)
        amounts.append(amount)
        taxes.append(tax)
    return {"amounts": amounts, "taxes": taxes, "subtotal": sum(amounts), "tax": sum(taxes)}


def _text(minor: int, places: int) -> str:
    """What the API must print: 1234 minor units → "12.34" in USD, "1234" in JPY."""
    return str(Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places)))


def _money_text(out: dict, *fields: str) -> tuple[str, ...]:
    return tuple(out[field] for field in fields)


@pytest.fixture
def firms(app_connection):
    """One firm per currency, each with a client and two large payments; and a session factory."""

    def session_for(tenant) -> Session:
        # Sessions share the test's connection (and its rolled-back transaction) through savepoints, so
        # each unit of work gets its own session, as each HTTP request does.
        session = Session(
            bind=app_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        return bind_tenant(session, tenant)

    made = {}
    for currency in MINOR_UNITS:
        firm_id = uuid.uuid4()
        set_firm(app_connection, firm_id)
        app_connection.execute(
            text("insert into app.firms (id, name, slug, currency) values (:f, :n, :s, :c)"),
            {"f": firm_id, "n": f"{currency} firm", "s": f"money-{firm_id.hex[:12]}", "c": currency},
        )
        set_firm(app_connection, None)
        tenant = issue_tenant_context(firm_id, Role.billing)
        with session_for(tenant) as session:
            client = create_client(session, tenant, ClientCreate(name=f"{currency} client"))
            payments = [
                service.create_payment(
                    session, tenant, PaymentCreate(client_id=client.id, amount=Decimal("900000000000000"))
                ).id
                for _ in range(2)
            ]
        made[currency] = (tenant, client.id, payments)
    return made, session_for


def _create(session_for, tenant, client_id, lines) -> dict:
    body = InvoiceCreate(
        client_id=client_id,
        lines=[{"description": "work", "quantity": q, "unit_price": p, "tax_rate": r} for q, p, r in lines],
    )
    with session_for(tenant) as session:
        return service.create_invoice(session, tenant, body).model_dump(mode="json")


def test_totals_are_exact_to_the_minor_unit(firms):
    made, session_for = firms

    @settings(
        max_examples=TOTALS_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(currency=st.sampled_from(sorted(MINOR_UNITS)), lines=line_sets)
    def check(currency, lines):
        places = MINOR_UNITS[currency]
        tenant, client_id, _payments = made[currency]
        want = _expected(lines, places)
        total = want["subtotal"] + want["tax"]
        created = _create(session_for, tenant, client_id, lines)
        assert created["currency"] == currency
        assert [line["amount"] for line in created["lines"]] == [_text(a, places) for a in want["amounts"]]
        assert [line["tax_amount"] for line in created["lines"]] == [_text(t, places) for t in want["taxes"]]
        assert _money_text(created, "subtotal", "tax_total", "total", "amount_paid", "balance_due") == (
            _text(want["subtotal"], places),
            _text(want["tax"], places),
            _text(total, places),
            _text(0, places),
            _text(total, places),
        )

    check()


def test_balances_follow_allocations_exactly(firms):
    made, session_for = firms

    @settings(
        max_examples=BALANCE_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(currency=st.sampled_from(sorted(MINOR_UNITS)), lines=line_sets, data=st.data())
    def check(currency, lines, data):
        places = MINOR_UNITS[currency]
        tenant, client_id, payments = made[currency]
        want = _expected(lines, places)
        total = want["subtotal"] + want["tax"]
        invoice_id = _create(session_for, tenant, client_id, lines)["id"]
        with session_for(tenant) as session:
            service.send_invoice(session, tenant, invoice_id, None)

        def read() -> dict:
            with session_for(tenant) as session:
                return service.get_invoice(session, tenant, invoice_id).model_dump(mode="json")

        def unallocated(payment_id) -> str:
            with session_for(tenant) as session:
                return service.get_payment(session, tenant, payment_id).model_dump(mode="json")["unallocated"]

        before = {p: unallocated(p) for p in payments}
        allocations: list[tuple[str, object, int]] = []  # (allocation id, payment id, minor units)
        paid = 0
        for payment_id in payments:
            if paid == total or not data.draw(st.booleans(), label="allocate from this payment"):
                continue
            share = data.draw(st.integers(min_value=1, max_value=total - paid), label="minor units")
            body = AllocationCreate(invoice_id=invoice_id, amount=Decimal(share).scaleb(-places))
            with session_for(tenant) as session:
                allocation = service.create_allocation(session, tenant, payment_id, body)
            allocations.append((allocation.id, payment_id, share))
            paid += share
            state = read()
            assert state["amount_paid"] == _text(paid, places)
            assert state["balance_due"] == _text(total - paid, places)
            assert state["status"] == ("paid" if paid == total else "partial")
        if allocations and data.draw(st.booleans(), label="remove one allocation"):
            allocation_id, payment_id, share = allocations.pop(0)
            with session_for(tenant) as session:
                service.delete_allocation(session, tenant, payment_id, allocation_id, None)
            paid -= share
        state = read()
        assert state["total"] == _text(total, places)
        assert state["amount_paid"] == _text(paid, places)
        assert state["balance_due"] == _text(total - paid, places)
        assert state["status"] == ("paid" if paid == total else "partial" if paid else "sent")
        for payment_id in payments:
            spent = sum(share for _a, p, share in allocations if p == payment_id)
            start = _scaled(Decimal(before[payment_id]), places)
            assert unallocated(payment_id) == _text(start - spent, places)

    check()
