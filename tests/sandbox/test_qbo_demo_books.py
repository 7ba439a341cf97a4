"""The demo company's books: the same after every restart, shaped like a year of a firm's billing, and
with exactly the customers it had before it had books. Plus the bulk-invoice admin endpoint."""

import hashlib
import json
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from connectors.sandbox.app import create_app
from connectors.sandbox.settings import SandboxSettings
from tests.sandbox.conftest import ADMIN, QBO, QboRealm

DEMO = "9130357766920001"
# sha256 of the default demo company's customers (json.dumps(..., sort_keys=True)), recorded before the
# accounting entities existed: other tests and the Xero demo overlap depend on these exact customers.
DEMO_CUSTOMERS_SHA256 = "af5d8eeb600c971d7827b410cebea938d2fb1039236501668ed267f58bce52e8"


def _demo(settings: SandboxSettings) -> dict[str, list[dict[str, Any]]]:
    client = TestClient(create_app(settings))
    token = client.post(f"{ADMIN}/realms/{DEMO}/grant").json()["access_token"]
    books = {}
    for entity, where in (
        ("Customer", "WHERE Active IN (true, false)"),
        ("Invoice", ""),
        ("Payment", ""),
        ("CreditMemo", ""),
        ("Item", ""),
        ("Account", ""),
    ):
        response = client.get(
            f"{QBO}/v3/company/{DEMO}/query",
            params={"query": f"SELECT * FROM {entity} {where} MAXRESULTS 1000"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        books[entity] = response.json()["QueryResponse"].get(entity, [])
    return books


@pytest.fixture(scope="module")
def demo() -> dict[str, list[dict[str, Any]]]:
    return _demo(SandboxSettings())


def test_demo_customers_are_exactly_those_from_before_the_books(demo) -> None:
    customers = json.dumps(demo["Customer"], sort_keys=True).encode()
    assert len(demo["Customer"]) == 300
    assert hashlib.sha256(customers).hexdigest() == DEMO_CUSTOMERS_SHA256


def test_demo_books_are_identical_across_restarts(demo) -> None:
    assert _demo(SandboxSettings()) == demo
    other_seed = _demo(SandboxSettings(qbo_demo_seed=7))
    assert [i["TotalAmt"] for i in other_seed["Invoice"]] != [i["TotalAmt"] for i in demo["Invoice"]]
    without = _demo(SandboxSettings(qbo_demo_books=False))
    assert (without["Invoice"], without["Payment"], without["Customer"]) == ([], [], demo["Customer"])


def test_demo_books_look_like_a_year_of_a_firms_billing(demo) -> None:
    anchor = SandboxSettings().qbo_demo_anchor
    customers = {c["Id"]: c for c in demo["Customer"]}
    invoices, payments, credits = demo["Invoice"], demo["Payment"], demo["CreditMemo"]
    assert 200 < len(invoices) < 400
    assert 0.3 < len({i["CustomerRef"]["value"] for i in invoices}) / len(customers) < 0.6
    assert len({i["DocNumber"] for i in invoices + credits}) == len(invoices) + len(credits)
    for invoice in invoices:
        customer = customers[invoice["CustomerRef"]["value"]]
        assert customer["Active"] and invoice["CustomerRef"]["name"] == customer["DisplayName"]
        created = datetime.fromisoformat(invoice["MetaData"]["CreateTime"])
        assert anchor - timedelta(days=366) < created < anchor
        assert created >= datetime.fromisoformat(customer["MetaData"]["CreateTime"])
        assert invoice["TxnDate"] == created.date().isoformat()
        names = {
            line["SalesItemLineDetail"]["ItemRef"]["name"]
            for line in invoice["Line"]
            if "SalesItemLineDetail" in line
        }
        assert names <= {
            "Tax preparation",
            "Advisory hours",
            "Bookkeeping",
            "Payroll processing",
            "Filing fees",
        }

    applied: Counter[str] = Counter()
    for payment in payments:
        assert datetime.fromisoformat(payment["MetaData"]["CreateTime"]) < anchor
        for line in payment["Line"]:
            (link,) = line["LinkedTxn"]
            applied[link["TxnId"]] += line["Amount"]
    for obj in invoices + credits:
        assert obj["Balance"] == round(obj["TotalAmt"] - applied[obj["Id"]], 2)
        assert (obj["SyncToken"] != "0") == bool(obj["LinkedTxn"] or obj.get("PrivateNote") == "Voided")
    states = Counter(
        "voided"
        if i.get("PrivateNote") == "Voided"
        else "open"
        if i["Balance"] == i["TotalAmt"]
        else "paid"
        if i["Balance"] == 0
        else "partly paid"
        for i in invoices
    )
    assert states["voided"] == 1
    assert states["paid"] > states["open"] > 0 and states["partly paid"] > 0
    assert credits and all(c["PrivateNote"] == "Courtesy credit" for c in credits)
    assert any(c["RemainingCredit"] == 0 for c in credits)  # applied to an invoice by a zero payment
    assert any(p["TotalAmt"] == 0 and len(p["Line"]) == 2 for p in payments)


def test_bulk_invoices_for_benchmarks(new_realm) -> None:
    realm: QboRealm = new_realm(customers=50, seed=3)
    made = realm.admin(
        "POST", "/invoices/bulk", json={"count": 2000, "seed": 1, "days": 30, "paid_share": 0.5}
    ).json()
    assert made["created"]["Invoice"] == made["total_invoices"] == 2000
    assert 1000 < made["created"]["Payment"] < 1400  # half paid in full, a tenth in part
    assert realm.query("SELECT COUNT(*) FROM Invoice").json()["QueryResponse"]["totalCount"] == 2000
    assert (
        realm.query("SELECT COUNT(*) FROM Invoice WHERE Balance = '0'").json()["QueryResponse"]["totalCount"]
        > 900
    )
    counts = realm.admin("GET", "").json()
    assert counts["counts"]["Invoice"] == 2000 and counts["counts"]["Customer"] == 50
    empty = new_realm(customers=0)
    assert empty.admin("POST", "/invoices/bulk", json={"count": 5}).status_code == 409


def test_a_new_company_can_start_with_invoices(new_realm) -> None:
    first = new_realm(customers=10, invoices=30, seed=8, anchor="2026-06-01T12:00:00-07:00")
    second = new_realm(customers=10, invoices=30, seed=8, anchor="2026-06-01T12:00:00-07:00")
    assert first.grant["invoices"] == 30
    assert first.objects("SELECT * FROM Invoice MAXRESULTS 1000") == second.objects(
        "SELECT * FROM Invoice MAXRESULTS 1000"
    )
