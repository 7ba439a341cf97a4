"""Money arithmetic for billing: `Decimal` only, rounded to the currency's minor units.

Rules (the server is the only place totals are computed):
- a line's amount is `quantity * unit_price`, rounded ROUND_HALF_UP to the currency's minor unit;
- a line's tax is `amount * tax_rate / 100` (the rate is a percentage), rounded the same way;
- the invoice's subtotal and tax are the sums of the rounded line values, total = subtotal + tax.
Rounding per line and then summing is what the customer sees on the printed invoice, so the sum of the
printed lines always equals the printed total.

Pure functions, no database or web imports (used by services, tests and, later, pipelines).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal

# ISO 4217 minor units of the currencies a firm may bill in. Small on purpose: an unknown currency is an
# error, never a guess (KWD has 3 decimals, JPY none; guessing 2 would misprice both).
MINOR_UNITS: dict[str, int] = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CAD": 2,
    "AUD": 2,
    "NZD": 2,
    "CHF": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "HUF": 2,
    "ZAR": 2,
    "INR": 2,
    "SGD": 2,
    "HKD": 2,
    "CNY": 2,
    "MXN": 2,
    "BRL": 2,
    "AED": 2,
    "ILS": 2,
    "JPY": 0,
    "KRW": 0,
    "ISK": 0,
    "CLP": 0,
    "VND": 0,
    "BHD": 3,
    "JOD": 3,
    "KWD": 3,
    "OMR": 3,
    "TND": 3,
}

# Numeric(18, 2) columns hold at most 16 integer digits; anything larger is refused before it reaches SQL.
MAX_AMOUNT = Decimal("9999999999999999.99")
HUNDRED = Decimal(100)
ZERO = Decimal(0)
# Exact arithmetic for every input the API accepts: Numeric(18, 4) * Numeric(18, 4) has at most 36 digits,
# more than the default context's 28 (which would round the product, or fail to quantize it).
EXACT = Context(prec=60, rounding=ROUND_HALF_UP)


class UnsupportedCurrency(ValueError):
    pass


def exponent(currency: str) -> int:
    try:
        return MINOR_UNITS[currency.upper()]
    except KeyError:
        raise UnsupportedCurrency(f"currency {currency!r} is not supported for billing") from None


def quantum(currency: str) -> Decimal:
    """The minor unit as a Decimal exponent: Decimal('0.01') for USD, Decimal('1') for JPY."""
    return Decimal(1).scaleb(-exponent(currency))


def round_money(value: Decimal, currency: str) -> Decimal:
    return value.quantize(quantum(currency), rounding=ROUND_HALF_UP, context=EXACT)


def is_exact(value: Decimal, currency: str) -> bool:
    """True when `value` needs no rounding in this currency (e.g. 100.5 JPY is not a JPY amount)."""
    return value == round_money(value, currency)


def line_amount(quantity: Decimal, unit_price: Decimal, currency: str) -> Decimal:
    return round_money(EXACT.multiply(quantity, unit_price), currency)


def line_tax(amount: Decimal, tax_rate: Decimal | None, currency: str) -> Decimal:
    if not tax_rate:
        return round_money(ZERO, currency)
    return round_money(EXACT.divide(EXACT.multiply(amount, tax_rate), HUNDRED), currency)


@dataclass(frozen=True)
class LineMoney:
    amount: Decimal
    tax_amount: Decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal


def price_line(quantity: Decimal, unit_price: Decimal, tax_rate: Decimal | None, currency: str) -> LineMoney:
    amount = line_amount(quantity, unit_price, currency)
    return LineMoney(amount=amount, tax_amount=line_tax(amount, tax_rate, currency))


def total(amounts: Iterable[Decimal], currency: str) -> Decimal:
    result = round_money(ZERO, currency)
    for amount in amounts:
        result = EXACT.add(result, amount)
    return result


def totals(lines: Iterable[LineMoney], currency: str) -> Totals:
    priced = list(lines)
    subtotal = total((line.amount for line in priced), currency)
    tax_total = total((line.tax_amount for line in priced), currency)
    return Totals(subtotal=subtotal, tax_total=tax_total, total=EXACT.add(subtotal, tax_total))
