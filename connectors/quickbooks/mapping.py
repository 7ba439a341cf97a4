"""Pure functions from QuickBooks Online Customer payloads to warehouse rows and canonical records.

Payloads are the JSON objects of the Accounting API (`QueryResponse.Customer[]`). Only `Id` and
`MetaData.LastUpdatedTime` are relied on; every other field may be missing.
"""

from __future__ import annotations

from datetime import UTC, datetime
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


def _required_id(payload: dict[str, Any]) -> str:
    value = _text(payload.get("Id"))
    if value is None:
        raise ValueError("QuickBooks customer payload has no Id")
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
