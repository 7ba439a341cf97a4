"""Xero's rate limits over real HTTP: the per-tenant minute, day and concurrent limits and the app
minute limit, with their headers, 429 + Retry-After + X-Rate-Limit-Problem; a compressed time scale;
faults scoped by tenant."""

import threading

import httpx
import pytest

from tests.sandbox.xero_fixtures import DEMO_TENANT, LiveXero, XeroOrg


def _limits(org: XeroOrg, **limits) -> None:
    response = org.admin("PUT", "/limits", json=limits)
    assert response.status_code == 200, response.text


def test_every_answer_carries_the_remaining_counts(xero_live: LiveXero) -> None:
    demo = xero_live.org(DEMO_TENANT)
    first = demo.get("Contacts")
    assert first.headers["X-MinLimit-Remaining"] == "59"
    assert first.headers["X-DayLimit-Remaining"] == "4999"
    assert first.headers["X-AppMinLimit-Remaining"] == "9999"
    second = demo.get("Contacts/00000000-0000-0000-0000-000000000000")  # a 404 counts too
    assert second.status_code == 404 and second.headers["X-MinLimit-Remaining"] == "58"
    limits = demo.admin("GET", "/limits").json()
    assert (limits["minute_limit"], limits["day_limit"], limits["concurrent_limit"]) == (60, 5000, 5)


def test_minute_limit_then_429_with_retry_after(xero_org: XeroOrg, xero_live: LiveXero) -> None:
    _limits(xero_org, minute_limit=5)
    remaining = [xero_org.get("Items").headers["X-MinLimit-Remaining"] for _ in range(5)]
    assert remaining == ["4", "3", "2", "1", "0"]
    refused = xero_org.get("Items")
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-MinLimit-Remaining"] == "0"
    # Refused calls are not counted: waiting what Retry-After says is enough.
    xero_live.clock.advance(int(refused.headers["Retry-After"]))
    assert xero_org.get("Items").status_code == 200
    stats = xero_org.admin("GET", "/stats").json()
    assert stats["throttled"] == {"minute": 1}
    assert stats["by_path"]["/api.xro/2.0/Items"] == {"200": 6, "429": 1}


def test_day_limit(xero_org: XeroOrg, xero_live: LiveXero) -> None:
    _limits(xero_org, day_limit=3)
    assert [xero_org.get("Accounts").headers["X-DayLimit-Remaining"] for _ in range(3)] == ["2", "1", "0"]
    refused = xero_org.get("Accounts")
    assert refused.status_code == 429 and refused.headers["X-Rate-Limit-Problem"] == "day"
    assert 86_000 < int(refused.headers["Retry-After"]) <= 86_400
    xero_live.clock.advance(1500)
    assert xero_org.get("Accounts").status_code == 429  # a day is long
    xero_live.clock.advance(86_400)
    fresh = xero_live.org(xero_org.tenant_id)  # the old access token expired meanwhile
    assert fresh.get("Accounts").status_code == 200


def test_concurrent_limit(xero_org: XeroOrg, xero_live: LiveXero) -> None:
    _limits(xero_org, concurrent_limit=2, latency_seconds=0.6)
    statuses: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def call() -> None:
        with httpx.Client(base_url=xero_live.xero, timeout=10) as client:
            response = client.get("/api.xro/2.0/Items", headers=xero_org.headers)
        with lock:
            statuses.append((response.status_code, response.headers.get("X-Rate-Limit-Problem")))

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses, key=str) == sorted([(200, None)] * 2 + [(429, "concurrent")] * 3, key=str)
    # Slots are given back: one at a time goes through.
    assert xero_org.get("Items").status_code == 200


def test_time_scale_compresses_the_minute(xero_org: XeroOrg, xero_live: LiveXero) -> None:
    _limits(xero_org, minute_limit=3, time_scale=60)
    assert [xero_org.get("Items").status_code for _ in range(4)] == [200, 200, 200, 429]
    xero_live.clock.advance(1.01)  # a "minute" is one second now
    assert xero_org.get("Items").status_code == 200


def test_app_minute_limit_spans_tenants(xero_live: LiveXero) -> None:
    one, two = xero_live.new_org(), xero_live.new_org()
    assert xero_live.http.put("/_sandbox/app/limits", json={"app_minute_limit": 3}).status_code == 200
    assert [one.get("Items").status_code, two.get("Items").status_code, one.get("Items").status_code] == [
        200
    ] * 3
    refused = two.get("Items")
    assert refused.status_code == 429 and refused.headers["X-Rate-Limit-Problem"] == "appminute"
    assert refused.headers["X-AppMinLimit-Remaining"] == "0"


@pytest.mark.parametrize("kind", ["503", "500", "429"])
def test_faults_hit_only_the_tenant_they_name(xero_live: LiveXero, kind: str) -> None:
    one, two = xero_live.new_org(), xero_live.new_org()
    fault = {"kind": kind, "realm": one.tenant_id, "times": 2, "retry_after": 7}
    assert xero_live.http.post("/_sandbox/faults", json=fault).status_code == 201
    assert two.get("Items").status_code == 200
    failed = one.get("Items")
    assert failed.status_code == int(kind) and failed.headers["Retry-After"] == "7"
    assert failed.json()["Status"] == int(kind)
    assert one.get("Items").status_code == int(kind)
    assert one.get("Items").status_code == 200


def test_a_dropped_connection(xero_org: XeroOrg, xero_live: LiveXero) -> None:
    fault = {"kind": "drop", "realm": xero_org.tenant_id, "times": 1}
    assert xero_live.http.post("/_sandbox/faults", json=fault).status_code == 201
    with pytest.raises(httpx.TransportError):
        xero_org.get("Contacts")
    assert xero_org.get("Contacts").status_code == 200
    assert xero_org.admin("GET", "/stats").json()["by_status"]["dropped"] == 1
