"""Customer read, create and update: SyncToken concurrency, sparse updates, names, deactivation."""

from datetime import datetime

from connectors.sandbox.common.clock import Clock
from tests.sandbox.conftest import QboRealm


def _fault(response) -> dict:
    assert response.status_code == 400, response.text
    error = response.json()["Fault"]["Error"][0]
    return {"code": error["code"], "message": error["Message"], "detail": error["Detail"]}


def test_read_returns_the_entity_wrapped_in_its_name(realm: QboRealm) -> None:
    listed = realm.rows("SELECT * FROM Customer MAXRESULTS 1")[0]
    body = realm.read(listed["Id"]).json()
    assert set(body) == {"Customer", "time"}
    assert body["Customer"] == listed


def test_reading_a_missing_customer_is_object_not_found(realm: QboRealm) -> None:
    assert _fault(realm.read("999999"))["code"] == "610"


def test_create_fills_server_owned_fields(realm: QboRealm, clock: Clock) -> None:
    response = realm.write(
        {
            "DisplayName": "Harbor Dental Group",
            "CompanyName": "Harbor Dental Group LLC",
            "PrimaryEmailAddr": {"Address": "billing@harbordental.example"},
            "BillAddr": {
                "Line1": "1 Main St",
                "City": "Oakland",
                "CountrySubDivisionCode": "CA",
                "PostalCode": "94607",
            },
            "Id": "",  # SDKs send server-owned fields on create too; QBO ignores them
            "SyncToken": "7",
        }
    )
    assert response.status_code == 200, response.text
    customer = response.json()["Customer"]
    assert int(customer["Id"]) == 121
    assert customer["SyncToken"] == "0"
    assert customer["Active"] is True
    assert customer["FullyQualifiedName"] == customer["PrintOnCheckName"] == "Harbor Dental Group"
    assert customer["BillAddr"]["Id"]  # QBO gives addresses their own Ids
    meta = customer["MetaData"]
    assert meta["CreateTime"] == meta["LastUpdatedTime"]
    assert abs(datetime.fromisoformat(meta["CreateTime"]).timestamp() - clock.now()) < 2
    assert realm.read(customer["Id"]).json()["Customer"] == customer


def test_create_derives_display_name_from_name_parts(realm: QboRealm) -> None:
    customer = realm.write({"Title": "Dr.", "GivenName": "Maya", "FamilyName": "Okafor"}).json()["Customer"]
    assert customer["DisplayName"] == "Dr. Maya Okafor"
    assert _fault(realm.write({"CompanyName": "No Name Co"}))["code"] == "2020"


def test_display_names_are_unique_ignoring_case(realm: QboRealm) -> None:
    assert realm.write({"DisplayName": "Bayside Bakery"}).status_code == 200
    fault = _fault(realm.write({"DisplayName": "bayside  BAKERY"}))
    assert (fault["code"], fault["message"]) == ("6240", "Duplicate Name Exists Error")


def test_sdk_style_body_with_empty_strings_is_accepted(realm: QboRealm) -> None:
    # python-quickbooks serialises every attribute, unset ones as "" (nulls are dropped).
    body = {
        "Title": "", "GivenName": "Ana", "MiddleName": "", "FamilyName": "Lopez", "Suffix": "",
        "FullyQualifiedName": "", "CompanyName": "", "DisplayName": "Ana Lopez", "PrintOnCheckName": "",
        "Notes": "", "Active": True, "IsProject": False, "Job": False, "BillWithParent": False,
        "Taxable": True, "Balance": 0, "BalanceWithJobs": 0, "PreferredDeliveryMethod": "", "ResaleNum": "",
        "Level": 0,
        "OpenBalanceDate": "", "PrimaryTaxIdentifier": "", "SyncToken": 0, "sparse": False, "domain": "QBO",
        "BillAddr": {"Line1": "9 Elm St", "Line2": "", "City": "Austin", "Lat": "", "Long": ""},
    }  # fmt: skip
    customer = realm.write(body).json()["Customer"]
    assert "Notes" not in customer and "CompanyName" not in customer
    assert customer["PrintOnCheckName"] == "Ana Lopez"
    assert customer["BillAddr"] == {"Id": customer["BillAddr"]["Id"], "Line1": "9 Elm St", "City": "Austin"}


def test_unknown_properties_are_rejected(realm: QboRealm) -> None:
    fault = _fault(realm.write({"DisplayName": "Typo Inc", "EmailAddress": "x@example.com"}))
    assert fault["code"] == "2010" and "EmailAddress" in fault["detail"]
    assert _fault(realm.write({"DisplayName": "Wrong Type", "Active": "yes"}))["code"] == "2010"


def test_update_requires_the_current_sync_token(realm: QboRealm, clock: Clock) -> None:
    customer = realm.write({"DisplayName": "Copper Creek Roofing", "Notes": "v0"}).json()["Customer"]
    clock.advance(5)
    updated = realm.write({**customer, "Notes": "v1"}).json()["Customer"]
    assert updated["SyncToken"] == "1"
    assert updated["Notes"] == "v1"
    assert updated["MetaData"]["CreateTime"] == customer["MetaData"]["CreateTime"]
    assert updated["MetaData"]["LastUpdatedTime"] > customer["MetaData"]["LastUpdatedTime"]

    stale = _fault(realm.write({**customer, "Notes": "lost update"}))
    assert (stale["code"], stale["message"]) == ("5010", "Stale Object Error")
    assert realm.read(customer["Id"]).json()["Customer"]["Notes"] == "v1"
    assert _fault(realm.write({"Id": customer["Id"], "Notes": "no token"}))["code"] == "2020"


def test_full_update_clears_what_it_omits_and_sparse_update_merges(realm: QboRealm) -> None:
    customer = realm.write(
        {
            "DisplayName": "Mesa Florist",
            "Notes": "keep?",
            "PrimaryPhone": {"FreeFormNumber": "(602) 555-0100"},
        }
    ).json()["Customer"]
    sparse = realm.write(
        {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True, "Notes": "merged"}
    ).json()["Customer"]
    assert sparse["Notes"] == "merged"
    assert sparse["PrimaryPhone"] == customer["PrimaryPhone"]
    assert sparse["DisplayName"] == "Mesa Florist"

    full = realm.write(
        {"Id": customer["Id"], "SyncToken": sparse["SyncToken"], "DisplayName": "Mesa Florist"}
    )
    full_customer = full.json()["Customer"]
    assert full_customer["SyncToken"] == "2"
    assert "Notes" not in full_customer and "PrimaryPhone" not in full_customer
    assert full_customer["Balance"] == customer["Balance"]  # server-owned fields survive


def test_renaming_moves_the_unique_name(realm: QboRealm) -> None:
    customer = realm.write({"DisplayName": "Old Name LLC"}).json()["Customer"]
    rename = {
        "Id": customer["Id"],
        "SyncToken": customer["SyncToken"],
        "sparse": True,
        "DisplayName": "New Name LLC",
    }
    renamed = realm.write(rename).json()["Customer"]
    # PrintOnCheckName followed the old name, so it follows the new one unless the client sets it.
    assert renamed["FullyQualifiedName"] == renamed["PrintOnCheckName"] == "New Name LLC"
    assert realm.write({"DisplayName": "Old Name LLC"}).status_code == 200
    assert _fault(realm.write({"DisplayName": "New Name LLC"}))["code"] == "6240"


def test_deactivation_is_an_update_that_renames_and_hides(realm: QboRealm) -> None:
    customer = realm.write({"DisplayName": "Amy's Bird Sanctuary"}).json()["Customer"]
    gone = realm.write(
        {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True, "Active": False}
    ).json()["Customer"]
    assert gone["Active"] is False
    assert gone["DisplayName"] == gone["FullyQualifiedName"] == "Amy's Bird Sanctuary (deleted)"
    assert gone["PrintOnCheckName"] == "Amy's Bird Sanctuary"
    assert realm.read(customer["Id"]).json()["Customer"]["Active"] is False  # never hard-deleted
    ids = lambda where: {r["Id"] for r in realm.rows(f"SELECT * FROM Customer {where} MAXRESULTS 1000")}  # noqa: E731
    assert customer["Id"] not in ids("")
    assert customer["Id"] in ids("WHERE Active = false")
    assert customer["Id"] in ids("WHERE Active IN (true, false)")
    # The old name is free again, so reactivating now collides with the newcomer.
    assert realm.write({"DisplayName": "Amy's Bird Sanctuary"}).status_code == 200
    clash = realm.write(
        {"Id": customer["Id"], "SyncToken": gone["SyncToken"], "sparse": True, "Active": True}
    )
    assert _fault(clash)["code"] == "6240"


def test_reactivation_restores_the_name(realm: QboRealm) -> None:
    customer = realm.write({"DisplayName": "Summit Yoga"}).json()["Customer"]
    gone = realm.write({**customer, "Active": False}).json()["Customer"]
    back = realm.write({**gone, "Active": True}).json()["Customer"]
    assert (back["Active"], back["DisplayName"], back["SyncToken"]) == (True, "Summit Yoga", "2")


def test_delete_operation_is_not_supported_for_customers(realm: QboRealm) -> None:
    customer = realm.write({"DisplayName": "Keep Me"}).json()["Customer"]
    response = realm.write({"Id": customer["Id"], "SyncToken": "0"}, operation="delete")
    assert _fault(response)["code"] == "500"
    assert realm.read(customer["Id"]).status_code == 200


def test_request_id_makes_a_retried_create_idempotent(realm: QboRealm) -> None:
    first = realm.write({"DisplayName": "Retry Safe Co"}, requestid="req-1")
    again = realm.write({"DisplayName": "Retry Safe Co"}, requestid="req-1")
    assert first.status_code == again.status_code == 200
    assert again.json()["Customer"] == first.json()["Customer"]
    assert realm.count("WHERE DisplayName = 'Retry Safe Co'") == 1
    assert _fault(realm.write({"DisplayName": "Retry Safe Co"}, requestid="req-2"))["code"] == "6240"


def test_malformed_json_is_a_validation_fault(realm: QboRealm) -> None:
    response = realm.client.post(
        f"{realm.api}/customer",
        content=b"{not json",
        headers={**realm.headers, "Content-Type": "application/json"},
    )
    assert _fault(response)["code"] == "2010"
