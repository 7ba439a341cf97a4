"""Pure functions between Salesforce records and the platform's shapes.

Records are the REST API's query records (Object Reference: Account, Contact, Lead, Opportunity) without
their `attributes`; contacts and leads carry the connection's external-id value as `firmsyncId` (the
client adds it, as the field's name is the connection's choice). A deletion from getDeleted is a tombstone
`{"Id", "IsDeleted": true, "deletedDate"}`: it maps to a row with only the id and `deleted_at`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

PROVIDER = "salesforce"
EXTERNAL_KEY = "firmsyncId"

_SYSTEM = ("owner_id", "created_at", "updated_at", "system_modstamp")
ACCOUNT_COLUMNS: tuple[str, ...] = (
    "external_id",
    "name",
    "account_type",
    "industry",
    "phone",
    "website",
    "billing_street",
    "billing_city",
    "billing_state",
    "billing_postal_code",
    "billing_country",
    "annual_revenue",
    "employees",
    *_SYSTEM,
    "raw",
)
CONTACT_COLUMNS: tuple[str, ...] = (
    "external_id",
    "account_id",
    "first_name",
    "last_name",
    "name",
    "email",
    "phone",
    "title",
    "firmsync_id",
    *_SYSTEM,
    "raw",
)
LEAD_COLUMNS: tuple[str, ...] = (
    "external_id",
    "first_name",
    "last_name",
    "name",
    "company",
    "email",
    "phone",
    "status",
    "lead_source",
    "is_converted",
    "firmsync_id",
    *_SYSTEM,
    "raw",
)
OPPORTUNITY_COLUMNS: tuple[str, ...] = (
    "external_id",
    "account_id",
    "name",
    "stage_name",
    "amount",
    "close_date",
    "probability",
    "is_closed",
    "is_won",
    *_SYSTEM,
    "raw",
)
TIMESTAMP_COLUMNS = frozenset({"created_at", "updated_at", "system_modstamp"})
NUMERIC_COLUMNS = frozenset({"annual_revenue", "amount", "probability"})
INTEGER_COLUMNS = frozenset({"employees"})
BOOLEAN_COLUMNS = frozenset({"is_converted", "is_closed", "is_won"})
DATE_COLUMNS = frozenset({"close_date"})


def parse_sf_datetime(value: Any) -> datetime | None:
    """`2026-11-01T16:00:00.000+0000` (Salesforce's JSON dateTime) → aware UTC datetime."""
    if value is None or value == "":
        return None
    text = str(value).strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"not a Salesforce dateTime: {value!r}")
    return parsed.astimezone(UTC)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def _date(value: Any) -> date | None:
    return None if not value else date.fromisoformat(str(value))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def is_deleted(payload: dict[str, Any]) -> bool:
    """A getDeleted tombstone (a live record's IsDeleted is false, and query never returns deleted ones)."""
    return payload.get("IsDeleted") is True and "deletedDate" in payload


def _tombstone(payload: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(columns)
    return row | {
        "external_id": str(payload["Id"]),
        "raw": payload,
        "deleted_at": parse_sf_datetime(payload["deletedDate"]),
    }


def _system(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "owner_id": _text(payload.get("OwnerId")),
        "created_at": parse_sf_datetime(payload.get("CreatedDate")),
        "updated_at": parse_sf_datetime(payload.get("LastModifiedDate")),
        "system_modstamp": parse_sf_datetime(payload.get("SystemModstamp")),
        "raw": payload,
        "deleted_at": None,
    }


def _id(payload: dict[str, Any]) -> str:
    value = payload.get("Id")
    if not value:
        raise ValueError("record without Id")
    return str(value)


def account_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    if is_deleted(payload):
        return _tombstone(payload, ACCOUNT_COLUMNS)
    employees = payload.get("NumberOfEmployees")
    return {
        "external_id": _id(payload),
        "name": _text(payload.get("Name")),
        "account_type": _text(payload.get("Type")),
        "industry": _text(payload.get("Industry")),
        "phone": _text(payload.get("Phone")),
        "website": _text(payload.get("Website")),
        "billing_street": _text(payload.get("BillingStreet")),
        "billing_city": _text(payload.get("BillingCity")),
        "billing_state": _text(payload.get("BillingState")),
        "billing_postal_code": _text(payload.get("BillingPostalCode")),
        "billing_country": _text(payload.get("BillingCountry")),
        "annual_revenue": _decimal(payload.get("AnnualRevenue")),
        "employees": None if employees is None else int(employees),
        **_system(payload),
    }


def contact_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    if is_deleted(payload):
        return _tombstone(payload, CONTACT_COLUMNS)
    return {
        "external_id": _id(payload),
        "account_id": _text(payload.get("AccountId")),
        "first_name": _text(payload.get("FirstName")),
        "last_name": _text(payload.get("LastName")),
        "name": _text(payload.get("Name")),
        "email": _text(payload.get("Email")),
        "phone": _text(payload.get("Phone")),
        "title": _text(payload.get("Title")),
        "firmsync_id": _text(payload.get(EXTERNAL_KEY)),
        **_system(payload),
    }


def lead_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    if is_deleted(payload):
        return _tombstone(payload, LEAD_COLUMNS)
    converted = payload.get("IsConverted")
    return {
        "external_id": _id(payload),
        "first_name": _text(payload.get("FirstName")),
        "last_name": _text(payload.get("LastName")),
        "name": _text(payload.get("Name")),
        "company": _text(payload.get("Company")),
        "email": _text(payload.get("Email")),
        "phone": _text(payload.get("Phone")),
        "status": _text(payload.get("Status")),
        "lead_source": _text(payload.get("LeadSource")),
        "is_converted": None if converted is None else bool(converted),
        "firmsync_id": _text(payload.get(EXTERNAL_KEY)),
        **_system(payload),
    }


def opportunity_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    if is_deleted(payload):
        return _tombstone(payload, OPPORTUNITY_COLUMNS)
    closed, won = payload.get("IsClosed"), payload.get("IsWon")
    return {
        "external_id": _id(payload),
        "account_id": _text(payload.get("AccountId")),
        "name": _text(payload.get("Name")),
        "stage_name": _text(payload.get("StageName")),
        "amount": _decimal(payload.get("Amount")),
        "close_date": _date(payload.get("CloseDate")),
        "probability": _decimal(payload.get("Probability")),
        "is_closed": None if closed is None else bool(closed),
        "is_won": None if won is None else bool(won),
        **_system(payload),
    }


def _split_name(full_name: str) -> tuple[str | None, str]:
    first, _, last = full_name.strip().rpartition(" ")
    return (first or None), (last or full_name.strip() or "(unknown)")


def lead_body(
    *,
    name: str,
    company: str | None,
    email: str | None,
    phone: str | None,
    status: str | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """A local lead as a Salesforce Lead body (LastName and Company are required by Salesforce)."""
    first, last = _split_name(name)
    body: dict[str, Any] = {
        "FirstName": first,
        "LastName": last,
        "Company": company or name,
        "Email": email,
        "Phone": phone,
    }
    if status:
        body["Status"] = status
    if source:
        body["LeadSource"] = source
    return body


def contact_body(
    *, name: str, email: str | None, phone: str | None, title: str | None, account_id: str | None
) -> dict[str, Any]:
    """A local contact as a Salesforce Contact body (LastName is required)."""
    first, last = _split_name(name)
    body: dict[str, Any] = {
        "FirstName": first,
        "LastName": last,
        "Email": email,
        "Phone": phone,
        "Title": title,
    }
    if account_id:
        body["AccountId"] = account_id
    return body
