"""Intuit's second throttle (10 requests in flight per realm, over real sockets) and minorversion handling."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.sandbox.conftest import QboRealm
from tests.support.processes import SandboxServer

pytestmark = pytest.mark.timeout(60)
COUNT = "SELECT COUNT(*) FROM Invoice"


def _company(server: SandboxServer, **limits: int) -> dict:
    grant = server.new_realm(customers=3)
    if limits:
        admin = f"{server.quickbooks}/_sandbox/realms/{grant['realm_id']}/limits"
        httpx.put(admin, json=limits, timeout=10).raise_for_status()
    return grant


def _burst(server: SandboxServer, *grants: dict) -> list[httpx.Response]:
    """One query per grant given, all sent at the same moment from their own threads."""
    start = threading.Barrier(len(grants))

    def call(grant: dict) -> httpx.Response:
        url = f"{server.quickbooks}/v3/company/{grant['realm_id']}/query"
        headers = {"Authorization": f"Bearer {grant['access_token']}"}
        start.wait()
        return httpx.get(url, params={"query": COUNT, "minorversion": 75}, headers=headers, timeout=20)

    with ThreadPoolExecutor(len(grants)) as pool:
        return list(pool.map(call, grants))


def test_more_than_ten_requests_in_flight_are_refused(sandbox_server: SandboxServer) -> None:
    grant = _company(sandbox_server, response_delay_ms=800)
    bystander = _company(sandbox_server, response_delay_ms=800)
    responses = _burst(sandbox_server, *[grant] * 15, *[bystander] * 3)
    mine, theirs = responses[:15], responses[15:]
    assert Counter(r.status_code for r in mine) == {200: 10, 429: 5}
    assert [r.status_code for r in theirs] == [200, 200, 200]  # the limit is per realm
    refused = next(r for r in mine if r.status_code == 429)
    assert refused.headers["retry-after"] == "1"
    fault = refused.json()["Fault"]
    assert (fault["type"], fault["Error"][0]["code"]) == ("SERVICE", "3001")
    assert fault["Error"][0]["Message"] == "message=ThrottleExceeded; errorCode=003001; statusCode=429"
    assert "at most 10 API requests at a time" in fault["Error"][0]["Detail"]
    stats = httpx.get(f"{sandbox_server.quickbooks}/_sandbox/realms/{grant['realm_id']}/stats").json()
    assert stats["by_status"] == {"200": 10, "429": 5}
    assert _burst(sandbox_server, grant)[0].status_code == 200  # slots free again once answered


def test_the_concurrency_limit_is_adjustable_per_realm(sandbox_server: SandboxServer) -> None:
    grant = _company(sandbox_server, response_delay_ms=600, concurrent_requests=2)
    limits = httpx.get(f"{sandbox_server.quickbooks}/_sandbox/realms/{grant['realm_id']}/limits").json()
    assert (limits["concurrent_requests"], limits["response_delay_ms"], limits["requests_per_minute"]) == (
        2,
        600,
        500,
    )
    assert Counter(r.status_code for r in _burst(sandbox_server, *[grant] * 4)) == {200: 2, 429: 2}


def test_concurrency_refusals_do_not_count_against_the_minute(realm: QboRealm) -> None:
    realm.admin("PUT", "/limits", json={"requests_per_minute": 3, "concurrent_requests": 1})
    for _ in range(3):
        assert realm.query(COUNT).status_code == 200  # one at a time is always within the limit
    assert realm.query(COUNT).status_code == 429  # now the per-minute limit
    assert (
        realm.query(COUNT).json()["Fault"]["Error"][0]["Detail"].startswith("The request limit was reached")
    )


@pytest.mark.parametrize(
    ("sent", "served"),
    [(None, "75"), ("40", "75"), ("74", "75"), ("75", "75"), ("80", "80"), ("latest", "75")],
)
def test_minor_versions_below_75_are_served_as_75(realm: QboRealm, sent: str | None, served: str) -> None:
    params = {"query": COUNT} if sent is None else {"query": COUNT, "minorversion": sent}
    response = realm.client.get(f"{realm.api}/query", params=params, headers=realm.headers)
    assert response.status_code == 200
    assert b"minorversion" not in response.content.lower()  # never echoed back
    assert realm.admin("GET", "/stats").json()["minor_versions"] == {served: 1}
    realm.admin("DELETE", "/stats")
    assert realm.admin("GET", "/stats").json()["minor_versions"] == {}
