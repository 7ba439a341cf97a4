"""Item and Account writes: required properties per type, unique names, references to accounts, and
deactivation instead of deletion."""

from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox.conftest import QboRealm


@pytest.fixture
def books(new_realm: Callable[..., QboRealm]) -> QboRealm:
    return new_realm(customers=2)


def _account(realm: QboRealm, name: str) -> dict[str, Any]:
    return realm.objects(f"SELECT * FROM Account WHERE Name = '{name}'")[0]


def _fault(response) -> tuple[str, str, str]:
    assert response.status_code == 400, response.text
    error = response.json()["Fault"]["Error"][0]
    return error["code"], error["element"], error["Detail"]


def test_accounts_derive_classification_and_nest(books: QboRealm) -> None:
    parent = books.post("account", {"Name": "Consulting Income", "AccountType": "Income", "AcctNum": "4600"})
    parent = parent.json()["Account"]
    assert (parent["Classification"], parent["AccountSubType"], parent["SubAccount"]) == (
        "Revenue",
        "ServiceFeeIncome",
        False,
    )
    child = books.post(
        "account", {"Name": "Strategy", "AccountType": "Income", "ParentRef": {"value": parent["Id"]}}
    ).json()["Account"]
    assert child["FullyQualifiedName"] == "Consulting Income:Strategy"
    assert child["ParentRef"] == {"value": parent["Id"], "name": "Consulting Income"}
    assert child["SubAccount"] is True
    bank = books.post("account", {"Name": "Savings", "AccountType": "Bank"}).json()["Account"]
    assert (bank["Classification"], bank["AccountSubType"]) == ("Asset", "Checking")
    renamed = books.post(
        "account", {"Id": bank["Id"], "SyncToken": "0", "sparse": True, "Name": "Reserve Savings"}
    ).json()["Account"]
    assert (renamed["SyncToken"], renamed["FullyQualifiedName"], renamed["AccountType"]) == (
        "1",
        "Reserve Savings",
        "Bank",
    )


@pytest.mark.parametrize(
    ("body", "code", "detail"),
    [
        ({"AccountType": "Income"}, "2020", "Required parameter Name is missing"),
        ({"Name": "No Type"}, "2020", "Required parameter AccountType is missing"),
        ({"Name": "Odd", "AccountType": "Sideways"}, "2050", "AccountType Sideways"),
        ({"Name": "A:B", "AccountType": "Income"}, "2050", "cannot contain"),
        ({"Name": "services", "AccountType": "Income"}, "6240", "Another account is already using this name"),
        ({"Name": "Orphan", "AccountType": "Income", "ParentRef": {"value": "999"}}, "2500", "ParentRef"),
    ],
)
def test_bad_accounts(books: QboRealm, body: dict, code: str, detail: str) -> None:
    got_code, _, got_detail = _fault(books.post("account", body))
    assert got_code == code and detail in got_detail


def test_items_by_type(books: QboRealm) -> None:
    income = _account(books, "Advisory Income")
    service = books.post(
        "item",
        {
            "Name": "Estate planning",
            "Type": "Service",
            "UnitPrice": 300,
            "IncomeAccountRef": {"value": income["Id"]},
        },
    ).json()["Item"]
    assert service["IncomeAccountRef"] == {"value": income["Id"], "name": "Advisory Income"}
    assert (service["Active"], service["Taxable"], service["TrackQtyOnHand"], service["Level"]) == (
        True,
        False,
        False,
        0,
    )
    sub = books.post(
        "item",
        {
            "Name": "Trust review",
            "Type": "Service",
            "ParentRef": {"value": service["Id"]},
            "IncomeAccountRef": {"value": income["Id"]},
        },
    ).json()["Item"]
    assert (sub["FullyQualifiedName"], sub["SubItem"], sub["Level"]) == (
        "Estate planning:Trust review",
        True,
        1,
    )
    no_asset = books.post(
        "item",
        {"Name": "Binder", "Type": "Inventory", "IncomeAccountRef": {"value": income["Id"]}},
    )
    code, _, detail = _fault(no_asset)
    assert code == "2020" and "An inventory asset account is required" in detail


@pytest.mark.parametrize(
    ("body", "code", "element"),
    [
        ({"Type": "Service", "IncomeAccountRef": {"value": "1"}}, "2020", "Name"),
        ({"Name": "Untyped", "IncomeAccountRef": {"value": "1"}}, "2020", "Type"),
        ({"Name": "No income", "Type": "Service"}, "2020", "IncomeAccountRef"),
        (
            {"Name": "Bad account", "Type": "Service", "IncomeAccountRef": {"value": "999"}},
            "2500",
            "IncomeAccountRef",
        ),
        ({"Name": "hours", "Type": "Service", "IncomeAccountRef": {"value": "1"}}, "6240", ""),
        ({"Name": "Kit", "Type": "Group", "IncomeAccountRef": {"value": "1"}}, "500", ""),
        (
            {
                "Name": "Taxed",
                "Type": "Service",
                "IncomeAccountRef": {"value": "1"},
                "SalesTaxCodeRef": {"value": "X"},
            },
            "2500",
            "SalesTaxCodeRef",
        ),
    ],
)
def test_bad_items(books: QboRealm, body: dict, code: str, element: str) -> None:
    got_code, got_element, _ = _fault(books.post("item", body))
    assert (got_code, got_element) == (code, element)


def test_an_item_on_an_inactive_account_is_refused(books: QboRealm) -> None:
    account = books.post("account", {"Name": "Old Income", "AccountType": "Income"}).json()["Account"]
    books.post("account", {**account, "Active": False})
    assert _account_named(books, "Old Income (deleted)")["Active"] is False
    code, element, _ = _fault(
        books.post(
            "item", {"Name": "Legacy", "Type": "Service", "IncomeAccountRef": {"value": account["Id"]}}
        )
    )
    assert (code, element) == ("610", "IncomeAccountRef")


def _account_named(realm: QboRealm, name: str) -> dict[str, Any]:
    return realm.objects(f"SELECT * FROM Account WHERE Name = '{name}' AND Active = false")[0]


def test_name_list_updates_need_the_current_sync_token(books: QboRealm) -> None:
    item = books.objects("SELECT * FROM Item WHERE Name = 'Hours'")[0]
    assert books.post("item", {**item, "UnitPrice": 120}).json()["Item"]["SyncToken"] == "1"
    code, _, detail = _fault(books.post("item", {**item, "UnitPrice": 130}))
    assert code == "5010" and detail.endswith("Entity=Item")
