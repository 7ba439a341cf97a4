"""Seeded companies: the demo company is the same after every restart, and looks like a real book."""

import re
from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from connectors.sandbox.app import create_app
from connectors.sandbox.settings import SandboxSettings
from tests.sandbox.conftest import ADMIN, QBO

DEMO = "9130357766920001"
ALL = "SELECT * FROM Customer WHERE Active IN (true, false) MAXRESULTS 1000"


def _demo_customers(settings: SandboxSettings) -> list[dict]:
    sandbox = TestClient(create_app(settings))
    token = sandbox.post(f"{ADMIN}/realms/{DEMO}/grant").json()["access_token"]
    response = sandbox.get(
        f"{QBO}/v3/company/{DEMO}/query", params={"query": ALL}, headers={"Authorization": f"Bearer {token}"}
    )
    return response.json()["QueryResponse"]["Customer"]


def test_demo_company_is_identical_across_app_instances() -> None:
    settings = SandboxSettings(qbo_demo_customers=300)
    first, second = _demo_customers(settings), _demo_customers(settings)
    assert len(first) == 300
    assert first == second
    assert [row["Id"] for row in first] == [str(n) for n in range(1, 301)]
    reseeded = _demo_customers(SandboxSettings(qbo_demo_customers=300, qbo_demo_seed=99))
    assert [row["DisplayName"] for row in reseeded] != [row["DisplayName"] for row in first]


def test_demo_customers_look_like_a_firms_clients() -> None:
    settings = SandboxSettings(qbo_demo_customers=300)
    customers = _demo_customers(settings)
    anchor = settings.qbo_demo_anchor
    names = [row["DisplayName"] for row in customers]
    assert len({name.casefold() for name in names}) == len(names)
    companies = [row for row in customers if "CompanyName" in row]
    assert 0.5 < len(companies) / len(customers) < 0.9
    for row in customers:
        assert re.fullmatch(r"[^@\s]+@[a-z0-9.]+\.[a-z]+", row["PrimaryEmailAddr"]["Address"])
        assert re.fullmatch(r"\(\d{3}\) 555-01\d\d", row["PrimaryPhone"]["FreeFormNumber"])
        assert {"Line1", "City", "CountrySubDivisionCode", "PostalCode"} <= set(row["BillAddr"])
        created = datetime.fromisoformat(row["MetaData"]["CreateTime"])
        updated = datetime.fromisoformat(row["MetaData"]["LastUpdatedTime"])
        assert anchor - timedelta(days=731) <= created <= updated <= anchor
        assert (row["SyncToken"] == "0") == (created == updated)
    inactive = [row for row in customers if not row["Active"]]
    assert 0 < len(inactive) < 60
    assert all(row["DisplayName"].endswith(" (deleted)") for row in inactive)
    spread = max(datetime.fromisoformat(r["MetaData"]["CreateTime"]) for r in customers) - min(
        datetime.fromisoformat(r["MetaData"]["CreateTime"]) for r in customers
    )
    assert spread > timedelta(days=600)


def test_same_seed_and_anchor_give_the_same_customers_in_any_realm(sandbox: TestClient) -> None:
    spec = {"customers": 50, "seed": 5, "anchor": "2026-06-01T12:00:00-07:00"}
    realms = [sandbox.post(f"{ADMIN}/realms", json=spec).json() for _ in range(2)]
    pages = []
    for grant in realms:
        response = sandbox.get(
            f"{QBO}/v3/company/{grant['realm_id']}/query",
            params={"query": ALL},
            headers={"Authorization": f"Bearer {grant['access_token']}"},
        )
        pages.append(response.json()["QueryResponse"]["Customer"])
    assert realms[0]["realm_id"] != realms[1]["realm_id"]
    assert pages[0] == pages[1]


def test_bulk_add_and_touch(sandbox: TestClient) -> None:
    grant = sandbox.post(f"{ADMIN}/realms", json={"customers": 10}).json()
    admin = f"{ADMIN}/realms/{grant['realm_id']}"
    bulk = sandbox.post(f"{admin}/customers/bulk", json={"count": 5000, "seed": 1}).json()
    assert bulk == {"created": 5000, "first_id": "11", "last_id": "5010", "total": 5010}
    touched = sandbox.post(f"{admin}/customers/touch", json={"count": 7, "deactivate": 3, "seed": 2}).json()
    assert len(touched["touched"]) == 7 and len(touched["deactivated"]) == 3
    assert not set(touched["touched"]) & set(touched["deactivated"])
    listing = sandbox.get(f"{ADMIN}/realms").json()["realms"]
    assert {"realm_id": grant["realm_id"], "customers": 5010, "demo": False} in listing
    assert sandbox.delete(admin).status_code == 204
    assert sandbox.get(f"{admin}/stats").status_code == 404
    assert sandbox.delete(f"{ADMIN}/realms/{DEMO}").status_code == 409
