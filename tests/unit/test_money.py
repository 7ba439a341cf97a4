"""Money rules of core_api.billing.money: half-up per line in the currency's minor units, then summed."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest

from core_api.billing import money

D = Decimal


@pytest.mark.parametrize(
    ("currency", "exponent", "quantum"),
    [
        ("USD", 2, D("0.01")),
        ("EUR", 2, D("0.01")),
        ("GBP", 2, D("0.01")),
        ("JPY", 0, D("1")),
        ("KWD", 3, D("0.001")),
        ("usd", 2, D("0.01")),
    ],
)
def test_minor_units(currency, exponent, quantum):
    assert money.exponent(currency) == exponent
    assert money.quantum(currency) == quantum


def test_unknown_currency_is_an_error_not_a_guess():
    with pytest.raises(money.UnsupportedCurrency):
        money.exponent("XYZ")


@pytest.mark.parametrize(
    ("value", "currency", "rounded"),
    [
        (D("1.005"), "USD", D("1.01")),  # half-up, not banker's rounding (which gives 1.00)
        (D("1.0049999"), "USD", D("1.00")),
        (D("2.675"), "EUR", D("2.68")),  # float would give 2.67
        (D("0.125"), "GBP", D("0.13")),
        (D("100.5"), "JPY", D("101")),
        (D("101.5"), "JPY", D("102")),
        (D("0.4999"), "JPY", D("0")),
        (D("0.0005"), "KWD", D("0.001")),
    ],
)
def test_round_half_up(value, currency, rounded):
    assert money.round_money(value, currency) == rounded
    assert money.round_money(value, currency).as_tuple().exponent == -money.exponent(currency)


def test_lines_round_before_summing():
    lines = [money.price_line(D("1"), D("0.005"), None, "USD") for _ in range(3)]
    assert [line.amount for line in lines] == [D("0.01")] * 3
    assert money.totals(lines, "USD") == money.Totals(D("0.03"), D("0.00"), D("0.03"))  # not round(0.015)


def test_tax_is_a_percentage_of_the_rounded_line_amount():
    line = money.price_line(D("3"), D("0.335"), D("20"), "USD")  # 1.005 → 1.01; 20 % of 1.01 = 0.202
    assert (line.amount, line.tax_amount) == (D("1.01"), D("0.20"))
    assert money.price_line(D("1.5"), D("33.33"), D("8.875"), "USD").tax_amount == D("4.44")  # 4.4375
    assert money.price_line(D("3"), D("100.5"), D("10"), "JPY") == money.LineMoney(D("302"), D("30"))
    assert money.price_line(D("1"), D("10"), None, "USD").tax_amount == D("0.00")


def test_products_beyond_the_default_decimal_precision_stay_exact():
    big = D("99999999999999.9999")  # the largest Numeric(18, 4): the product has 36 digits, > 28
    with localcontext() as ctx:
        ctx.prec = 80
        exact = (big * big).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert money.line_amount(big, big, "USD") == exact
    assert exact > money.MAX_AMOUNT  # …which the service refuses with a 422 before it reaches SQL


@pytest.mark.parametrize(
    ("value", "currency", "exact"),
    [
        (D("10.50"), "USD", True),
        (D("10.505"), "USD", False),
        (D("100"), "JPY", True),
        (D("100.5"), "JPY", False),
        (D("100.00"), "JPY", True),
    ],
)
def test_is_exact(value, currency, exact):
    assert money.is_exact(value, currency) is exact
