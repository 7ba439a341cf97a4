"""The Salesforce emulator in-process, against Salesforce's published behaviour: the OAuth web server flow,
SOQL and query locators, getDeleted's windows, sessions, the daily allocation and Sforce-Limit-Info, upserts
by external id, and the demo org's determinism."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient

from connectors.sandbox.app import create_app
from connectors.sandbox.common.clock import Clock
from connectors.sandbox.settings import SandboxSettings

SF = "/salesforce"
API = "/services/data/v59.0"


@pytest.fixture
def org(sandbox: TestClient) -> dict:
    response = sandbox.post(
        f"{SF}/_sandbox/orgs", json={"accounts": 4, "contacts": 6, "leads": 3, "opportunities": 2}
    )
    assert response.status_code == 201
    body = response.json()
    body["headers"] = {"Authorization": f"Bearer {body['access_token']}"}
    return body


def _soql(sandbox: TestClient, org: dict, q: str, prefix: str = SF, **headers):
    return sandbox.get(f"{prefix}{API}/query", params={"q": q}, headers=org["headers"] | headers)


def _token(sandbox: TestClient, **form):
    return sandbox.post(f"{SF}/services/oauth2/token", data=form)


def test_web_server_flow_codes_are_single_use_and_refresh_tokens_are_not_rotated(sandbox, org):
    settings = SandboxSettings()
    sandbox.put(f"{SF}/_sandbox/consent", json={"org_id": org["org_id"]})
    answer = sandbox.get(
        f"{SF}/services/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": settings.salesforce_client_id,
            "redirect_uri": "https://app.example/cb",
            "state": "xyz",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 302
    query = parse_qs(urlparse(answer.headers["location"]).query)
    assert query["state"] == ["xyz"]
    app = {"client_id": org["client_id"], "client_secret": org["client_secret"]}
    grant = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": "https://app.example/cb",
    }
    tokens = _token(sandbox, **app, **grant)
    assert tokens.status_code == 200
    body = tokens.json()
    assert {"access_token", "refresh_token", "instance_url", "id", "issued_at", "signature"} <= set(body)
    assert "expires_in" not in body and body["token_type"] == "Bearer"
    assert body["access_token"].startswith(org["org_id"][:15] + "!")
    assert _token(sandbox, **app, **grant).json()["error"] == "invalid_grant"  # single use
    refreshed = _token(sandbox, **app, grant_type="refresh_token", refresh_token=body["refresh_token"]).json()
    assert "refresh_token" not in refreshed and refreshed["access_token"] != body["access_token"]
    wrong = _token(sandbox, client_id=org["client_id"], client_secret="nope", grant_type="refresh_token",
                   refresh_token=body["refresh_token"])  # fmt: skip
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_client"


def test_the_api_answers_at_the_root_services_path_as_on_an_instance(sandbox, org):
    for prefix in ("", SF):
        response = _soql(sandbox, org, "SELECT Id FROM Account", prefix=prefix)
        assert response.status_code == 200 and response.json()["totalSize"] == 4


def test_soql_filters_orders_limits_and_names_its_errors(sandbox, org):
    rows = _soql(
        sandbox, org, "SELECT Id, Name, SystemModstamp FROM Account ORDER BY SystemModstamp DESC"
    ).json()
    stamps = [r["SystemModstamp"] for r in rows["records"]]
    assert stamps == sorted(stamps, reverse=True) and rows["records"][0]["attributes"]["type"] == "Account"
    pivot = stamps[1]
    moment = datetime.strptime(pivot, "%Y-%m-%dT%H:%M:%S.%f%z").strftime("%Y-%m-%dT%H:%M:%SZ")
    newer = _soql(sandbox, org, f"SELECT Id FROM Account WHERE SystemModstamp > {moment} LIMIT 5").json()
    assert newer["totalSize"] >= 1
    first = rows["records"][0]
    name = first["Name"].upper().replace("'", "\\'")
    both = _soql(
        sandbox,
        org,
        f"select Id from account where (Name = '{name}' or Id = 'none') and not Id = null",
    ).json()
    assert [r["Id"] for r in both["records"]] == [first["Id"]]  # names compare case-insensitively
    bad = _soql(sandbox, org, "SELECT Nope FROM Account")
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"
    assert _soql(sandbox, org, "SELECT Id FROM Widget").json()[0]["errorCode"] == "INVALID_TYPE"
    assert _soql(sandbox, org, "SELECT Id Account").json()[0]["errorCode"] == "MALFORMED_QUERY"
    quoted = _soql(sandbox, org, "SELECT Id FROM Account WHERE SystemModstamp > '2026-01-01T00:00:00Z'")
    assert quoted.status_code == 400


def test_query_locators_page_in_the_requested_batches(sandbox):
    org = sandbox.post(f"{SF}/_sandbox/orgs", json={"accounts": 1, "contacts": 450, "leads": 0}).json()
    headers = {"Authorization": f"Bearer {org['access_token']}", "Sforce-Query-Options": "batchSize=200"}
    first = sandbox.get(f"{SF}{API}/query", params={"q": "SELECT Id FROM Contact"}, headers=headers).json()
    assert (first["totalSize"], first["done"], len(first["records"])) == (450, False, 200)
    assert first["nextRecordsUrl"].startswith(f"{API}/query/01g") and first["nextRecordsUrl"].endswith("-200")
    second = sandbox.get(first["nextRecordsUrl"], headers=headers).json()
    third = sandbox.get(second["nextRecordsUrl"], headers=headers).json()
    assert (len(second["records"]), len(third["records"]), third["done"]) == (200, 50, True)
    assert "nextRecordsUrl" not in third
    bogus = sandbox.get(f"{API}/query/01gXXXXXXXXXXXXAAA-200", headers=headers)
    assert bogus.status_code == 400 and bogus.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def _refreshed(sandbox, org: dict) -> dict[str, str]:
    fresh = _token(sandbox, client_id=org["client_id"], client_secret=org["client_secret"],
                   grant_type="refresh_token", refresh_token=org["refresh_token"]).json()  # fmt: skip
    return {"Authorization": f"Bearer {fresh['access_token']}"}


def _deleted(sandbox, org, start: datetime, end: datetime):
    fmt = "%Y-%m-%dT%H:%M:%S+00:00"
    return sandbox.get(
        f"{SF}{API}/sobjects/Lead/deleted/",
        params={"start": start.strftime(fmt), "end": end.strftime(fmt)},
        headers=org["headers"],
    )


def test_get_deleted_windows_ignore_seconds_keep_15_days_and_refuse_30(sandbox, org, clock: Clock):
    lead = sandbox.get(f"{SF}/_sandbox/orgs/{org['org_id']}/records/Lead").json()["records"][0]["Id"]
    sandbox.delete(f"{SF}/_sandbox/orgs/{org['org_id']}/records/Lead/{lead}")
    now = datetime.fromtimestamp(clock.now(), UTC)
    clock.advance(120)
    later = now + timedelta(seconds=120)
    body = _deleted(sandbox, org, now - timedelta(minutes=1), later).json()
    assert [d["id"] for d in body["deletedRecords"]] == [lead]
    assert body["latestDateCovered"].endswith(":00.000+0000")  # whole minutes
    clock.advance(16 * 86_400)
    later += timedelta(days=16, seconds=0)
    org = org | {"headers": _refreshed(sandbox, org)}  # the 2-hour session is long over
    purged = _deleted(sandbox, org, later - timedelta(days=20), later).json()
    assert (
        purged["deletedRecords"] == []
        and purged["earliestDateAvailable"] >= body["deletedRecords"][0]["deletedDate"][:16]
    )
    too_old = _deleted(sandbox, org, later - timedelta(days=31), later)
    assert too_old.status_code == 400 and too_old.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_sessions_time_out_and_the_daily_allocation_is_counted_and_enforced(sandbox, org, clock: Clock):
    answer = _soql(sandbox, org, "SELECT Id FROM Lead")
    assert answer.headers["Sforce-Limit-Info"] == "api-usage=1/15000"
    sandbox.put(f"{SF}/_sandbox/orgs/{org['org_id']}/limits", json={"daily_api_requests": 3, "api_usage": 2})
    assert _soql(sandbox, org, "SELECT Id FROM Lead").headers["Sforce-Limit-Info"] == "api-usage=3/3"
    refused = _soql(sandbox, org, "SELECT Id FROM Lead")
    assert refused.status_code == 403 and refused.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    clock.advance(86_401)  # the rolling 24 hours free the allocation
    limits = sandbox.get(f"{SF}{API}/limits", headers=org["headers"])
    # …and the 2-hour session timed out meanwhile.
    assert limits.status_code == 401 and limits.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    limits = sandbox.get(f"{SF}{API}/limits", headers=_refreshed(sandbox, org))
    assert limits.json()["DailyApiRequests"] == {"Max": 3, "Remaining": 2}


def test_upserts_by_external_id_create_update_and_refuse_duplicates(sandbox, org):
    url = f"{SF}{API}/sobjects/Lead/Firmsync_Id__c/local-7"
    created = sandbox.patch(url, json={"LastName": "Osei", "Company": "Osei Dental"}, headers=org["headers"])
    assert created.status_code == 201 and created.json()["created"] is True
    updated = sandbox.patch(url, json={"Company": "Osei Dental PLLC"}, headers=org["headers"])
    assert updated.status_code == 200 and updated.json() == {**created.json(), "created": False}
    old = sandbox.patch(url.replace("v59.0", "v45.0"), json={"Phone": "1"}, headers=org["headers"])
    assert old.status_code == 204
    missing = sandbox.patch(
        f"{SF}{API}/sobjects/Lead/Firmsync_Id__c/new", json={"LastName": "X"}, headers=org["headers"]
    )
    assert missing.status_code == 400 and missing.json()[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    for company in ("A", "B"):
        sandbox.post(f"{SF}/_sandbox/orgs/{org['org_id']}/records/Lead",
                     json={"LastName": "Twin", "Company": company, "Firmsync_Id__c": "twin"})  # fmt: skip
    twins = sandbox.patch(
        f"{SF}{API}/sobjects/Lead/Firmsync_Id__c/twin", json={"Company": "C"}, headers=org["headers"]
    )
    assert twins.status_code == 300 and len(twins.json()) == 2
    unknown = sandbox.patch(f"{SF}{API}/sobjects/Lead/Email/x", json={"Company": "C"}, headers=org["headers"])
    assert unknown.status_code == 404


def test_the_demo_org_is_the_same_after_a_restart_and_answers_its_fixed_refresh_token():
    settings = SandboxSettings()

    def snapshot():
        app = create_app(settings, clock=Clock())
        client = TestClient(app)
        records = client.get(f"{SF}/_sandbox/orgs/{settings.salesforce_demo_org_id}/records/Account").json()
        token = _token(client, client_id=settings.salesforce_client_id,
                       client_secret=settings.salesforce_client_secret.get_secret_value(),
                       grant_type="refresh_token",
                       refresh_token=settings.salesforce_demo_refresh_token.get_secret_value())  # fmt: skip
        assert token.status_code == 200
        return [(r["Id"], r["Name"], r["SystemModstamp"]) for r in records["records"]]

    first = snapshot()
    assert len(first) == settings.salesforce_demo_accounts and first == snapshot()
