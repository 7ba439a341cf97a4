"""QuickBooks Customer payloads (in Intuit's published shapes) → warehouse rows and canonical clients."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.quickbooks.mapping import CUSTOMER_COLUMNS, customer_to_client, customer_to_row
from connectors.records import CanonicalClient

FIXTURES = Path(__file__).parents[1] / "fixtures" / "quickbooks"
PACIFIC_DAYLIGHT = timezone(timedelta(hours=-7))


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_full_customer_maps_every_column() -> None:
    payload = load("customer_read_response.json")["Customer"]
    row = customer_to_row(payload)

    assert tuple(row) == CUSTOMER_COLUMNS
    assert row == {
        "external_id": "2",
        "sync_token": "3",
        "display_name": "Bill's Windsurf Shop",
        "company_name": "Bill's Windsurf Shop",
        "given_name": "Bill",
        "family_name": "Lucchini",
        "email": "Surf@Intuit.com",
        "phone": "(415) 444-6538",
        "address_line1": "12 Ocean Dr.",
        "city": "Half Moon Bay",
        "region": "CA",
        "postal_code": "94213",
        "country": None,
        "active": True,
        "balance": Decimal("85.1"),  # exact, not the float's binary approximation
        "currency": "USD",
        "created_at": datetime(2014, 9, 11, 16, 49, 28, tzinfo=PACIFIC_DAYLIGHT),
        "updated_at": datetime(2015, 7, 23, 11, 18, 37, tzinfo=PACIFIC_DAYLIGHT),
        "raw": payload,
    }
    assert row["updated_at"].utcoffset() is not None
    assert row["updated_at"].astimezone(UTC) == datetime(2015, 7, 23, 18, 18, 37, tzinfo=UTC)
    assert json.loads(json.dumps(row["raw"])) == payload  # raw stays JSON-serialisable for jsonb


def test_minimal_customer_leaves_optional_columns_empty() -> None:
    row = customer_to_row(load("customer_minimal.json"))
    assert row["external_id"] == "67"
    assert row["display_name"] == "Kookies by Kathy"
    assert row["active"] is True
    for column in (
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
        "balance",
        "currency",
    ):
        assert row[column] is None, column
    assert row["created_at"] == row["updated_at"] == datetime(2015, 7, 29, 16, 12, 9, tzinfo=UTC)


def test_inactive_customer_is_a_soft_delete() -> None:
    payload = load("customer_inactive.json")
    row = customer_to_row(payload)
    assert row["active"] is False
    assert row["balance"] == Decimal("0")
    assert row["display_name"] == "Amy's Bird Sanctuary (deleted)"  # the warehouse keeps QBO's value

    client = customer_to_client(payload)
    assert client.active is False
    assert client.name == "Amy's Bird Sanctuary"  # QBO's "(deleted)" marker is not part of the name


def test_query_response_customers_map_phone_fallback_country_and_currency() -> None:
    customers = load("customer_query_response.json")["QueryResponse"]["Customer"]
    kings, jeffs = (customer_to_row(c) for c in customers)
    assert kings["country"] == "USA"
    assert kings["balance"] == Decimal("1234.56")
    assert jeffs["phone"] == "(650) 555-8989"  # no PrimaryPhone: falls back to Mobile
    assert jeffs["email"] is None
    assert jeffs["currency"] == "CAD"
    assert jeffs["balance"] == Decimal("81")


def test_customer_to_client_builds_the_canonical_record() -> None:
    client = customer_to_client(load("customer_read_response.json")["Customer"])
    assert client == CanonicalClient(
        provider="quickbooks",
        external_id="2",
        name="Bill's Windsurf Shop",
        company_name="Bill's Windsurf Shop",
        email="Surf@Intuit.com",
        phone="(415) 444-6538",
        address_line1="12 Ocean Dr.",
        city="Half Moon Bay",
        region="CA",
        postal_code="94213",
        active=True,
        updated_at=datetime(2015, 7, 23, 18, 18, 37, tzinfo=UTC),
    )
    with pytest.raises(ValidationError):
        client.name = "changed"  # type: ignore[misc]  # canonical records are frozen


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"CompanyName": "Acme Ltd"}, "Acme Ltd"),
        ({"GivenName": "Ada", "FamilyName": "Lovelace"}, "Ada Lovelace"),
        ({}, "QuickBooks customer 9"),
    ],
)
def test_client_name_falls_back_when_display_name_is_missing(fields: dict, expected: str) -> None:
    payload = {"Id": "9", "MetaData": {"LastUpdatedTime": "2020-01-01T00:00:00Z"}, **fields}
    assert customer_to_client(payload).name == expected


def test_payload_without_id_is_rejected() -> None:
    with pytest.raises(ValueError, match="no Id"):
        customer_to_row({"DisplayName": "nobody"})


def test_missing_timestamps_map_to_none_but_cannot_become_a_client() -> None:
    payload = {"Id": "5", "DisplayName": "Timeless", "BillAddr": None, "PrimaryEmailAddr": "garbage"}
    row = customer_to_row(payload)
    assert row["updated_at"] is None and row["email"] is None and row["city"] is None
    with pytest.raises(ValueError, match="no MetaData timestamps"):
        customer_to_client(payload)
