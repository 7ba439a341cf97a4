"""GET /v3/company/{realm}/cdc: what changed since a time, inactive customers included."""

from datetime import UTC, datetime, timedelta

from connectors.sandbox.common.clock import Clock
from tests.sandbox.conftest import QboRealm


def _cdc(realm: QboRealm, since: str, entities: str = "Customer"):
    return realm.client.get(
        f"{realm.api}/cdc",
        params={"entities": entities, "changedSince": since, "minorversion": 75},
        headers=realm.headers,
    )


def _changed(realm: QboRealm, since: str) -> list[dict]:
    response = _cdc(realm, since)
    assert response.status_code == 200, response.text
    (query_response,) = response.json()["CDCResponse"][0]["QueryResponse"]
    return query_response.get("Customer", [])


def test_cdc_returns_edits_and_deactivations_since_the_time(realm: QboRealm, clock: Clock) -> None:
    clock.advance(120)  # the seeded history ends now; start the change window after it
    since = datetime.fromtimestamp(clock.now(), UTC).isoformat()
    assert _changed(realm, since) == []

    clock.advance(60)
    touched = realm.admin("POST", "/customers/touch", json={"count": 4, "deactivate": 2, "seed": 1}).json()
    created = realm.write({"DisplayName": "Fresh Client LLC"}).json()["Customer"]

    changed = _changed(realm, since)
    assert {row["Id"] for row in changed} == {*touched["touched"], *touched["deactivated"], created["Id"]}
    inactive = [row for row in changed if not row["Active"]]
    assert {row["Id"] for row in inactive} == set(touched["deactivated"])
    assert all(row["DisplayName"].endswith("(deleted)") for row in inactive)
    stamps = [row["MetaData"]["LastUpdatedTime"] for row in changed]
    assert stamps == sorted(stamps)


def test_cdc_response_shape(realm: QboRealm, clock: Clock) -> None:
    since = datetime.fromtimestamp(clock.now() - 5, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    realm.write({"DisplayName": "Shape Check"})
    body = _cdc(realm, since).json()
    assert set(body) == {"CDCResponse", "time"}
    query_response = body["CDCResponse"][0]["QueryResponse"][0]
    assert query_response["startPosition"] == 1
    assert (
        query_response["maxResults"] == query_response["totalCount"] == len(query_response["Customer"]) == 1
    )


def test_cdc_accepts_a_plain_date(realm: QboRealm, clock: Clock) -> None:
    today = datetime.fromtimestamp(clock.now(), UTC) - timedelta(days=1)
    realm.write({"DisplayName": "Dated Change"})
    assert [row["DisplayName"] for row in _changed(realm, today.strftime("%Y-%m-%d"))][-1] == "Dated Change"


def test_cdc_look_back_is_limited_to_30_days(realm: QboRealm, clock: Clock) -> None:
    too_old = datetime.fromtimestamp(clock.now(), UTC) - timedelta(days=31)
    response = _cdc(realm, too_old.isoformat())
    assert response.status_code == 400
    assert response.json()["Fault"]["type"] == "ValidationFault"
    assert "30 days" in response.json()["Fault"]["Error"][0]["Detail"]
    recent = datetime.fromtimestamp(clock.now(), UTC) - timedelta(days=29)
    assert _cdc(realm, recent.isoformat()).status_code == 200


def test_cdc_caps_a_response_at_1000_objects(new_realm, clock: Clock) -> None:
    realm = new_realm(customers=0)
    since = datetime.fromtimestamp(clock.now() - 1, UTC).isoformat()
    realm.admin("POST", "/customers/bulk", json={"count": 1200, "seed": 3})
    realm.admin("POST", "/customers/touch", json={"count": 1100, "seed": 3})
    assert len(_changed(realm, since)) == 1000


def test_cdc_parameter_errors(realm: QboRealm, clock: Clock) -> None:
    now = datetime.fromtimestamp(clock.now(), UTC).isoformat()
    assert _cdc(realm, "").status_code == 400
    assert _cdc(realm, "not-a-date").status_code == 400
    assert _cdc(realm, now, entities="Customr").status_code == 400
    missing = realm.client.get(f"{realm.api}/cdc", params={"changedSince": now}, headers=realm.headers)
    assert missing.json()["Fault"]["Error"][0]["code"] == "2020"
