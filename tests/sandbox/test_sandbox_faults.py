"""Injected faults, in-process. Dropped connections and client timeouts over real sockets are in
test_sandbox_server.py."""

import time

import pytest
from fastapi.testclient import TestClient

from connectors.sandbox.common.asgi import ConnectionDropped
from tests.sandbox.conftest import ADMIN, QboRealm

COUNT = "SELECT COUNT(*) FROM Customer"


def _inject(sandbox: TestClient, **spec) -> dict:
    response = sandbox.post(f"{ADMIN}/faults", json=spec)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("status", ["500", "503"])
def test_server_errors_are_played_then_used_up(sandbox: TestClient, realm: QboRealm, status: str) -> None:
    _inject(sandbox, kind=status, realm=realm.realm_id, times=2)
    first, second, third = (realm.query(COUNT) for _ in range(3))
    assert first.status_code == second.status_code == int(status)
    assert first.json()["Fault"]["type"] == "SystemFault"
    assert "retry-after" not in first.headers
    assert third.status_code == 200
    stats = realm.admin("GET", "/stats").json()
    assert stats["by_path"][f"/v3/company/{realm.realm_id}/query"] == {status: 2, "200": 1}


def test_503_can_carry_retry_after(sandbox: TestClient, realm: QboRealm) -> None:
    _inject(sandbox, kind="503", realm=realm.realm_id, retry_after=7)
    response = realm.query(COUNT)
    assert (response.status_code, response.headers["retry-after"]) == (503, "7")


def test_injected_429_has_retry_after_and_a_throttle_body(sandbox: TestClient, realm: QboRealm) -> None:
    _inject(sandbox, kind="429", realm=realm.realm_id, retry_after=3)
    response = realm.query(COUNT)
    assert (response.status_code, response.headers["retry-after"]) == (429, "3")
    assert response.json()["Fault"]["Error"][0]["code"] == "3001"
    _inject(sandbox, kind="429", realm=realm.realm_id)
    assert realm.query(COUNT).headers["retry-after"] == "1"  # default when none was asked for


def test_timeout_holds_the_request_then_answers_504(sandbox: TestClient, realm: QboRealm) -> None:
    _inject(sandbox, kind="timeout", realm=realm.realm_id, delay_seconds=0.3)
    started = time.monotonic()
    response = realm.query(COUNT)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 504
    assert realm.query(COUNT).status_code == 200


def test_drop_without_a_socket_raises_in_process(sandbox: TestClient, realm: QboRealm) -> None:
    _inject(sandbox, kind="drop", realm=realm.realm_id)
    with pytest.raises(ConnectionDropped):
        realm.query(COUNT)
    assert realm.admin("GET", "/stats").json()["by_status"] == {"dropped": 1}


def test_faults_match_by_realm_and_path(sandbox: TestClient, new_realm) -> None:
    target, bystander = new_realm(customers=2), new_realm(customers=2)
    _inject(sandbox, kind="500", realm=target.realm_id, path_contains="/customer/", times=5)
    assert bystander.read("1").status_code == 200
    assert target.query(COUNT).status_code == 200
    assert target.read("1").status_code == 500
    pending = sandbox.get(f"{ADMIN}/faults").json()["faults"]
    assert [(f["kind"], f["remaining"]) for f in pending] == [("500", 4)]
    assert sandbox.delete(f"{ADMIN}/faults").json() == {"cleared": 1}
    assert target.read("1").status_code == 200


def test_faults_can_hit_the_token_endpoint(sandbox: TestClient, realm: QboRealm) -> None:
    _inject(sandbox, kind="503", path_contains="/oauth2/v1/tokens/bearer")
    form = {"grant_type": "refresh_token", "refresh_token": realm.refresh_token}
    auth = (realm.client_id, realm.client_secret)
    assert sandbox.post("/quickbooks/oauth2/v1/tokens/bearer", data=form, auth=auth).status_code == 503
    # The fault answered before the token endpoint ran, so the refresh token is still good.
    assert sandbox.post("/quickbooks/oauth2/v1/tokens/bearer", data=form, auth=auth).status_code == 200
    stats = realm.admin("GET", "/stats").json()
    assert stats["by_path"]["/oauth2/v1/tokens/bearer"] == {"200": 1}  # the realm is known only on success


def test_admin_api_is_never_faulted(sandbox: TestClient, realm: QboRealm) -> None:
    _inject(sandbox, kind="500", times=100)
    assert realm.admin("GET", "/limits").status_code == 200
    assert sandbox.get("/healthz").status_code == 200
    assert realm.query(COUNT).status_code == 500


def test_fault_spec_is_validated(sandbox: TestClient) -> None:
    assert sandbox.post(f"{ADMIN}/faults", json={"kind": "418"}).status_code == 422
    assert sandbox.post(f"{ADMIN}/faults", json={"kind": "500", "times": 0}).status_code == 422
