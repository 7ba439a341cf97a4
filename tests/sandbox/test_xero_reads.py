"""Reading the Accounting API over real HTTP: envelopes, Xero's JSON dates and decimals, get by id,
paging, If-Modified-Since, where / order / IDs, and the totals a seeded book must agree on."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime

import pytest

from tests.sandbox.xero_fixtures import LiveXero, XeroOrg

MS_DATE = re.compile(r"^/Date\((\d+)\+0000\)/$")
ENVELOPE_DATE = re.compile(r"^/Date\(\d+\)/$")
ID_FIELDS = {
    "Contacts": "ContactID",
    "Invoices": "InvoiceID",
    "CreditNotes": "CreditNoteID",
    "Payments": "PaymentID",
    "Items": "ItemID",
    "Accounts": "AccountID",
}


def _updated_ms(row: dict) -> int:
    match = MS_DATE.match(row["UpdatedDateUTC"])
    assert match, row["UpdatedDateUTC"]
    return int(match.group(1))


@pytest.mark.parametrize("collection", sorted(ID_FIELDS))
def test_each_collection_lists_and_gets_by_id(xero_org: XeroOrg, collection: str) -> None:
    response = xero_org.get(collection)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["Status"] == "OK" and body["ProviderName"] == "firmsync (sandbox)"
    assert ENVELOPE_DATE.match(body["DateTimeUTC"]) and len(body["Id"]) == 36
    rows = body[collection]
    assert rows, f"the seeded organisation has no {collection}"
    for row in rows:
        _updated_ms(row)
    chosen = rows[len(rows) // 2]
    one = xero_org.get(f"{collection}/{chosen[ID_FIELDS[collection]]}")
    assert one.status_code == 200
    (single,) = one.json()[collection]
    assert single[ID_FIELDS[collection]] == chosen[ID_FIELDS[collection]]
    missing = xero_org.get(f"{collection}/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.text == "The resource you're looking for cannot be found"


def test_amounts_are_decimals_and_dates_are_microsoft_json(xero_org: XeroOrg) -> None:
    raw = xero_org.get("Invoices", params={"page": 1}).text
    assert re.search(r'"CurrencyRate":1\.000000[,}]', raw)
    assert re.search(r'"Total":\d+\.\d\d[,}]', raw) and re.search(r'"Quantity":\d+\.0000[,}]', raw)
    invoice = xero_org.rows("Invoices", page=1)[0]
    day = datetime.fromisoformat(invoice["DateString"]).replace(tzinfo=UTC)
    assert invoice["Date"] == f"/Date({int(day.timestamp() * 1000)}+0000)/"


def test_seeded_invoices_add_up(xero_org: XeroOrg) -> None:
    invoices = xero_org.rows("Invoices", page=1, pageSize=1000)
    assert {i["Status"] for i in invoices} >= {"AUTHORISED", "PAID", "DRAFT"}
    payments = {p["PaymentID"]: p for p in xero_org.rows("Payments", page=1, pageSize=1000)}
    for invoice in invoices:
        lines = invoice["LineItems"]
        assert lines and all(line["LineItemID"] for line in lines)
        assert Decimal(str(invoice["SubTotal"])) + Decimal(str(invoice["TotalTax"])) == Decimal(
            str(invoice["Total"])
        )
        if invoice["Status"] in ("VOIDED", "DELETED"):
            continue
        paid = sum((Decimal(str(p["Amount"])) for p in invoice["Payments"]), Decimal("0"))
        assert paid == Decimal(str(invoice["AmountPaid"]))
        due = Decimal(str(invoice["Total"])) - paid - Decimal(str(invoice["AmountCredited"]))
        assert due == Decimal(str(invoice["AmountDue"]))
        assert (invoice["Status"] == "PAID") == (due == 0 and invoice["Status"] != "DRAFT")
        for payment in invoice["Payments"]:
            assert payments[payment["PaymentID"]]["Invoice"]["InvoiceID"] == invoice["InvoiceID"]
    credited = [i for i in invoices if i["CreditNotes"]]
    assert credited
    notes = {n["CreditNoteID"]: n for n in xero_org.rows("CreditNotes", page=1)}
    for invoice in credited:
        for applied in invoice["CreditNotes"]:
            allocations = notes[applied["CreditNoteID"]]["Allocations"]
            assert [a["Invoice"]["InvoiceID"] for a in allocations] == [invoice["InvoiceID"]]


def test_paging_100_per_page_with_pagination(xero_live: LiveXero) -> None:
    org = xero_live.new_org(contacts=230)
    everything = org.rows("Contacts", includeArchived="true")
    pages = [org.get("Contacts", params={"page": n, "includeArchived": "true"}).json() for n in (1, 2, 3, 4)]
    assert [len(p["Contacts"]) for p in pages] == [100, 100, 30, 0]
    assert pages[0]["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 3, "itemCount": 230}
    assert [c["ContactID"] for p in pages for c in p["Contacts"]] == [c["ContactID"] for c in everything]
    big = org.get("Contacts", params={"page": 1, "pageSize": 5000, "includeArchived": "true"}).json()
    assert big["pagination"]["pageSize"] == 1000 and len(big["Contacts"]) == 230
    # Unpaged answers have no pagination; Items and Accounts are not paged at all.
    assert "pagination" not in org.get("Contacts").json()
    assert "pagination" not in org.get("Items", params={"page": 1}).json()


def test_unpaged_invoice_lists_leave_out_line_items(xero_org: XeroOrg) -> None:
    unpaged = xero_org.rows("Invoices")
    paged = xero_org.rows("Invoices", page=1)
    assert all(i["LineItems"] == [] for i in unpaged)
    assert all(i["LineItems"] for i in paged)
    one = xero_org.rows(f"Invoices/{unpaged[0]['InvoiceID']}")[0]
    assert one["LineItems"]


def test_if_modified_since_returns_only_later_changes(xero_org: XeroOrg, xero_live: LiveXero) -> None:
    before = xero_org.rows("Contacts")
    newest = max(_updated_ms(c) for c in before)
    cut = datetime.fromtimestamp(newest / 1000, UTC)
    unchanged = xero_org.get("Contacts", headers={"If-Modified-Since": cut.isoformat()}).json()["Contacts"]
    assert unchanged == []
    xero_live.clock.advance(600)
    touched = xero_org.admin("POST", "/touch", json={"contacts": 3, "invoices": 2, "seed": 1}).json()
    since_iso = xero_org.get("Contacts", headers={"If-Modified-Since": cut.replace(tzinfo=None).isoformat()})
    assert sorted(c["ContactID"] for c in since_iso.json()["Contacts"]) == sorted(touched["contacts"])
    newest_invoice = max(
        _updated_ms(i) for i in xero_org.rows("Invoices") if i["InvoiceID"] not in touched["invoices"]
    )
    http_date = format_datetime(
        datetime.fromtimestamp(newest_invoice / 1000, UTC) + timedelta(seconds=1), usegmt=True
    )
    since_http = xero_org.get("Invoices", headers={"If-Modified-Since": http_date}).json()["Invoices"]
    assert sorted(i["InvoiceID"] for i in since_http) == sorted(touched["invoices"])
    # Oldest change first, so a client can resume from the last UpdatedDateUTC it saw.
    stamps = [_updated_ms(c) for c in since_iso.json()["Contacts"]]
    assert stamps == sorted(stamps) and all(s > newest for s in stamps)
    bad = xero_org.get("Contacts", headers={"If-Modified-Since": "yesterday"})
    assert bad.status_code == 400


def test_where_order_and_ids(xero_org: XeroOrg) -> None:
    invoices = xero_org.rows("Invoices", page=1, pageSize=1000)
    authorised = xero_org.rows("Invoices", where='Status=="AUTHORISED"')
    assert {i["InvoiceID"] for i in authorised} == {
        i["InvoiceID"] for i in invoices if i["Status"] == "AUTHORISED"
    }
    contact_id = invoices[0]["Contact"]["ContactID"]
    theirs = xero_org.rows("Invoices", where=f'Contact.ContactID==guid("{contact_id.upper()}")')
    assert theirs and all(i["Contact"]["ContactID"] == contact_id for i in theirs)
    assert {i["InvoiceID"] for i in theirs} == {
        i["InvoiceID"] for i in xero_org.rows("Invoices", ContactIDs=contact_id)
    }
    middle = sorted(_updated_ms(i) for i in invoices)[len(invoices) // 2]
    stamp = datetime.fromtimestamp(middle / 1000, UTC)
    literal = f"DateTime({stamp.year}, {stamp.month:02d}, {stamp.day:02d})"
    later = xero_org.rows("Invoices", where=f"UpdatedDateUTC>={literal}")
    floor = int(datetime(stamp.year, stamp.month, stamp.day, tzinfo=UTC).timestamp() * 1000)
    assert {i["InvoiceID"] for i in later} == {i["InvoiceID"] for i in invoices if _updated_ms(i) >= floor}
    combined = xero_org.rows("Invoices", where='Status=="PAID" AND AmountPaid > 100 || Status=="DRAFT"')
    assert combined and all(
        (i["Status"] == "PAID" and i["AmountPaid"] > 100) or i["Status"] == "DRAFT" for i in combined
    )
    names = [c["Name"] for c in xero_org.rows("Contacts", order="Name DESC")]
    assert names == sorted(names, reverse=True)
    by_date = xero_org.rows("Invoices", order="Date ASC, InvoiceNumber DESC")
    assert [MS_DATE.match(i["Date"]).group(1) for i in by_date] == sorted(
        (MS_DATE.match(i["Date"]).group(1) for i in by_date), key=int
    )
    chosen = [invoices[1]["InvoiceID"], invoices[5]["InvoiceID"]]
    assert {i["InvoiceID"] for i in xero_org.rows("Invoices", IDs=",".join(chosen))} == set(chosen)
    contains = xero_org.rows("Contacts", where='Name.ToLower().Contains("a")')
    assert contains and all("a" in c["Name"].lower() for c in contains)
    bad = xero_org.get("Invoices", params={"where": 'Colour=="red"'})
    assert bad.status_code == 400
    assert bad.json() == {
        "ErrorNumber": 16,
        "Type": "QueryParseException",
        "Message": "No property or field 'Colour' exists in type 'Invoice'",
    }


def test_archived_contacts_need_include_archived(xero_live: LiveXero) -> None:
    org = xero_live.new_org(contacts=150)
    everyone = org.rows("Contacts", includeArchived="true")
    archived = [c for c in everyone if c["ContactStatus"] == "ARCHIVED"]
    assert archived, "the seed archives a few contacts"
    listed = org.rows("Contacts")
    assert len(listed) == len(everyone) - len(archived)
    assert not {c["ContactID"] for c in archived} & {c["ContactID"] for c in listed}


def test_items_accounts_and_organisation(xero_org: XeroOrg) -> None:
    items = xero_org.rows("Items")
    assert len(items) == 12 and all(i["SalesDetails"]["AccountCode"] == "210" for i in items)
    by_code = xero_org.rows(f"Items/{items[0]['Code']}")
    assert by_code[0]["ItemID"] == items[0]["ItemID"]
    accounts = xero_org.rows("Accounts", where='Type=="BANK"')
    assert [a["Code"] for a in accounts] == ["090"]
    organisation = xero_org.get("Organisation").json()
    assert organisation["Organisations"][0]["OrganisationID"] == xero_org.tenant_id
    assert organisation["Organisations"][0]["BaseCurrency"] == "USD"
