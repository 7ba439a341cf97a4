"""Invoice writes as QBO makes them: what the server fills in, full and sparse updates guarded by
SyncToken (5010 when stale), void, delete, and the validation faults for missing and bad references."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from connectors.sandbox.common.clock import Clock
from tests.sandbox.conftest import QboRealm


@pytest.fixture
def books(new_realm: Callable[..., QboRealm]) -> QboRealm:
    return new_realm(customers=8, seed=2)


def _item(realm: QboRealm, name: str) -> dict[str, Any]:
    return realm.objects(f"SELECT * FROM Item WHERE Name = '{name}'")[0]


def _customer(realm: QboRealm, n: int = 0) -> dict[str, Any]:
    return realm.rows("SELECT * FROM Customer")[n]


def _line(item_id: str, amount: float | None = None, **detail: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": item_id}, **detail},
    }
    if amount is not None:
        line["Amount"] = amount
    return line


def _invoice(realm: QboRealm, **extra: Any) -> dict[str, Any]:
    body = {
        "CustomerRef": {"value": _customer(realm)["Id"]},
        "Line": [_line(_item(realm, "Tax preparation")["Id"], 650)],
        **extra,
    }
    response = realm.post("invoice", body)
    assert response.status_code == 200, response.text
    return response.json()["Invoice"]


def _fault(response) -> dict[str, str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["Fault"]["type"] == "ValidationFault"
    error = body["Fault"]["Error"][0]
    return {
        "code": error["code"],
        "message": error["Message"],
        "detail": error["Detail"],
        "element": error["element"],
    }


def test_create_fills_what_the_server_owns(books: QboRealm, clock: Clock) -> None:
    customer = _customer(books)
    tax_prep, advisory = _item(books, "Tax preparation"), _item(books, "Advisory hours")
    response = books.post(
        "invoice",
        {
            "CustomerRef": {"value": customer["Id"]},
            "Line": [
                _line(tax_prep["Id"], 650),
                {
                    **_line(advisory["Id"], Qty=2.5, UnitPrice=175, TaxCodeRef={"value": "TAX"}),
                    "Description": "Q3",
                },
            ],
        },
    )
    assert response.status_code == 200, response.text
    invoice = response.json()["Invoice"]
    today = datetime.fromtimestamp(clock.now(), datetime.fromisoformat(response.json()["time"]).tzinfo).date()
    assert (invoice["SyncToken"], invoice["DocNumber"], invoice["TxnDate"]) == (
        "0",
        "1001",
        today.isoformat(),
    )
    assert invoice["DueDate"] == (today + timedelta(days=30)).isoformat()  # Net 30
    assert (invoice["TotalAmt"], invoice["Balance"]) == (1087.5, 1087.5)
    assert invoice["CustomerRef"] == {"value": customer["Id"], "name": customer["DisplayName"]}
    assert invoice["BillAddr"] == customer["BillAddr"]
    assert invoice["BillEmail"] == customer["PrimaryEmailAddr"]
    assert (invoice["EmailStatus"], invoice["PrintStatus"], invoice["LinkedTxn"]) == ("NotSet", "NotSet", [])
    assert invoice["CurrencyRef"] == {"value": "USD", "name": "United States Dollar"}
    assert invoice["TxnTaxDetail"] == {"TotalTax": 0}
    first, second, subtotal = invoice["Line"]
    assert (first["Id"], first["LineNum"], second["Id"], second["LineNum"]) == ("1", 1, "2", 2)
    assert first["SalesItemLineDetail"] == {
        "ItemRef": {"value": tax_prep["Id"], "name": "Tax preparation"},
        "ItemAccountRef": tax_prep["IncomeAccountRef"],
        "TaxCodeRef": {"value": "NON"},  # the item is not taxable
    }
    assert second["Amount"] == 437.5  # Qty x UnitPrice when the client leaves Amount out
    assert second["SalesItemLineDetail"]["TaxCodeRef"] == {"value": "TAX"}
    assert subtotal == {"Amount": 1087.5, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
    meta = invoice["MetaData"]
    assert meta["CreateTime"] == meta["LastUpdatedTime"]
    assert abs(datetime.fromisoformat(meta["CreateTime"]).timestamp() - clock.now()) < 2
    assert books.get("invoice", invoice["Id"]).json()["Invoice"] == invoice
    assert _invoice(books)["DocNumber"] == "1002"
    assert _invoice(books, DocNumber="INV-77", TxnDate="2026-01-15")["DueDate"] == "2026-02-14"


def test_full_update_replaces_and_sparse_update_merges(books: QboRealm, clock: Clock) -> None:
    advisory = _item(books, "Advisory hours")["Id"]
    invoice = _invoice(
        books,
        PrivateNote="first draft",
        EmailStatus="NeedToSend",
        Line=[_line(advisory, 175), _line(advisory, 350)],
    )
    clock.advance(5)
    sparse = books.post(
        "invoice", {"Id": invoice["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "merged"}
    ).json()["Invoice"]
    assert (sparse["SyncToken"], sparse["PrivateNote"], sparse["EmailStatus"]) == (
        "1",
        "merged",
        "NeedToSend",
    )
    assert sparse["Line"] == invoice["Line"]
    assert sparse["MetaData"]["CreateTime"] == invoice["MetaData"]["CreateTime"]
    assert sparse["MetaData"]["LastUpdatedTime"] > invoice["MetaData"]["LastUpdatedTime"]

    kept_line = {**sparse["Line"][0], "Amount": 225}
    full = books.post(
        "invoice",
        {"Id": invoice["Id"], "SyncToken": "1", "CustomerRef": invoice["CustomerRef"], "Line": [kept_line]},
    ).json()["Invoice"]
    assert "PrivateNote" not in full and full["EmailStatus"] == "NotSet"  # what the body left out is cleared
    assert (full["DocNumber"], full["TotalAmt"], full["Balance"]) == (invoice["DocNumber"], 225, 225)
    assert [line.get("Id") for line in full["Line"]] == ["1", None]  # the kept line keeps its Id

    added = books.post(
        "invoice",
        {
            "Id": invoice["Id"],
            "SyncToken": "2",
            "sparse": True,
            "Line": [full["Line"][0], _line(advisory, 50)],
        },
    ).json()["Invoice"]
    assert [line.get("Id") for line in added["Line"]] == ["1", "2", None]
    assert added["TotalAmt"] == 275


def test_a_stale_sync_token_is_the_5010_fault(books: QboRealm) -> None:
    invoice = _invoice(books)
    assert books.post("invoice", {**invoice, "PrivateNote": "v1"}).status_code == 200
    response = books.post("invoice", {**invoice, "PrivateNote": "lost update"})
    assert response.status_code == 400
    body = response.json()
    datetime.fromisoformat(body.pop("time"))
    assert body == {
        "Fault": {
            "Error": [
                {
                    "Message": "Stale Object Error",
                    "Detail": "Stale Object Error : You and Sandbox Admin were working on this at the same "
                    "time. Sandbox Admin finished before you did, so your work was not saved. Entity=Invoice",
                    "code": "5010",
                    "element": "",
                }
            ],
            "type": "ValidationFault",
        }
    }
    assert books.get("invoice", invoice["Id"]).json()["Invoice"]["PrivateNote"] == "v1"
    missing = _fault(books.post("invoice", {"Id": invoice["Id"], "PrivateNote": "no token"}))
    assert (missing["code"], missing["element"]) == ("2020", "SyncToken")


def test_an_edit_in_quickbooks_makes_the_apps_copy_stale(books: QboRealm) -> None:
    invoice = _invoice(books)
    edited = books.admin(
        "POST",
        f"/entities/Invoice/{invoice['Id']}/edit",
        json={"changes": {"PrivateNote": "Discount agreed by phone"}, "editor": "Avery Park"},
    ).json()["Invoice"]
    assert (edited["SyncToken"], edited["PrivateNote"]) == ("1", "Discount agreed by phone")
    conflict = _fault(books.post("invoice", {**invoice, "PrivateNote": "pushed by the app"}))
    assert conflict["code"] == "5010"
    assert conflict["detail"].startswith("Stale Object Error : You and Avery Park were working on this")
    refused = books.admin(
        "POST", f"/entities/Invoice/{invoice['Id']}/edit", json={"changes": {"Colour": "red"}}
    )
    assert _fault(refused)["code"] == "2010"  # an edit in QuickBooks follows the same rules


def test_void_zeroes_the_amounts_and_keeps_the_invoice(books: QboRealm) -> None:
    invoice = _invoice(books, PrivateNote="to be voided")
    stale = books.post("invoice", {"Id": invoice["Id"], "SyncToken": "7"}, operation="void")
    assert _fault(stale)["code"] == "5010"
    voided = books.post("invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="void").json()[
        "Invoice"
    ]
    assert (voided["SyncToken"], voided["TotalAmt"], voided["Balance"]) == ("1", 0, 0)
    assert voided["PrivateNote"] == "Voided"
    assert [line["Amount"] for line in voided["Line"]] == [0, 0]
    assert voided["DocNumber"] == invoice["DocNumber"]
    assert books.objects(f"SELECT * FROM Invoice WHERE Id = '{invoice['Id']}'") == [voided]
    not_voidable = books.post("creditmemo", {"Id": "1", "SyncToken": "0"}, operation="void")
    assert _fault(not_voidable)["code"] == "500"


def test_delete_removes_the_invoice_for_good(books: QboRealm) -> None:
    invoice = _invoice(books)
    before = books.query("SELECT COUNT(*) FROM Invoice").json()["QueryResponse"]["totalCount"]
    assert (
        _fault(books.post("invoice", {"Id": invoice["Id"], "SyncToken": "3"}, operation="delete"))["code"]
        == "5010"
    )
    response = books.post("invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="delete")
    assert response.status_code == 200
    assert response.json()["Invoice"] == {"status": "Deleted", "domain": "QBO", "Id": invoice["Id"]}
    gone = _fault(books.get("invoice", invoice["Id"]))
    assert (gone["code"], gone["detail"]) == (
        "610",
        "Object Not Found : Another user has deleted this transaction.",
    )
    assert _fault(books.post("invoice", {**invoice, "PrivateNote": "too late"}))["code"] == "610"
    assert books.query("SELECT COUNT(*) FROM Invoice").json()["QueryResponse"]["totalCount"] == before - 1
    assert _fault(books.post("item", {"Id": "1", "SyncToken": "0"}, operation="delete"))["code"] == "500"


def _deactivated_customer(realm: QboRealm) -> str:
    customer = _customer(realm, 1)
    realm.write({"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True, "Active": False})
    return customer["Id"]


def _deactivated_item(realm: QboRealm) -> str:
    item = _item(realm, "Hours")
    realm.post("item", {"Id": item["Id"], "SyncToken": item["SyncToken"], "sparse": True, "Active": False})
    return item["Id"]


@pytest.mark.parametrize(
    ("change", "code", "element", "detail"),
    [
        (
            lambda r, b: b.pop("CustomerRef"),
            "2020",
            "CustomerRef",
            "Required parameter CustomerRef is missing",
        ),
        (lambda r, b: b.pop("Line"), "2020", "Line", "Required parameter Line is missing in the request"),
        (
            lambda r, b: b["Line"][0].pop("SalesItemLineDetail"),
            "2020",
            "Line.SalesItemLineDetail",
            "Required parameter Line.SalesItemLineDetail is missing in the request",
        ),
        (
            lambda r, b: b["Line"][0]["SalesItemLineDetail"].update(ItemRef={"value": "999"}),
            "2500",
            "Line.SalesItemLineDetail.ItemRef",
            "Invalid Reference Id : Line.SalesItemLineDetail.ItemRef",
        ),
        (
            lambda r, b: b["Line"][0]["SalesItemLineDetail"].update(TaxCodeRef={"value": "GST"}),
            "2500",
            "Line.SalesItemLineDetail.TaxCodeRef",
            "Invalid Reference Id : Line.SalesItemLineDetail.TaxCodeRef",
        ),
        (
            lambda r, b: b.update(CustomerRef={"value": "4242"}),
            "2500",
            "CustomerRef",
            "Invalid Reference Id : CustomerRef",
        ),
        (
            lambda r, b: b.update(CustomerRef={"value": _deactivated_customer(r)}),
            "610",
            "CustomerRef",
            "Object Not Found : Something you're trying to use has been made inactive.",
        ),
        (
            lambda r, b: b["Line"][0]["SalesItemLineDetail"].update(ItemRef={"value": _deactivated_item(r)}),
            "610",
            "Line.SalesItemLineDetail.ItemRef",
            "has been made inactive",
        ),
        (lambda r, b: b["Line"][0].pop("Amount"), "2020", "Line.Amount", "Required parameter Line.Amount"),
        (lambda r, b: b.update(TxnDate="12/01/2026"), "2050", "", "TxnDate is not a valid date"),
        (lambda r, b: b.update(Colour="red"), "2010", "", "Property Name:Colour specified is unsupported"),
        (lambda r, b: b.update(TotalAmt="lots"), None, None, None),  # server-owned: ignored, not a fault
    ],
)
def test_bad_invoices_are_validation_faults(books: QboRealm, change, code, element, detail) -> None:
    body = {
        "CustomerRef": {"value": _customer(books)["Id"]},
        "Line": [_line(_item(books, "Hours")["Id"], 100)],
    }
    change(books, body)
    before = books.query("SELECT COUNT(*) FROM Invoice").json()["QueryResponse"]["totalCount"]
    response = books.post("invoice", body)
    after = books.query("SELECT COUNT(*) FROM Invoice").json()["QueryResponse"]["totalCount"]
    if code is None:
        assert response.status_code == 200 and response.json()["Invoice"]["TotalAmt"] == 100
        return
    fault = _fault(response)
    assert (fault["code"], fault["element"]) == (code, element)
    assert detail in fault["detail"]
    assert after == before


def test_discounts_and_description_lines(books: QboRealm) -> None:
    advisory = _item(books, "Advisory hours")["Id"]
    invoice = _invoice(
        books,
        Line=[
            _line(advisory, 400),
            {"DetailType": "DescriptionOnly", "Description": "Thank you for your business"},
            {
                "DetailType": "DiscountLineDetail",
                "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10},
            },
        ],
    )
    assert invoice["TotalAmt"] == 360
    kinds = [line["DetailType"] for line in invoice["Line"]]
    assert kinds == ["SalesItemLineDetail", "DescriptionOnly", "SubTotalLineDetail", "DiscountLineDetail"]
    discount = invoice["Line"][-1]
    assert discount["Amount"] == 40
    assert discount["DiscountLineDetail"]["DiscountAccountRef"]["name"] == "Discounts given"
    group = books.post("invoice", {**invoice, "Id": None, "Line": [{"DetailType": "GroupLineDetail"}]})
    assert _fault(group)["code"] == "500"


def test_request_id_makes_a_retried_invoice_create_idempotent(books: QboRealm) -> None:
    body = {
        "CustomerRef": {"value": _customer(books)["Id"]},
        "Line": [_line(_item(books, "Hours")["Id"], 90)],
    }
    first = books.post("invoice", body, requestid="inv-1").json()["Invoice"]
    again = books.post("invoice", body, requestid="inv-1").json()["Invoice"]
    assert again == first
    assert books.query("SELECT COUNT(*) FROM Invoice").json()["QueryResponse"]["totalCount"] == 1
