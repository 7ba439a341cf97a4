"""Payment: money received from a customer, applied to invoices and credit memos through its lines.

From the Payment reference and Intuit's published examples: CustomerRef is required (2020 / 2500 / 610
as for invoices), TotalAmt too ("Business Validation Error: You must set a transaction amount.", 6000).
Each line applies an Amount to one linked Invoice or CreditMemo of the same customer; an invoice cannot
take more than its open Balance, and what the lines leave over is UnappliedAmt (a credit), which cannot
go below zero. The server owns UnappliedAmt and the names on references, and defaults
DepositToAccountRef to Undeposited Funds. Applying a payment lowers each invoice's Balance and adds the
payment to its LinkedTxn (a new revision of the invoice); voiding (operation=update&include=void) or
deleting the payment gives it back.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.sandbox.quickbooks import errors
from connectors.sandbox.quickbooks.catalog import USD, account_ref
from connectors.sandbox.quickbooks.fields import (
    Schema,
    money,
    ref_id,
    strip_empty,
    to_number,
    writable_fields,
)
from connectors.sandbox.quickbooks.sales_forms import VOIDED_NOTE
from connectors.sandbox.quickbooks.table import EntityRow

if TYPE_CHECKING:
    from connectors.sandbox.quickbooks.realm import Realm

PAYMENT_SCHEMA = Schema(
    strings=frozenset(("PaymentRefNum", "PrivateNote", "TxnSource", "TransactionLocationType")),
    dates=frozenset(("TxnDate",)),
    bools=frozenset(("ProcessPayment",)),
    numbers=frozenset(("TotalAmt", "ExchangeRate")),
    objects=frozenset(
        (
            "CustomerRef",
            "DepositToAccountRef",
            "PaymentMethodRef",
            "ARAccountRef",
            "CurrencyRef",
            "CreditCardPayment",
            "TaxExemptionRef",
            "ProjectRef",
        )
    ),
    lists=frozenset(("Line",)),
    server_owned=frozenset(("UnappliedAmt", "HomeTotalAmt", "TxnStatus", "LinkedTxn")),
)
APPLICABLE = ("Invoice", "CreditMemo")
LINE_KEYS = frozenset(("Amount", "LinkedTxn", "LineEx", "Id", "LineNum", "Description"))
Link = tuple[str, int, float]  # (TxnType, TxnId, amount)


def links(entity: dict[str, Any] | None) -> list[Link]:
    """What a stored payment applies, line by line."""
    out: list[Link] = []
    for line in (entity or {}).get("Line", []):
        for linked in line.get("LinkedTxn", []):
            out.append((linked["TxnType"], int(linked["TxnId"]), line["Amount"]))
    return out


class PaymentRules:
    entity = "Payment"

    def create(self, realm: "Realm", entity_id: int, body: dict[str, Any], now: float) -> dict[str, Any]:
        entity: dict[str, Any] = {
            "Id": str(entity_id),
            "domain": "QBO",
            "sparse": False,
            "CurrencyRef": USD,
            "ProcessPayment": False,
            **writable_fields(body, PAYMENT_SCHEMA),
        }
        entity.setdefault("TxnDate", datetime.fromtimestamp(now, realm.zone).date().isoformat())
        return self._finish(realm, entity, None)

    def update(
        self, realm: "Realm", current: EntityRow, body: dict[str, Any], sparse: bool
    ) -> dict[str, Any]:
        fields = writable_fields(body, PAYMENT_SCHEMA)
        old = current.entity
        if sparse:
            entity = {**old, "sparse": False, **fields}
        else:
            kept = ("Id", "domain", "CurrencyRef", "TxnDate")
            entity = {
                **{k: old[k] for k in kept if k in old},
                "sparse": False,
                "ProcessPayment": False,
                **fields,
            }
            entity.setdefault("Line", [])
        return self._finish(realm, entity, current)

    def voided(self, entity: dict[str, Any]) -> dict[str, Any]:
        return {**entity, "TotalAmt": 0, "UnappliedAmt": 0, "Line": [], "PrivateNote": VOIDED_NOTE}

    def _finish(self, realm: "Realm", entity: dict[str, Any], current: EntityRow | None) -> dict[str, Any]:
        customer_ref = entity.get("CustomerRef")
        if not customer_ref:
            raise errors.required_param_missing("CustomerRef")
        customer = realm.customers.lookup(ref_id(customer_ref)) if ref_id(customer_ref) else None
        if customer is None:
            raise errors.invalid_reference("CustomerRef")
        if not customer.active:
            raise errors.inactive_reference("CustomerRef")
        entity["CustomerRef"] = {"value": str(customer.id), "name": customer.entity["DisplayName"]}
        if "TotalAmt" not in entity:
            raise errors.business_validation("You must set a transaction amount.", "TotalAmt")
        total = entity["TotalAmt"] = money(entity["TotalAmt"])
        if total < 0:
            raise errors.business_validation("The payment amount cannot be negative.", "TotalAmt")
        deposit = entity.get("DepositToAccountRef")
        if deposit is None:
            undeposited = realm.accounts.id_for_name("Undeposited Funds")
            deposit = {"value": str(undeposited)} if undeposited is not None else None
        if deposit is not None:
            entity["DepositToAccountRef"] = account_ref(realm, deposit, "DepositToAccountRef")
        if "ARAccountRef" in entity:
            entity["ARAccountRef"] = account_ref(realm, entity["ARAccountRef"], "ARAccountRef")
        lines, invoiced, credited = self._lines(realm, entity.get("Line", []), customer.id, current)
        entity["Line"] = lines
        unapplied = money(total + credited - invoiced)
        if unapplied < 0:
            raise errors.business_validation(
                f"The amounts applied to invoices ({invoiced:.2f}) are more than the payment amount "
                f"({total:.2f}) plus the credits applied ({credited:.2f}).",
                "Line.Amount",
            )
        entity["UnappliedAmt"] = unapplied
        return entity

    def _lines(
        self, realm: "Realm", raw_lines: list[dict[str, Any]], customer_id: Any, current: EntityRow | None
    ) -> tuple[list[dict[str, Any]], float, float]:
        mine = {(kind, txn_id): amount for kind, txn_id, amount in links(current.entity if current else None)}
        wanted: dict[tuple[str, int], float] = {}
        lines: list[dict[str, Any]] = []
        for raw in raw_lines:
            line = strip_empty(raw) or {}
            for key in line:
                if key not in LINE_KEYS:
                    raise errors.invalid_property(f"Line.{key}")
            if "Amount" not in line:
                raise errors.required_param_missing("Line.Amount")
            amount = money(to_number(line["Amount"], "Line.Amount"))
            if amount == 0:
                continue  # SDKs send placeholder lines; QBO keeps only lines that apply something
            if amount < 0:
                raise errors.business_validation("A payment line amount cannot be negative.", "Line.Amount")
            linked = line.get("LinkedTxn") or []
            if not linked:
                raise errors.required_param_missing("Line.LinkedTxn")
            if len(linked) != 1:
                raise errors.business_validation(
                    "Each payment line applies to one transaction.", "Line.LinkedTxn"
                )
            target = self._target(realm, linked[0], customer_id)
            key = (linked[0]["TxnType"], target.id)
            wanted[key] = money(wanted.get(key, 0) + amount)
            open_amount = money(target.entity["Balance"] + mine.get(key, 0))
            if wanted[key] > open_amount:
                raise errors.business_validation(
                    f"The amount applied to {key[0]} {target.entity.get('DocNumber', target.id)} "
                    f"({wanted[key]:.2f}) is more than its open balance ({open_amount:.2f}).",
                    "Line.Amount",
                )
            lines.append({"Amount": amount, "LinkedTxn": [{"TxnId": str(target.id), "TxnType": key[0]}]})
        invoiced = money(sum(amount for (kind, _), amount in wanted.items() if kind == "Invoice"))
        credited = money(sum(amount for (kind, _), amount in wanted.items() if kind == "CreditMemo"))
        return lines, invoiced, credited

    def _target(self, realm: "Realm", linked: Any, customer_id: Any) -> EntityRow:
        kind = linked.get("TxnType") if isinstance(linked, dict) else None
        if kind not in APPLICABLE:
            raise errors.business_validation(
                f"A payment can be applied to invoices and credit memos, not to {kind}.",
                "Line.LinkedTxn.TxnType",
            )
        raw_id = str(linked.get("TxnId", "")).strip()
        table = realm.table(kind)
        target = table.lookup(raw_id) if raw_id.isdigit() else None
        if target is None:
            if raw_id.isdigit() and int(raw_id) in table.tombstones:
                raise errors.deleted_transaction("Line.LinkedTxn.TxnId")
            raise errors.invalid_reference("Line.LinkedTxn.TxnId")
        if target.entity["CustomerRef"]["value"] != str(customer_id):
            raise errors.business_validation(
                f"{kind} {target.entity.get('DocNumber', target.id)} belongs to another customer.",
                "Line.LinkedTxn.TxnId",
            )
        return target
