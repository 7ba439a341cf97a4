"""Invoice and CreditMemo: lines, totals, balances, and the references they must carry.

From the Invoice and CreditMemo references and Intuit's published examples:
- Create needs CustomerRef (2020 if missing, 2500 if unknown, 610 if the customer is inactive) and at
  least one Line. A SalesItemLineDetail line needs its ItemRef (2500 "Invalid Reference Id :
  Line.SalesItemLineDetail.ItemRef" when the item does not exist); TaxCodeRef is TAX or NON in a US
  company and defaults from the item's Taxable flag.
- The server owns TotalAmt, Balance, the SubTotalLine it appends, line Ids and LineNum, the names on
  references, and LinkedTxn (the payments applied). It fills DocNumber (next number), TxnDate (today in
  the company zone), DueDate (Net 30), BillAddr and BillEmail (from the customer) when the client leaves
  them out.
- Void (invoices only) zeroes every amount and notes "Voided"; delete removes the transaction for good.
  Either one unapplies the payments that were applied to it.

Sales tax is not calculated: TxnTaxDetail.TotalTax is 0 (a firm's services are not taxable).
"""

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.sandbox.quickbooks import errors
from connectors.sandbox.quickbooks.catalog import USD, account_ref
from connectors.sandbox.quickbooks.fields import (
    Schema,
    check_date,
    money,
    ref_id,
    strip_empty,
    to_number,
    writable_fields,
)
from connectors.sandbox.quickbooks.table import EntityRow

if TYPE_CHECKING:
    from connectors.sandbox.quickbooks.realm import Realm

DEFAULT_TERMS_DAYS = 30  # a new company's default sales terms: Net 30
VOIDED_NOTE = "Voided"
_COMMON = Schema(
    strings=frozenset(
        (
            "DocNumber",
            "PrivateNote",
            "PrintStatus",
            "EmailStatus",
            "GlobalTaxCalculation",
            "TransactionLocationType",
        )
    ),
    dates=frozenset(("TxnDate",)),
    bools=frozenset(("ApplyTaxAfterDiscount", "FreeFormAddress")),
    numbers=frozenset(("ExchangeRate",)),
    objects=frozenset(
        (
            "CustomerRef",
            "CustomerMemo",
            "BillAddr",
            "ShipAddr",
            "ShipFromAddr",
            "BillEmail",
            "ClassRef",
            "DepartmentRef",
            "CurrencyRef",
            "SalesTermRef",
            "TxnTaxDetail",
            "ProjectRef",
            "TaxExemptionRef",
            "RecurDataRef",
            "PaymentMethodRef",
            "DepositToAccountRef",
        )
    ),
    lists=frozenset(("Line", "CustomField")),
    server_owned=frozenset(
        ("TotalAmt", "HomeTotalAmt", "Balance", "HomeBalance", "LinkedTxn", "TxnSource", "RecurringInfo")
    ),
)
INVOICE_SCHEMA = Schema(
    strings=_COMMON.strings | {"TrackingNum", "InvoiceLink"},
    dates=_COMMON.dates | {"DueDate", "ShipDate"},
    bools=_COMMON.bools
    | {"AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineACHPayment", "AllowOnlineCreditCardPayment"},
    numbers=_COMMON.numbers | {"Deposit"},
    objects=_COMMON.objects | {"BillEmailCc", "BillEmailBcc", "ShipMethodRef", "DeliveryInfo"},
    lists=_COMMON.lists,
    server_owned=_COMMON.server_owned | {"EInvoiceStatus", "ECloudStatusTimeStamp", "InvoiceLink"},
)
CREDIT_MEMO_SCHEMA = Schema(
    strings=_COMMON.strings,
    dates=_COMMON.dates,
    bools=_COMMON.bools,
    numbers=_COMMON.numbers,
    objects=_COMMON.objects,
    lists=_COMMON.lists,
    server_owned=_COMMON.server_owned | {"RemainingCredit"},
)
LINE_KEYS = frozenset(
    (
        "Id",
        "LineNum",
        "Description",
        "Amount",
        "DetailType",
        "SalesItemLineDetail",
        "DescriptionLineDetail",
        "DiscountLineDetail",
        "SubTotalLineDetail",
        "SubtotalLineDetail",
        "GroupLineDetail",
        "LinkedTxn",
        "CustomField",
        "ProjectRef",
    )
)
SALES_DETAIL_KEYS = frozenset(
    (
        "ItemRef",
        "ItemAccountRef",
        "TaxCodeRef",
        "ClassRef",
        "PriceLevelRef",
        "MarkupInfo",
        "Qty",
        "UnitPrice",
        "ServiceDate",
        "TaxInclusiveAmt",  # non-US companies only; dropped
        "DiscountRate",
        "DiscountAmt",
    )
)
_SERVER_SET_DETAIL = ("ItemRef", "ItemAccountRef", "TaxCodeRef", "Qty", "UnitPrice", "TaxInclusiveAmt")
DETAIL_OF = {
    "SalesItemLineDetail": "SalesItemLineDetail",
    "DescriptionOnly": "DescriptionLineDetail",
    "DiscountLineDetail": "DiscountLineDetail",
    "SubTotalLineDetail": "SubTotalLineDetail",
    "GroupLineDetail": "GroupLineDetail",
}


def _customer_ref(realm: "Realm", ref: Any) -> EntityRow:
    if not ref:
        raise errors.required_param_missing("CustomerRef")
    row = realm.customers.lookup(ref_id(ref)) if ref_id(ref) else None
    if row is None:
        raise errors.invalid_reference("CustomerRef")
    if not row.active:
        raise errors.inactive_reference("CustomerRef")
    return row


def _tax_code(realm: "Realm", ref: Any, element: str, default: str) -> dict[str, str]:
    if ref is None:
        return {"value": default}
    row = realm.tax_codes.lookup(ref_id(ref)) if ref_id(ref) else None
    if row is None:
        raise errors.invalid_reference(element)
    return {"value": str(row.id)}


def _sales_item_line(realm: "Realm", line: dict[str, Any]) -> tuple[dict[str, Any], float]:
    element = "Line.SalesItemLineDetail"
    detail = line.get("SalesItemLineDetail")
    if not isinstance(detail, dict):
        raise errors.required_param_missing(element)
    for key in detail:
        if key not in SALES_DETAIL_KEYS:
            raise errors.invalid_property(f"{element}.{key}")
    if not detail.get("ItemRef"):
        raise errors.required_param_missing(f"{element}.ItemRef")
    item = realm.items.lookup(ref_id(detail["ItemRef"])) if ref_id(detail["ItemRef"]) else None
    if item is None:
        raise errors.invalid_reference(f"{element}.ItemRef")
    if not item.active:
        raise errors.inactive_reference(f"{element}.ItemRef")
    qty = to_number(detail["Qty"], f"{element}.Qty") if "Qty" in detail else None
    unit_price = to_number(detail["UnitPrice"], f"{element}.UnitPrice") if "UnitPrice" in detail else None
    if "Amount" in line:
        amount = money(to_number(line["Amount"], "Line.Amount"))
    elif qty is not None and unit_price is not None:
        amount = money(qty * unit_price)
    else:
        raise errors.required_param_missing("Line.Amount")
    if "ServiceDate" in detail:
        check_date(detail["ServiceDate"], f"{element}.ServiceDate")
    built: dict[str, Any] = {
        **{k: v for k, v in detail.items() if k not in _SERVER_SET_DETAIL},
        "ItemRef": {"value": str(item.id), "name": item.entity["Name"]},
    }
    if "IncomeAccountRef" in item.entity:
        built["ItemAccountRef"] = dict(item.entity["IncomeAccountRef"])
    if unit_price is not None:
        built["UnitPrice"] = unit_price
    if qty is not None:
        built["Qty"] = qty
    default_code = "TAX" if item.entity.get("Taxable") else "NON"
    built["TaxCodeRef"] = _tax_code(realm, detail.get("TaxCodeRef"), f"{element}.TaxCodeRef", default_code)
    return built, amount


def build_lines(
    realm: "Realm", lines: list[dict[str, Any]], previous: list[dict[str, Any]] | None = None
) -> tuple[list[dict[str, Any]], float]:
    """Validate the client's lines; return them as QBO stores them (SubTotalLine appended) and the total."""
    known_ids = {line["Id"] for line in previous or () if "Id" in line}
    next_id = max((int(i) for i in known_ids if str(i).isdigit()), default=0)
    items: list[dict[str, Any]] = []
    discounts: list[dict[str, Any]] = []
    subtotal = 0.0
    for raw in lines:
        line = strip_empty(raw) or {}
        for key in line:
            if key not in LINE_KEYS:
                raise errors.invalid_property(f"Line.{key}")
        detail_type = line.get("DetailType") or next((t for t, d in DETAIL_OF.items() if d in line), None)
        if detail_type is None:
            raise errors.required_param_missing("Line.DetailType")
        if detail_type == "SubTotalLineDetail":
            continue  # computed by the server; SDKs echo the one they read
        if detail_type == "GroupLineDetail":
            raise errors.unsupported_operation(
                "Group lines (GroupLineDetail) are not emulated by this sandbox"
            )
        if detail_type not in DETAIL_OF:
            raise errors.invalid_value(f"Invalid Enumeration : Line.DetailType {detail_type}")
        out: dict[str, Any] = {}
        if line.get("Id") in known_ids:
            out["Id"] = line["Id"]
        else:
            next_id += 1
            out["Id"] = str(next_id)
        if "Description" in line:
            out["Description"] = line["Description"]
        if detail_type == "SalesItemLineDetail":
            detail, amount = _sales_item_line(realm, line)
            subtotal += amount
            items.append({**out, "Amount": amount, "DetailType": detail_type, detail_type: detail})
        elif detail_type == "DescriptionOnly":
            detail = dict(line.get("DescriptionLineDetail") or {})
            if "ServiceDate" in detail:
                check_date(detail["ServiceDate"], "Line.DescriptionLineDetail.ServiceDate")
            items.append({**out, "DetailType": detail_type, "DescriptionLineDetail": detail})
        else:
            discounts.append({**out, "_raw": line})
    for number, line in enumerate(items, start=1):
        line["LineNum"] = number
    built = [
        *items,
        {"Amount": money(subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}},
    ]
    discount_total = 0.0
    for line in discounts:
        raw = line.pop("_raw")
        detail = dict(raw.get("DiscountLineDetail") or {})
        if detail.get("PercentBased"):
            percent = to_number(detail.get("DiscountPercent", 0), "Line.DiscountLineDetail.DiscountPercent")
            amount = money(subtotal * percent / 100)
        else:
            amount = money(to_number(raw.get("Amount", 0), "Line.Amount"))
        detail["DiscountAccountRef"] = _discount_account(realm, detail.get("DiscountAccountRef"))
        discount_total += amount
        built.append(
            {**line, "Amount": amount, "DetailType": "DiscountLineDetail", "DiscountLineDetail": detail}
        )
    if not items:
        raise errors.required_param_missing("Line")
    return built, money(subtotal - discount_total)


def _discount_account(realm: "Realm", ref: Any) -> dict[str, str]:
    if ref is None:
        row = realm.accounts.id_for_name("Discounts given")
        ref = {"value": str(row)} if row is not None else None
    if ref is None:
        raise errors.required_param_missing("Line.DiscountLineDetail.DiscountAccountRef")
    return account_ref(realm, ref, "Line.DiscountLineDetail.DiscountAccountRef")


class SalesFormRules:
    """What Invoice and CreditMemo share; the subclasses add due dates (invoices) or remaining credit."""

    entity = ""
    schema = INVOICE_SCHEMA
    defaults: dict[str, Any] = {}

    def create(self, realm: "Realm", entity_id: int, body: dict[str, Any], now: float) -> dict[str, Any]:
        fields = writable_fields(body, self.schema)
        entity: dict[str, Any] = {
            "Id": str(entity_id),
            "domain": "QBO",
            "sparse": False,
            "CustomField": [],
            "CurrencyRef": USD,
            "LinkedTxn": [],
            "ApplyTaxAfterDiscount": False,
            "PrintStatus": "NotSet",
            "EmailStatus": "NotSet",
            **self.defaults,
            **fields,
        }
        entity.setdefault("TxnDate", datetime.fromtimestamp(now, realm.zone).date().isoformat())
        entity.setdefault("DocNumber", realm.next_doc_number())
        return self._finish(realm, entity, [], 0.0)

    def update(
        self, realm: "Realm", current: EntityRow, body: dict[str, Any], sparse: bool
    ) -> dict[str, Any]:
        fields = writable_fields(body, self.schema)
        old = current.entity
        if sparse:
            entity = {**old, "sparse": False, **fields}
        else:
            kept = ("Id", "domain", "CurrencyRef", "LinkedTxn", "DocNumber", "TxnDate")
            entity = {
                **{k: old[k] for k in kept if k in old},
                "sparse": False,
                "CustomField": [],
                "ApplyTaxAfterDiscount": False,
                "PrintStatus": "NotSet",
                "EmailStatus": "NotSet",
                **self.defaults,
                **fields,
            }
        return self._finish(realm, entity, old.get("Line", []), realm.applied_to(self.entity, current.id))

    def _finish(
        self, realm: "Realm", entity: dict[str, Any], previous_lines: list[dict], applied: float
    ) -> dict[str, Any]:
        # Required properties first, then what they refer to.
        if not entity.get("CustomerRef"):
            raise errors.required_param_missing("CustomerRef")
        if "Line" not in entity:
            raise errors.required_param_missing("Line")
        customer = _customer_ref(realm, entity["CustomerRef"])
        entity["CustomerRef"] = {"value": str(customer.id), "name": customer.entity["DisplayName"]}
        entity["Line"], total = build_lines(realm, entity["Line"], previous_lines)
        tax_detail = {k: v for k, v in (entity.get("TxnTaxDetail") or {}).items() if k == "TxnTaxCodeRef"}
        entity["TxnTaxDetail"] = {**tax_detail, "TotalTax": 0}
        entity["TotalAmt"] = total
        balance = money(total - applied)
        if balance < 0:
            raise errors.business_validation(
                f"The {self.entity} total ({total:.2f}) is less than the payments and credits already "
                f"applied to it ({applied:.2f}).",
                "TotalAmt",
            )
        self._set_balance(entity, balance)
        if "BillAddr" not in entity and "BillAddr" in customer.entity:
            entity["BillAddr"] = dict(customer.entity["BillAddr"])
        if "BillEmail" not in entity and "PrimaryEmailAddr" in customer.entity:
            entity["BillEmail"] = {"Address": customer.entity["PrimaryEmailAddr"]["Address"]}
        return entity

    def _set_balance(self, entity: dict[str, Any], balance: float) -> None:
        entity["Balance"] = balance

    def with_applications(self, entity: dict[str, Any], applied: float, links: list[dict[str, str]]) -> dict:
        """The object after the payments applied to it changed: new Balance and LinkedTxn."""
        updated = {**entity, "LinkedTxn": links}
        self._set_balance(updated, money(entity["TotalAmt"] - applied))
        return updated

    def voided(self, entity: dict[str, Any]) -> dict[str, Any]:
        lines = [{**line, "Amount": 0} if "Amount" in line else line for line in entity["Line"]]
        for line in lines:
            detail = line.get("SalesItemLineDetail")
            if detail is not None:
                line["SalesItemLineDetail"] = {
                    k: v for k, v in detail.items() if k not in ("Qty", "UnitPrice")
                }
        voided = {**entity, "Line": lines, "TotalAmt": 0, "LinkedTxn": [], "PrivateNote": VOIDED_NOTE}
        voided["TxnTaxDetail"] = {**entity.get("TxnTaxDetail", {}), "TotalTax": 0}
        self._set_balance(voided, 0)
        return voided


class InvoiceRules(SalesFormRules):
    entity = "Invoice"
    schema = INVOICE_SCHEMA
    defaults = {"Deposit": 0}

    def _finish(
        self, realm: "Realm", entity: dict[str, Any], previous_lines: list[dict], applied: float
    ) -> dict:
        entity = super()._finish(realm, entity, previous_lines, applied)
        if "DueDate" not in entity:
            due = date.fromisoformat(entity["TxnDate"]) + timedelta(days=DEFAULT_TERMS_DAYS)
            entity["DueDate"] = due.isoformat()
        if entity["DueDate"] < entity["TxnDate"]:
            raise errors.business_validation("The due date is earlier than the transaction date.", "DueDate")
        return entity


class CreditMemoRules(SalesFormRules):
    entity = "CreditMemo"
    schema = CREDIT_MEMO_SCHEMA

    def _set_balance(self, entity: dict[str, Any], balance: float) -> None:
        # A credit memo's open amount is its remaining credit; QBO reports it under both names.
        entity["Balance"] = entity["RemainingCredit"] = balance
