"""Seeded Xero organisations: the demo is identical after a restart, shares clients with the
QuickBooks demo company, and admin bulk data and scripted edits land where benchmarks expect them."""

import re
from collections import Counter

from fastapi.testclient import TestClient

from connectors.sandbox.app import create_app
from tests.sandbox.xero_fixtures import DEMO_TENANT, LiveXero, xero_settings

QBO_DEMO = "9130357766920001"
MS_DATE = re.compile(r"^/Date\((\d+)\+0000\)/$")


def _demo_book(**overrides) -> dict[str, list[dict]]:
    sandbox = TestClient(create_app(xero_settings(**overrides)))
    grant = sandbox.post(f"/xero/_sandbox/tenants/{DEMO_TENANT}/grant").json()
    headers = {"Authorization": f"Bearer {grant['access_token']}", "xero-tenant-id": DEMO_TENANT}
    book = {}
    for collection in ("Contacts", "Invoices", "Payments", "CreditNotes", "Items", "Accounts"):
        params = {"page": 1, "pageSize": 1000} if collection not in ("Items", "Accounts") else {}
        params["includeArchived"] = "true"
        response = sandbox.get(f"/xero/api.xro/2.0/{collection}", params=params, headers=headers)
        assert response.status_code == 200, response.text
        book[collection] = response.json()[collection]
    return book


def _qbo_demo_customers() -> list[dict]:
    sandbox = TestClient(create_app(xero_settings()))
    token = sandbox.post(f"/quickbooks/_sandbox/realms/{QBO_DEMO}/grant").json()["access_token"]
    response = sandbox.get(
        f"/quickbooks/v3/company/{QBO_DEMO}/query",
        params={"query": "SELECT * FROM Customer MAXRESULTS 1000"},
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.json()["QueryResponse"]["Customer"]


def test_demo_is_identical_across_restarts_and_depends_on_the_seed() -> None:
    first, second = _demo_book(), _demo_book()
    assert first == second
    assert len(first["Contacts"]) == 30 and len(first["Invoices"]) == 60 and len(first["Items"]) == 12
    statuses = Counter(i["Status"] for i in first["Invoices"])
    assert statuses["PAID"] > 10 and statuses["AUTHORISED"] > 5 and statuses["DRAFT"] >= 1
    assert first["Payments"] and first["CreditNotes"]
    other = _demo_book(xero_demo_seed=99)
    assert [i["InvoiceID"] for i in other["Invoices"]] != [i["InvoiceID"] for i in first["Invoices"]]


def test_demo_contacts_overlap_the_quickbooks_demo_customers() -> None:
    customers = _qbo_demo_customers()
    contacts = _demo_book()["Contacts"]
    qbo = {c["DisplayName"]: c["PrimaryEmailAddr"]["Address"] for c in customers}
    shared = [c for c in contacts if c["Name"] in qbo]
    # The demo's first 20 contacts are the QuickBooks demo's first 20 active customers (by Id).
    assert {c["DisplayName"] for c in customers[:20]} <= {c["Name"] for c in shared}
    assert len(shared) >= 20
    for contact in shared:
        assert contact["EmailAddress"] == qbo[contact["Name"]]
    first = customers[0]
    mirror = next(c for c in contacts if c["Name"] == first["DisplayName"])
    street = mirror["Addresses"][0]
    assert (
        street["AddressLine1"] == first["BillAddr"]["Line1"] and street["City"] == first["BillAddr"]["City"]
    )
    phone = mirror["Phones"][0]
    assert f"({phone['PhoneAreaCode']}) {phone['PhoneNumber']}" == first["PrimaryPhone"]["FreeFormNumber"]


def test_bulk_records_and_touch_spread_over_time(xero_live: LiveXero) -> None:
    org = xero_live.new_org(contacts=5)
    added = org.admin("POST", "/contacts/bulk", json={"count": 5000, "seed": 2})
    assert added.status_code == 201 and added.json()["total"] == 5005
    invoices = org.admin("POST", "/invoices/bulk", json={"count": 300, "seed": 2, "paid_share": 0.5}).json()
    assert invoices["created"] == 300
    listed = org.get("Invoices", params={"page": 1, "pageSize": 1000}).json()["Invoices"]
    assert 100 < sum(i["Status"] == "PAID" for i in listed) < 200
    names = org.rows("Contacts", page=1, pageSize=1000, includeArchived="true")
    assert len({c["Name"].casefold() for c in names}) == len(names)
    assert org.admin("GET", "/stats").json()["by_path"] == {
        "/api.xro/2.0/Invoices": {"200": 1},
        "/api.xro/2.0/Contacts": {"200": 1},
    }


def test_touch_stamps_edits_over_the_span_before_now(xero_live: LiveXero) -> None:
    org = xero_live.new_org(contacts=60, invoices=30)
    xero_live.clock.advance(1200)
    now_ms = int(xero_live.clock.now() * 1000)
    spread = {"contacts": 20, "invoices": 10, "seed": 5, "spread_seconds": 1000}
    touched = org.admin("POST", "/touch", json=spread).json()
    assert len(touched["contacts"]) == 20 and len(touched["invoices"]) == 10
    changed = org.get("Contacts", params={"IDs": ",".join(touched["contacts"])}).json()["Contacts"]
    changed += org.get("Invoices", params={"IDs": ",".join(touched["invoices"])}).json()["Invoices"]
    stamps = sorted(int(MS_DATE.match(c["UpdatedDateUTC"]).group(1)) for c in changed)
    assert now_ms - 1_000_000 <= stamps[0] and stamps[-1] <= now_ms + 1000
    assert stamps[-1] - stamps[0] > 900_000  # spread out, not all at once


def test_tenants_are_listed_and_deleted_but_not_the_demo(xero_live: LiveXero) -> None:
    org = xero_live.new_org(name="Short Lived")
    listed = {t["tenant_id"]: t for t in xero_live.http.get("/_sandbox/tenants").json()["tenants"]}
    assert listed[DEMO_TENANT]["demo"] is True and listed[org.tenant_id]["name"] == "Short Lived"
    assert xero_live.http.delete(f"/_sandbox/tenants/{DEMO_TENANT}").status_code == 409
    assert xero_live.http.delete(f"/_sandbox/tenants/{org.tenant_id}").status_code == 204
    gone = org.get("Contacts")
    assert gone.status_code == 403
