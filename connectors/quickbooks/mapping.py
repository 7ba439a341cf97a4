"""Pure functions from QuickBooks Online payloads to warehouse rows and canonical records.

Payloads are the JSON objects of the Accounting API (`QueryResponse.<Entity>[]`, reads, CDC). Only `Id`
is relied on; every other field may be missing, as it is in the stubs CDC sends for deleted records
(`{"Id", "status": "Deleted", "MetaData"}`). Amounts are `Decimal`, dates `date`, times aware `datetime`.

Each `<entity>_to_row` returns the columns of `warehouse.quickbooks_<stream>` in `<ENTITY>_COLUMNS`
order; invoices and credit memos have line rows (`invoice_lines`, `credit_memo_lines`) and payments
their allocations to invoices and credit memos (`payment_allocations`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.records import CanonicalClient

PROVIDER = "quickbooks"

CUSTOMER_COLUMNS: tuple[str, ...] = (
    "external_id",
    "sync_token",
    "display_name",
    "company_name",
    "given_name",
    "family_name",
    "email",
    "phone",
    "address_line1",
    "city",
    "region",
    "postal_code",
    "country",
    "active",
    "balance",
    "currency",
    "created_at",
    "updated_at",
    "raw",
)


def customer_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    """The `warehouse.quickbooks_customers` columns for one Customer payload."""
    address = _dict(payload.get("BillAddr"))
    metadata = _dict(payload.get("MetaData"))
    return {
        "external_id": _required_id(payload),
        "sync_token": _text(payload.get("SyncToken")),
        "display_name": _text(payload.get("DisplayName")),
        "company_name": _text(payload.get("CompanyName")),
        "given_name": _text(payload.get("GivenName")),
        "family_name": _text(payload.get("FamilyName")),
        "email": _text(_dict(payload.get("PrimaryEmailAddr")).get("Address")),
        "phone": _phone(payload),
        "address_line1": _text(address.get("Line1")),
        "city": _text(address.get("City")),
        "region": _text(address.get("CountrySubDivisionCode")),
        "postal_code": _text(address.get("PostalCode")),
        "country": _text(address.get("Country")),
        "active": _active(payload),
        "balance": _decimal(payload.get("Balance")),
        "currency": _text(_dict(payload.get("CurrencyRef")).get("value")),
        "created_at": parse_qbo_datetime(metadata.get("CreateTime")),
        "updated_at": parse_qbo_datetime(metadata.get("LastUpdatedTime")),
        "raw": payload,
    }


def customer_to_client(payload: dict[str, Any]) -> CanonicalClient:
    """The canonical client merged into the app's `clients` table."""
    row = customer_to_row(payload)
    address = _dict(payload.get("BillAddr"))
    updated_at = row["updated_at"] or row["created_at"]
    if updated_at is None:
        raise ValueError(f"QuickBooks customer {row['external_id']} has no MetaData timestamps")
    return CanonicalClient(
        provider=PROVIDER,
        external_id=row["external_id"],
        name=_display_name(row),
        company_name=row["company_name"],
        email=row["email"],
        phone=row["phone"],
        address_line1=row["address_line1"],
        address_line2=_text(address.get("Line2")),
        city=row["city"],
        region=row["region"],
        postal_code=row["postal_code"],
        country=row["country"],
        active=row["active"],
        updated_at=updated_at,
    )


def parse_qbo_datetime(value: Any) -> datetime | None:
    """QBO timestamps carry an offset (`2015-07-24T10:33:39-07:00`); a bare one is taken as UTC."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# QBO appends " (deleted)" to the DisplayName of customers made inactive.
_DELETED_SUFFIX = " (deleted)"


def _display_name(row: dict[str, Any]) -> str:
    name = row["display_name"]
    if name and not row["active"] and name.endswith(_DELETED_SUFFIX):
        name = name[: -len(_DELETED_SUFFIX)]
    if name:
        return name
    person = " ".join(p for p in (row["given_name"], row["family_name"]) if p)
    return row["company_name"] or person or f"QuickBooks customer {row['external_id']}"


def _required_id(payload: dict[str, Any], what: str = "customer") -> str:
    value = _text(payload.get("Id"))
    if value is None:
        raise ValueError(f"QuickBooks {what} payload has no Id")
    return value


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _phone(payload: dict[str, Any]) -> str | None:
    for key in ("PrimaryPhone", "Mobile", "AlternatePhone"):
        number = _text(_dict(payload.get(key)).get("FreeFormNumber"))
        if number:
            return number
    return None


def _active(payload: dict[str, Any]) -> bool:
    # QBO always sends Active; absent means the default, which is active.
    value = payload.get("Active", True)
    if isinstance(value, str):
        return value.strip().lower() != "false"
    return bool(value)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        # str() first: Decimal(85.1) would carry the binary float's error into the warehouse.
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {value!r}") from exc


# --------------------------------------------------------------------------- deletions and voids


def is_deleted(payload: dict[str, Any]) -> bool:
    """CDC reports a deleted record as a stub with `status: Deleted`."""
    return str(payload.get("status", "")).lower() == "deleted"


def deleted_at(row: dict[str, Any]) -> datetime | None:
    """When the row's record stopped existing at QuickBooks, for the warehouse's `deleted_at`: deleted
    (CDC stubs) or, for list entities, deactivated."""
    raw = row.get("raw") or {}
    if is_deleted(raw) or row.get("active") is False:
        return row.get("updated_at")
    return None


def is_voided(payload: dict[str, Any]) -> bool:
    """Whether an invoice, credit memo or payment was voided (it stays, zeroed)."""
    # Voiding zeroes every amount and prepends "Voided" to PrivateNote (Intuit: "Voiding Invoice Objects").
    note = _text(payload.get("PrivateNote")) or ""
    return note.lower().startswith("voided") and _decimal(payload.get("TotalAmt")) == 0


# --------------------------------------------------------------------------- invoices and credit memos

INVOICE_COLUMNS: tuple[str, ...] = (
    "external_id",
    "sync_token",
    "doc_number",
    "customer_id",
    "customer_name",
    "txn_date",
    "due_date",
    "currency",
    "exchange_rate",
    "subtotal",
    "tax_total",
    "total",
    "balance",
    "amount_paid",
    "voided",
    "email_status",
    "customer_memo",
    "private_note",
    "created_at",
    "updated_at",
    "raw",
)


def invoice_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    """The `warehouse.quickbooks_invoices` columns for one Invoice payload."""
    total, tax, balance = _amount(payload, "TotalAmt"), _total_tax(payload), _amount(payload, "Balance")
    return {
        **_transaction_head(payload, "invoice"),
        "due_date": _date(payload.get("DueDate")),
        "currency": _ref(payload, "CurrencyRef"),
        "exchange_rate": _decimal(payload.get("ExchangeRate")),
        "subtotal": total - tax if total is not None and tax is not None else total,
        "tax_total": tax,
        "total": total,
        "balance": balance,
        # What customers paid: payments, applied credits and the deposit all lower the balance.
        "amount_paid": total - balance if total is not None and balance is not None else None,
        "voided": is_voided(payload),
        "email_status": _text(payload.get("EmailStatus")),
        "customer_memo": _text(_dict(payload.get("CustomerMemo")).get("value")),
        "private_note": _text(payload.get("PrivateNote")),
        **_timestamps(payload),
        "raw": payload,
    }


CREDIT_MEMO_COLUMNS: tuple[str, ...] = (
    "external_id",
    "sync_token",
    "doc_number",
    "customer_id",
    "customer_name",
    "txn_date",
    "currency",
    "exchange_rate",
    "subtotal",
    "tax_total",
    "total",
    "remaining_credit",
    "balance",
    "voided",
    "customer_memo",
    "private_note",
    "created_at",
    "updated_at",
    "raw",
)


def credit_memo_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    """The `warehouse.quickbooks_credit_memos` columns for one CreditMemo payload."""
    total, tax = _amount(payload, "TotalAmt"), _total_tax(payload)
    return {
        **_transaction_head(payload, "credit memo"),
        "currency": _ref(payload, "CurrencyRef"),
        "exchange_rate": _decimal(payload.get("ExchangeRate")),
        "subtotal": total - tax if total is not None and tax is not None else total,
        "tax_total": tax,
        "total": total,
        "remaining_credit": _amount(payload, "RemainingCredit"),  # not yet applied to invoices
        "balance": _amount(payload, "Balance"),
        "voided": is_voided(payload),
        "customer_memo": _text(_dict(payload.get("CustomerMemo")).get("value")),
        "private_note": _text(payload.get("PrivateNote")),
        **_timestamps(payload),
        "raw": payload,
    }


SALES_LINE_COLUMNS: tuple[str, ...] = (
    "line_id",
    "line_number",
    "detail_type",
    "description",
    "item_id",
    "item_name",
    "quantity",
    "unit_price",
    "amount",
    "tax_code",
    "service_date",
    "raw",
)
INVOICE_LINE_COLUMNS: tuple[str, ...] = ("invoice_external_id", *SALES_LINE_COLUMNS)
CREDIT_MEMO_LINE_COLUMNS: tuple[str, ...] = ("credit_memo_external_id", *SALES_LINE_COLUMNS)

# Lines QuickBooks computes from the others: storing them would count their amounts twice.
_COMPUTED_LINES = frozenset({"SubTotalLineDetail"})


def invoice_lines(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """`warehouse.quickbooks_invoice_lines` rows, keyed by (invoice_external_id, line_id)."""
    return _sales_lines(payload, "invoice_external_id", "invoice")


def credit_memo_lines(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """`warehouse.quickbooks_credit_memo_lines` rows, keyed by (credit_memo_external_id, line_id)."""
    return _sales_lines(payload, "credit_memo_external_id", "credit memo")


def _sales_lines(payload: dict[str, Any], parent_column: str, what: str) -> list[dict[str, Any]]:
    parent = _required_id(payload, what)
    rows: list[dict[str, Any]] = []
    for position, line in enumerate(_lines(payload), start=1):
        detail_type = _text(line.get("DetailType"))
        if detail_type in _COMPUTED_LINES:
            continue
        if detail_type == "GroupLineDetail":
            # A bundle: its own amount is the sum of its lines, which are stored instead.
            for inner in _list(_dict(line.get("GroupLineDetail")).get("Line")):
                rows.append(_sales_line(parent_column, parent, inner, position))
            continue
        rows.append(_sales_line(parent_column, parent, line, position))
    return rows


def _sales_line(parent_column: str, parent: str, line: dict[str, Any], position: int) -> dict[str, Any]:
    detail_type = _text(line.get("DetailType"))
    detail = _dict(line.get(detail_type)) if detail_type else {}
    line_number = _int(line.get("LineNum")) or position
    return {
        parent_column: parent,
        # Lines QBO wrote carry an Id; a discount line sometimes does not, and its place is stable.
        "line_id": _text(line.get("Id")) or f"#{line_number}",
        "line_number": line_number,
        "detail_type": detail_type,
        "description": _text(line.get("Description")),
        "item_id": _ref(detail, "ItemRef"),
        "item_name": _ref_name(detail, "ItemRef"),
        "quantity": _decimal(detail.get("Qty")),
        "unit_price": _decimal(detail.get("UnitPrice")),
        "amount": _decimal(line.get("Amount")),
        "tax_code": _ref(detail, "TaxCodeRef"),
        "service_date": _date(detail.get("ServiceDate")),
        "raw": line,
    }


# --------------------------------------------------------------------------- payments

PAYMENT_COLUMNS: tuple[str, ...] = (
    "external_id",
    "sync_token",
    "customer_id",
    "customer_name",
    "txn_date",
    "currency",
    "exchange_rate",
    "total",
    "unapplied",
    "reference",
    "payment_method_id",
    "deposit_account_id",
    "voided",
    "private_note",
    "created_at",
    "updated_at",
    "raw",
)


def payment_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    """The `warehouse.quickbooks_payments` columns for one Payment payload."""
    return {
        "external_id": _required_id(payload, "payment"),
        "sync_token": _text(payload.get("SyncToken")),
        "customer_id": _ref(payload, "CustomerRef"),
        "customer_name": _ref_name(payload, "CustomerRef"),
        "txn_date": _date(payload.get("TxnDate")),
        "currency": _ref(payload, "CurrencyRef"),
        "exchange_rate": _decimal(payload.get("ExchangeRate")),
        "total": _amount(payload, "TotalAmt"),
        "unapplied": _amount(payload, "UnappliedAmt"),  # received but not allocated to anything
        "reference": _text(payload.get("PaymentRefNum")),
        "payment_method_id": _ref(payload, "PaymentMethodRef"),
        "deposit_account_id": _ref(payload, "DepositToAccountRef"),
        "voided": is_voided(payload),
        "private_note": _text(payload.get("PrivateNote")),
        **_timestamps(payload),
        "raw": payload,
    }


PAYMENT_ALLOCATION_COLUMNS: tuple[str, ...] = ("payment_external_id", "txn_type", "txn_id", "amount")


def payment_allocations(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """What a payment settled: one row per linked transaction (an Invoice it pays, a CreditMemo it
    applies), keyed by (payment_external_id, txn_type, txn_id), amounts summed across lines.

    Each payment line carries an Amount and the transaction it is applied to in LinkedTxn; a line
    linking several transactions does not say how its amount divides, so that is refused rather than
    guessed.
    """
    payment = _required_id(payload, "payment")
    totals: dict[tuple[str, str], Decimal] = {}
    for line in _lines(payload):
        linked = [_dict(txn) for txn in _list(line.get("LinkedTxn"))]
        if not linked:
            continue
        if len(linked) > 1:
            raise ValueError(f"QuickBooks payment {payment} has a line linked to {len(linked)} transactions")
        txn_type, txn_id = _text(linked[0].get("TxnType")), _text(linked[0].get("TxnId"))
        if txn_type is None or txn_id is None:
            raise ValueError(f"QuickBooks payment {payment} links a transaction without TxnType/TxnId")
        amount = _decimal(line.get("Amount")) or Decimal(0)
        totals[(txn_type, txn_id)] = totals.get((txn_type, txn_id), Decimal(0)) + amount
    return [
        {"payment_external_id": payment, "txn_type": txn_type, "txn_id": txn_id, "amount": amount}
        for (txn_type, txn_id), amount in totals.items()
    ]


# --------------------------------------------------------------------------- items and accounts

ITEM_COLUMNS: tuple[str, ...] = (
    "external_id",
    "sync_token",
    "name",
    "fully_qualified_name",
    "sku",
    "type",
    "description",
    "unit_price",
    "income_account_id",
    "income_account_name",
    "taxable",
    "active",
    "created_at",
    "updated_at",
    "raw",
)


def item_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    """The `warehouse.quickbooks_items` columns for one Item payload."""
    return {
        "external_id": _required_id(payload, "item"),
        "sync_token": _text(payload.get("SyncToken")),
        "name": _text(payload.get("Name")),
        "fully_qualified_name": _text(payload.get("FullyQualifiedName")),
        "sku": _text(payload.get("Sku")),
        "type": _text(payload.get("Type")),  # Service, Inventory, NonInventory, Group, Category
        "description": _text(payload.get("Description")),
        "unit_price": _decimal(payload.get("UnitPrice")),
        "income_account_id": _ref(payload, "IncomeAccountRef"),
        "income_account_name": _ref_name(payload, "IncomeAccountRef"),
        "taxable": _bool(payload.get("Taxable")),
        "active": _active(payload),
        **_timestamps(payload),
        "raw": payload,
    }


ACCOUNT_COLUMNS: tuple[str, ...] = (
    "external_id",
    "sync_token",
    "name",
    "fully_qualified_name",
    "account_number",
    "account_type",
    "account_sub_type",
    "classification",
    "currency",
    "current_balance",
    "sub_account",
    "parent_id",
    "active",
    "created_at",
    "updated_at",
    "raw",
)


def account_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    """The `warehouse.quickbooks_accounts` columns for one Account payload."""
    return {
        "external_id": _required_id(payload, "account"),
        "sync_token": _text(payload.get("SyncToken")),
        "name": _text(payload.get("Name")),
        "fully_qualified_name": _text(payload.get("FullyQualifiedName")),
        "account_number": _text(payload.get("AcctNum")),
        "account_type": _text(payload.get("AccountType")),  # e.g. Income, Bank, Accounts Receivable
        "account_sub_type": _text(payload.get("AccountSubType")),
        "classification": _text(payload.get("Classification")),  # Asset, Liability, Equity, Revenue, Expense
        "currency": _ref(payload, "CurrencyRef"),
        "current_balance": _decimal(payload.get("CurrentBalance")),
        "sub_account": bool(_bool(payload.get("SubAccount"))),
        "parent_id": _ref(payload, "ParentRef"),
        "active": _active(payload),
        **_timestamps(payload),
        "raw": payload,
    }


ROW_MAPPERS = {
    "customers": customer_to_row,
    "invoices": invoice_to_row,
    "payments": payment_to_row,
    "credit_memos": credit_memo_to_row,
    "items": item_to_row,
    "accounts": account_to_row,
}


# --------------------------------------------------------------------------- shared helpers


def _transaction_head(payload: dict[str, Any], what: str) -> dict[str, Any]:
    return {
        "external_id": _required_id(payload, what),
        "sync_token": _text(payload.get("SyncToken")),
        "doc_number": _text(payload.get("DocNumber")),
        "customer_id": _ref(payload, "CustomerRef"),
        "customer_name": _ref_name(payload, "CustomerRef"),
        "txn_date": _date(payload.get("TxnDate")),
    }


def _timestamps(payload: dict[str, Any]) -> dict[str, datetime | None]:
    metadata = _dict(payload.get("MetaData"))
    return {
        "created_at": parse_qbo_datetime(metadata.get("CreateTime")),
        "updated_at": parse_qbo_datetime(metadata.get("LastUpdatedTime")),
    }


def _amount(payload: dict[str, Any], key: str) -> Decimal | None:
    return _decimal(payload.get(key))


def _total_tax(payload: dict[str, Any]) -> Decimal | None:
    detail = _dict(payload.get("TxnTaxDetail"))
    if "TotalTax" in detail:
        return _decimal(detail.get("TotalTax"))
    # A transaction without tax detail carries no tax; a deleted stub carries no amounts at all.
    return Decimal(0) if "TotalAmt" in payload else None


def _lines(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [line for line in _list(payload.get("Line")) if isinstance(line, dict)]


def _ref(payload: dict[str, Any], key: str) -> str | None:
    return _text(_dict(payload.get(key)).get("value"))


def _ref_name(payload: dict[str, Any], key: str) -> str | None:
    return _text(_dict(payload.get(key)).get("name"))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _date(value: Any) -> date | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])  # QBO dates are YYYY-MM-DD, sometimes with an offset
    except ValueError as exc:
        raise ValueError(f"not a QuickBooks date: {value!r}") from exc


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)
