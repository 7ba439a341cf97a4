"""Line items and totals, shared by invoices and credit notes.

A line's ``LineAmount`` is Quantity * UnitAmount less ``DiscountRate`` percent, rounded to cents;
its ``TaxAmount`` follows ``LineAmountTypes``: ``Exclusive`` (tax on top), ``Inclusive`` (tax inside
the amount) or ``NoTax``. A line naming an ``ItemCode`` takes the item's sales details for whatever it
leaves out; a line without ``LineItemID`` is new (on update, Xero deletes the lines left out).
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from connectors.sandbox.xero.errors import Invalid
from connectors.sandbox.xero.jsonbody import CENT, QUANTITY
from connectors.sandbox.xero.tenant import Tenant

LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Totals:
    lines: list[dict[str, Any]]
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal


def _decimal(value: Any, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise Invalid(f"{what} must be a number") from exc
    if not number.is_finite():
        raise Invalid(f"{what} must be a number")
    return number


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def build_lines(tenant: Tenant, given: Any, line_amount_types: str, old_lines: list[dict]) -> Totals:
    if not isinstance(given, list):
        raise Invalid("LineItems must be a list")
    if line_amount_types not in LINE_AMOUNT_TYPES:
        raise Invalid(f"LineAmountTypes must be one of {', '.join(LINE_AMOUNT_TYPES)}")
    known_ids = {line["LineItemID"] for line in old_lines}
    lines = []
    for raw in given:
        if not isinstance(raw, dict):
            raise Invalid("Each line item must be an object")
        item = None
        if raw.get("ItemCode"):
            item = tenant.item_by_code(str(raw["ItemCode"]))
            if item is None:
                raise Invalid(f"Item code '{raw['ItemCode']}' is not valid")
        sales = item.entity.get("SalesDetails", {}) if item else {}
        description = raw.get("Description") or (item.entity.get("Description") if item else None)
        if not description:
            raise Invalid("The Description field is mandatory for each line item.")
        quantity = _decimal(raw.get("Quantity", 1) if raw.get("Quantity") is not None else 1, "Quantity")
        if raw.get("UnitAmount") is not None:
            unit = _decimal(raw["UnitAmount"], "UnitAmount")
        elif raw.get("LineAmount") is not None and quantity:
            unit = _decimal(raw["LineAmount"], "LineAmount") / quantity
        else:
            unit = Decimal(str(sales.get("UnitPrice", 0)))
        discount = (
            _decimal(raw["DiscountRate"], "DiscountRate") if raw.get("DiscountRate") is not None else None
        )
        account_code = raw.get("AccountCode") or sales.get("AccountCode")
        account = None
        if account_code:
            account = tenant.account_by_code(str(account_code))
            if account is None or account.entity["Status"] != "ACTIVE":
                raise Invalid(f"Account code '{account_code}' is not a valid code for this document.")
        tax_type = (
            raw.get("TaxType") or sales.get("TaxType") or (account.entity["TaxType"] if account else "NONE")
        )
        if line_amount_types == "NoTax":
            tax_type = "NONE"
        rate = tenant.tax_rates.get(str(tax_type))
        if rate is None:
            raise Invalid(
                f"The TaxType code '{tax_type}' does not exist or cannot be used for this type of "
                "transaction."
            )
        gross = quantity * unit * (1 - (discount or ZERO) / 100)
        line_amount = cents(gross)
        if line_amount_types == "Exclusive":
            tax = cents(line_amount * rate.rate / 100)
        elif line_amount_types == "Inclusive":
            tax = cents(line_amount - line_amount / (1 + rate.rate / 100))
        else:
            tax = ZERO
        line_id = str(raw.get("LineItemID") or "").lower()
        line: dict[str, Any] = {
            "LineItemID": line_id if line_id in known_ids else tenant.new_id(),
            "Description": str(description),
            "Quantity": quantity.quantize(QUANTITY),
            "UnitAmount": cents(unit),
            "TaxType": tax_type,
            "TaxAmount": tax,
            "LineAmount": line_amount,
            "Tracking": raw.get("Tracking") or [],
        }
        if item is not None:
            line["ItemCode"] = item.entity["Code"]
            line["Item"] = {"ItemID": item.id, "Name": item.entity["Name"], "Code": item.entity["Code"]}
        if account is not None:
            line["AccountCode"] = account.entity["Code"]
            line["AccountID"] = account.id
        if discount is not None:
            line["DiscountRate"] = discount.quantize(CENT)
        lines.append(line)
    total_tax = sum((line["TaxAmount"] for line in lines), ZERO)
    amounts = sum((line["LineAmount"] for line in lines), ZERO)
    if line_amount_types == "Inclusive":
        return Totals(lines, amounts - total_tax, total_tax, amounts)
    return Totals(lines, amounts, total_tax, amounts + total_tax)
