"""Data-API authentication (401/403 in Intuit's gateway shape) and the per-realm throttle (429)."""

import pytest

from connectors.sandbox.common.clock import Clock
from tests.sandbox.conftest import QboRealm

COUNT = "SELECT COUNT(*) FROM Customer"


def _gateway_error(response) -> dict:
    # Intuit's gateway answers auth failures in a lower-case envelope with an epoch-ms time.
    body = response.json()
    assert "Fault" not in body
    assert isinstance(body["time"], int)
    return body["fault"]["error"][0] | {"type": body["fault"]["type"]}


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        (None, "Authorization header is missing"),
        ("Basic abc", "Authorization header is missing"),
        ("Bearer not-a-token", "Malformed bearer token"),
        ("Bearer sbx-at-eyJrIjoiYWNjZXNzIn0.forged", "Malformed bearer token"),
    ],
)
def test_missing_or_bad_tokens_are_401(realm: QboRealm, authorization: str | None, detail: str) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = realm.client.get(f"{realm.api}/query", params={"query": COUNT}, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    error = _gateway_error(response)
    assert (error["code"], error["type"]) == ("3200", "AUTHENTICATION")
    assert error["message"] == "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    assert detail in error["detail"]


def test_a_token_for_another_company_is_403(new_realm) -> None:
    mine, theirs = new_realm(customers=3), new_realm(customers=3)
    response = mine.client.get(f"{theirs.api}/customer/1", headers=mine.headers)
    assert response.status_code == 403
    error = _gateway_error(response)
    assert (error["code"], error["type"]) == ("3100", "SERVICE")
    assert mine.read("1").status_code == 200


def test_refresh_tokens_cannot_call_the_api(realm: QboRealm) -> None:
    response = realm.client.get(
        f"{realm.api}/query",
        params={"query": COUNT},
        headers={"Authorization": f"Bearer {realm.refresh_token}"},
    )
    assert response.status_code == 401


def test_admin_revoke_kills_every_token_issued_so_far(realm: QboRealm) -> None:
    assert realm.admin("POST", "/revoke").json() == {"realm_id": realm.realm_id, "revoked": True}
    assert _gateway_error(realm.query(COUNT))["detail"] == "Token revoked"
    refresh = realm.client.post(
        "/quickbooks/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": realm.refresh_token},
        auth=(realm.client_id, realm.client_secret),
    )
    assert refresh.json()["error"] == "invalid_grant"
    # Reconnecting (a new grant) works again.
    realm.access_token = realm.admin("POST", "/grant").json()["access_token"]
    assert realm.query(COUNT).status_code == 200


def test_throttle_answers_429_with_retry_after_past_the_limit(
    realm: QboRealm, new_realm, clock: Clock
) -> None:
    assert realm.admin("PUT", "/limits", json={"requests_per_minute": 5}).json()["requests_per_minute"] == 5
    for _ in range(5):
        assert realm.query(COUNT).status_code == 200
    clock.advance(20)
    throttled = realm.query(COUNT)
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) == 40  # the oldest counted request leaves the window then
    error = throttled.json()["Fault"]["Error"][0]
    assert (error["code"], error["Message"]) == (
        "3001",
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
    )
    assert realm.read("1").status_code == 429  # every data endpoint counts against the realm

    other = new_realm(customers=1)
    assert other.query(COUNT).status_code == 200  # limits are per realm

    clock.advance(41)
    assert realm.query(COUNT).status_code == 200
    stats = realm.admin("GET", "/stats").json()
    assert stats["by_status"] == {"200": 6, "429": 2}


def test_default_limit_is_500_per_minute(realm: QboRealm) -> None:
    assert realm.admin("GET", "/limits").json()["requests_per_minute"] == 500
    statuses = [realm.query(COUNT).status_code for _ in range(501)]
    assert statuses.count(200) == 500
    assert statuses[-1] == 429


def test_oauth_and_admin_calls_are_not_throttled(realm: QboRealm) -> None:
    realm.admin("PUT", "/limits", json={"requests_per_minute": 1})
    assert realm.query(COUNT).status_code == 200
    for _ in range(3):
        assert realm.client.get("/quickbooks/.well-known/openid_configuration").status_code == 200
        assert realm.admin("GET", "/limits").status_code == 200
    assert realm.query(COUNT).status_code == 429
