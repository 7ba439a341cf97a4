"""Query, read and CDC for the accounting entities: Invoice, Payment, CreditMemo, Item, Account, TaxCode."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from connectors.sandbox.common.clock import Clock
from tests.sandbox.conftest import QboRealm

ALL_INVOICES = "SELECT * FROM Invoice MAXRESULTS 1000"


@pytest.fixture
def books(new_realm: Callable[..., QboRealm]) -> QboRealm:
    """A company with 20 clients and 60 seeded invoices, most of them paid."""
    return new_realm(customers=20, invoices=60, seed=4)


def _since(clock: Clock, seconds_ago: float = 1) -> str:
    return datetime.fromtimestamp(clock.now() - seconds_ago, UTC).isoformat()


def test_every_company_starts_with_accounts_items_and_tax_codes(new_realm) -> None:
    realm = new_realm(customers=0)
    accounts = {a["Name"]: a for a in realm.objects("SELECT * FROM Account")}
    assert accounts["Undeposited Funds"]["AccountType"] == "Other Current Asset"
    assert accounts["Undeposited Funds"]["Classification"] == "Asset"
    assert accounts["Accounts Receivable (A/R)"]["AccountSubType"] == "AccountsReceivable"
    assert {a["Classification"] for a in accounts.values() if a["AccountType"] == "Income"} == {"Revenue"}
    assert len({a["AcctNum"] for a in accounts.values()}) == len(accounts)

    items = {i["Name"]: i for i in realm.objects("SELECT * FROM Item")}
    assert {"Tax preparation", "Advisory hours", "Bookkeeping"} <= items.keys()
    tax_prep = items["Tax preparation"]
    assert (tax_prep["Type"], tax_prep["UnitPrice"]) == ("Service", 450)
    assert tax_prep["IncomeAccountRef"] == {
        "value": accounts["Tax Preparation Income"]["Id"],
        "name": "Tax Preparation Income",
    }
    assert items["Filing fees"]["Type"] == "NonInventory"

    codes = realm.objects("SELECT * FROM TaxCode")
    assert [(c["Id"], c["Taxable"]) for c in codes] == [("TAX", True), ("NON", False)]
    assert realm.get("taxcode", "NON").json()["TaxCode"] == codes[1]
    assert realm.objects("SELECT * FROM TaxCode WHERE Id = 'TAX'") == codes[:1]


@pytest.mark.parametrize(
    ("where", "keep"),
    [
        ("Balance > '0'", lambda i, mid, who: i["Balance"] > 0),
        ("Balance = '0'", lambda i, mid, who: i["Balance"] == 0),
        ("TotalAmt >= '1000'", lambda i, mid, who: i["TotalAmt"] >= 1000),
        ("TxnDate >= '{mid}'", lambda i, mid, who: i["TxnDate"] >= mid),
        ("DueDate < '{mid}'", lambda i, mid, who: i["DueDate"] < mid),
        ("CustomerRef = '{who}'", lambda i, mid, who: i["CustomerRef"]["value"] == who),
        ("CustomerRef IN ('{who}', '1')", lambda i, mid, who: i["CustomerRef"]["value"] in (who, "1")),
        ("DocNumber = '1005'", lambda i, mid, who: i["DocNumber"] == "1005"),
        ("EmailStatus = 'emailsent'", lambda i, mid, who: i["EmailStatus"] == "EmailSent"),  # any case
    ],
)
def test_invoice_filters_match_the_objects(books: QboRealm, where: str, keep) -> None:
    everything = books.objects(ALL_INVOICES)
    assert len(everything) == 60
    mid = sorted(i["TxnDate"] for i in everything)[30]
    who = everything[7]["CustomerRef"]["value"]
    where = where.format(mid=mid, who=who)
    expected = [i["Id"] for i in everything if keep(i, mid, who)]
    assert expected, f"the seed should give invoices for {where}"
    got = [i["Id"] for i in books.objects(f"SELECT * FROM Invoice WHERE {where} MAXRESULTS 1000")]
    assert got == expected
    count = books.query(f"SELECT COUNT(*) FROM Invoice WHERE {where}").json()["QueryResponse"]["totalCount"]
    assert count == len(expected)


def test_ordering_and_paging_invoices(books: QboRealm) -> None:
    newest_first = books.objects("SELECT * FROM Invoice ORDERBY TxnDate DESC, Id MAXRESULTS 1000")
    keys = [(date.fromisoformat(i["TxnDate"]), -int(i["Id"])) for i in newest_first]
    assert keys == sorted(keys, reverse=True)
    pages = [
        books.objects(f"SELECT * FROM Invoice ORDERBY TxnDate DESC, Id STARTPOSITION {start} MAXRESULTS 25")
        for start in (1, 26, 51, 76)
    ]
    assert [len(page) for page in pages] == [25, 25, 10, 0]
    assert [i["Id"] for page in pages for i in page] == [i["Id"] for i in newest_first]
    # Transactions share one Id sequence, so invoice Ids have gaps where payments were entered.
    ids = [int(i["Id"]) for i in books.objects(ALL_INVOICES)]
    assert ids == sorted(ids) and ids[-1] > len(ids)


def test_payments_and_credit_memos_are_queryable(new_realm) -> None:
    realm = new_realm(customers=10, invoices=40, seed=9)
    invoices = {i["Id"]: i for i in realm.objects(ALL_INVOICES)}
    payments = realm.objects("SELECT * FROM Payment MAXRESULTS 1000")
    assert payments
    for payment in payments:
        (line,) = payment["Line"]
        (link,) = line["LinkedTxn"]
        invoice = invoices[link["TxnId"]]
        assert link["TxnType"] == "Invoice"
        assert payment["CustomerRef"] == invoice["CustomerRef"]
        assert {"TxnId": payment["Id"], "TxnType": "Payment"} in invoice["LinkedTxn"]
        assert payment["UnappliedAmt"] == 0
        assert payment["DepositToAccountRef"]["name"] == "Undeposited Funds"
    paid = [i for i in invoices.values() if i["LinkedTxn"]]
    assert all(i["Balance"] < i["TotalAmt"] for i in paid)
    assert all(i["Balance"] == i["TotalAmt"] for i in invoices.values() if not i["LinkedTxn"])
    one = payments[0]
    assert realm.objects(f"SELECT * FROM Payment WHERE CustomerRef = '{one['CustomerRef']['value']}'")
    assert realm.get("payment", one["Id"]).json()["Payment"] == one
    assert realm.query("SELECT COUNT(*) FROM CreditMemo").json()["QueryResponse"] == {"totalCount": 0}


@pytest.mark.parametrize("entity", ["Invoice", "Payment", "Item", "Account"])
def test_incremental_query_on_last_updated(books: QboRealm, clock: Clock, entity: str) -> None:
    clock.advance(60)
    since = _since(clock)
    assert books.objects(f"SELECT * FROM {entity} WHERE MetaData.LastUpdatedTime >= '{since}'") == []
    touched = books.admin("POST", f"/entities/{entity}/touch", json={"count": 3, "seed": 1}).json()["touched"]
    changed = books.objects(
        f"SELECT * FROM {entity} WHERE MetaData.LastUpdatedTime >= '{since}' ORDERBY MetaData.LastUpdatedTime"
    )
    assert sorted(o["Id"] for o in changed) == sorted(touched)
    assert all("Reviewed by Accountant" in (o.get("PrivateNote") or o.get("Description")) for o in changed)
    for obj in changed:
        assert books.get(entity.lower(), obj["Id"]).json()[entity] == obj


def test_inactive_items_and_accounts_are_hidden_unless_asked_for(books: QboRealm) -> None:
    item = books.objects("SELECT * FROM Item WHERE Name = 'Payroll processing'")[0]
    gone = books.post("item", {**item, "Active": False}).json()["Item"]
    assert gone["Name"] == gone["FullyQualifiedName"] == "Payroll processing (deleted)"
    assert item["Id"] not in {i["Id"] for i in books.objects("SELECT * FROM Item")}
    assert [i["Id"] for i in books.objects("SELECT * FROM Item WHERE Active = false")] == [item["Id"]]
    assert books.query("SELECT COUNT(*) FROM Item WHERE Active IN (true, false)").json()["QueryResponse"] == {
        "totalCount": 7
    }
    back = books.post("item", {**gone, "Active": True}).json()["Item"]
    assert back["Name"] == "Payroll processing"


def test_cdc_reports_every_entity_with_deletions(books: QboRealm, clock: Clock) -> None:
    clock.advance(60)
    since = _since(clock)
    customer = books.rows("SELECT * FROM Customer MAXRESULTS 1")[0]
    item = books.objects("SELECT * FROM Item WHERE Name = 'Advisory hours'")[0]
    invoice = books.post(
        "invoice",
        {
            "CustomerRef": {"value": customer["Id"]},
            "Line": [
                {
                    "Amount": 350,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}},
                }
            ],
        },
    ).json()["Invoice"]
    clock.advance(1)
    payment = books.post(
        "payment",
        {
            "CustomerRef": {"value": customer["Id"]},
            "TotalAmt": 100,
            "Line": [{"Amount": 100, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    ).json()["Payment"]
    clock.advance(1)
    doomed = books.objects("SELECT * FROM Invoice WHERE Balance > '0' MAXRESULTS 1")[0]
    books.admin("POST", f"/entities/Invoice/{doomed['Id']}/delete", json={"editor": "Avery"})
    books.admin("POST", "/entities/Account/touch", json={"count": 1})

    response = books.client.get(
        f"{books.api}/cdc",
        params={"entities": "Customer,Invoice,Payment,CreditMemo,Item,Account", "changedSince": since},
        headers=books.headers,
    )
    assert response.status_code == 200, response.text
    (changes,) = response.json()["CDCResponse"]
    names = [next((key for key in r if key[0].isupper()), None) for r in changes["QueryResponse"]]
    assert names == [None, "Invoice", "Payment", None, None, "Account"]  # in the order asked for; {} if none
    by_entity = dict(zip(names, changes["QueryResponse"], strict=True))
    invoices = {i["Id"]: i for i in by_entity["Invoice"]["Invoice"]}
    assert invoices[invoice["Id"]]["SyncToken"] == "1"  # reported once, as it is now (after the payment)
    assert invoices[invoice["Id"]]["Balance"] == 250
    deleted_at = invoices[doomed["Id"]]["MetaData"]["LastUpdatedTime"]
    assert invoices[doomed["Id"]] == {
        "domain": "QBO",
        "status": "Deleted",
        "Id": doomed["Id"],
        "MetaData": {"LastUpdatedTime": deleted_at},
    }
    assert datetime.fromisoformat(deleted_at).utcoffset() in (timedelta(hours=-8), timedelta(hours=-7))
    assert by_entity["Payment"]["Payment"][0]["Id"] == payment["Id"]
    # Deleting a paid invoice took it off its payments, which were revised too.
    assert all(
        link["TxnId"] != doomed["Id"]
        for p in by_entity["Payment"]["Payment"]
        for line in p["Line"]
        for link in line["LinkedTxn"]
    )
    stamps = [i["MetaData"]["LastUpdatedTime"] for i in by_entity["Invoice"]["Invoice"]]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize(
    ("entities", "detail"),
    [
        ("TaxCode", "not supported for TaxCode"),
        ("Invoice,Bill", "not emulated"),
        ("invoice", "Invalid entity"),
    ],
)
def test_cdc_entity_errors(books: QboRealm, clock: Clock, entities: str, detail: str) -> None:
    response = books.client.get(
        f"{books.api}/cdc",
        params={"entities": entities, "changedSince": _since(clock)},
        headers=books.headers,
    )
    assert response.status_code == 400
    assert detail in response.json()["Fault"]["Error"][0]["Detail"]


def test_cdc_caps_all_entities_together_at_1000_objects(new_realm, clock: Clock) -> None:
    realm = new_realm(customers=5)
    since = _since(clock, 2 * 86_400)
    realm.admin(
        "POST", "/invoices/bulk", json={"count": 600, "days": 1, "paid_share": 1, "partly_paid_share": 0}
    )
    response = realm.client.get(
        f"{realm.api}/cdc",
        params={"entities": "Invoice,Payment", "changedSince": since},
        headers=realm.headers,
    )
    invoices, payments = response.json()["CDCResponse"][0]["QueryResponse"]
    assert len(invoices["Invoice"]) + len(payments["Payment"]) == 1000
    assert invoices["totalCount"] == len(invoices["Invoice"])


@pytest.mark.parametrize(
    ("statement", "code", "detail"),
    [
        ("SELECT * FROM Invoice WHERE Active = true", "4001", "Property Active not found for Entity Invoice"),
        ("SELECT * FROM Invoice WHERE TxnDate > 'last week'", "4001", "not a valid date"),
        ("SELECT * FROM Payment WHERE CustomerRef LIKE '1%'", "4001", "LIKE is not supported"),
        ("SELECT * FROM Item ORDERBY Colour", "4001", "Property Colour not found for Entity Item"),
        ("SELECT * FROM invoice", "4000", "Invalid entity name"),
    ],
)
def test_bad_accounting_queries(books: QboRealm, statement: str, code: str, detail: str) -> None:
    response = books.query(statement)
    assert response.status_code == 400
    error = response.json()["Fault"]["Error"][0]
    assert (error["code"], detail in error["Detail"]) == (code, True)
