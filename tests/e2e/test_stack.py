"""The whole stack, started exactly as `make run` starts it (deploy/local/stack.py), driven over HTTP.

login → create connection → sync → clients, confirmed through Dagster's GraphQL API; then SIGTERM stops
every process, and a second start reuses the data.
"""

from __future__ import annotations

import time

import httpx
import psutil
import pytest

from tests.support.stack import DEMO, RunningStack, stack_ports

pytestmark = pytest.mark.e2e


def _login(stack: RunningStack) -> dict[str, str]:
    response = httpx.post(f"{stack.api}/api/v1/auth/login", json=DEMO)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _all_clients(stack: RunningStack, headers: dict) -> list[dict]:
    clients: list[dict] = []
    while True:
        page = httpx.get(
            f"{stack.api}/api/v1/clients", params={"limit": 200, "offset": len(clients)}, headers=headers
        ).json()
        clients += page["items"]
        if not page["items"] or len(clients) >= page["total"]:
            return clients


def _sync_and_wait(stack: RunningStack, headers: dict, connection_id: str, timeout: float = 300) -> dict:
    response = httpx.post(f"{stack.api}/api/v1/connections/{connection_id}/sync", headers=headers)
    assert response.status_code == 202, response.text
    request_id = response.json()["id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        request = httpx.get(f"{stack.api}/api/v1/sync-requests/{request_id}", headers=headers).json()
        if request["status"] in ("succeeded", "failed"):
            assert request["status"] == "succeeded", request
            return request
        time.sleep(2)
    raise AssertionError(f"sync request {request_id} still {request['status']} after {timeout}s")


def _dagster(stack: RunningStack, query: str, **variables) -> dict:
    response = httpx.post(
        f"{stack.dagster}/graphql", json={"query": query, "variables": variables}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _wait_for_run(stack: RunningStack, request_id: str, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        runs = _dagster(stack, RUNS, id=request_id)["runsOrError"]["results"]
        if runs and all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in runs):
            return runs
        assert time.monotonic() < deadline, runs
        time.sleep(1)


def _metrics(stack: RunningStack) -> dict[str, list]:
    from prometheus_client.parser import text_string_to_metric_families

    response = httpx.get(f"{stack.api}/metrics")
    assert response.status_code == 200, response.text
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def _sum(samples: dict[str, list], name: str, **labels) -> float:
    return sum(s.value for s in samples.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items()))


def _assert_metrics_show_requests_and_syncs(stack: RunningStack, vendors: list[str]) -> None:
    """The API's /metrics after syncs ran in Dagster's processes: request metrics per route template, and
    per vendor the runs, the rows they wrote per stream, their vendor calls, duration and lag."""
    samples = _metrics(stack)
    sync_route = {"route": "/api/v1/connections/{connection_id}/sync", "method": "POST", "status": "202"}
    assert _sum(samples, "firmsync_http_requests_total", **sync_route) >= len(vendors)
    assert _sum(samples, "firmsync_http_request_duration_seconds_count", **sync_route) >= len(vendors)
    assert _sum(samples, "firmsync_db_pool_size", engine="app") > 0
    assert _sum(samples, "firmsync_sync_metrics_up") == 1
    for vendor in vendors:
        assert _sum(samples, "firmsync_sync_runs_total", vendor=vendor, status="succeeded") > 0, vendor
        assert _sum(samples, "firmsync_sync_records_total", vendor=vendor, operation="inserted") > 0, vendor
        assert _sum(samples, "firmsync_sync_api_calls_total", vendor=vendor) > 0, vendor
        assert _sum(samples, "firmsync_sync_run_duration_seconds_count", vendor=vendor) > 0, vendor
        lags = [s for s in samples["firmsync_sync_lag_seconds"] if s.labels["vendor"] == vendor]
        assert lags and all(0 <= s.value < 3600 for s in lags), (vendor, lags)
    customers = {"vendor": "quickbooks", "stream": "customers", "operation": "inserted"}
    assert _sum(samples, "firmsync_sync_records_total", **customers) >= 25  # at least the second company's


RUNS = """query($id: String!) { runsOrError(filter: {tags: [{key: "firmsync/sync_request_id", value: $id}]}) {
  ... on Runs { results { runId status tags { key value } } } } }"""
MATERIALIZATIONS = """query($key: String!) { assetOrError(assetKey: {path: ["quickbooks", "customers"]}) {
  ... on Asset { assetMaterializations(partitions: [$key], limit: 5) { partition runId } } } }"""


def test_make_run_stack_end_to_end(tmp_path):
    ports = stack_ports()
    data_dir = tmp_path / "data"
    stack = RunningStack(data_dir, ports)
    try:
        stack.wait_ready()
        output = stack.output()
        assert f"http://127.0.0.1:{ports['FIRMSYNC_API_PORT']}" in output and DEMO["email"] in output
        headers = _login(stack)

        # The demo firm comes connected to the sandbox's demo company in QuickBooks (a few hundred customers)
        # and its demo organisation in Xero (the same first 20 clients, and others); its staff member's
        # calendars are the sandbox's demo Google and Microsoft users; its CRM is the sandbox's demo
        # Salesforce org and its payments the demo Stripe account (Microsoft and Salesforce over the
        # sandbox's https port, trusted through its CA); its alerts go to the demo Slack workspace; its
        # members come from the demo domain of the directory server (slapd playing Active Directory).
        demo = {
            c["provider"]: c["id"]
            for c in httpx.get(f"{stack.api}/api/v1/connections", headers=headers).json()["items"]
        }
        assert sorted(demo) == [
            "active_directory",
            "google_calendar",
            "microsoft_calendar",
            "quickbooks",
            "salesforce",
            "slack",
            "stripe",
            "xero",
        ]

        # "Connect Xero" works out of the box: the flow starts at the sandbox, which redirects back here.
        started = httpx.post(f"{stack.api}/api/v1/connections/oauth/xero/start", json={}, headers=headers)
        assert started.status_code == 201, started.text
        consent = httpx.get(started.json()["authorization_url"], follow_redirects=False)
        assert consent.status_code == 302
        assert consent.headers["location"].startswith(f"{stack.api}/api/v1/oauth/xero/callback?")

        # A firm admin connects another QuickBooks company through the API, by configuration alone.
        realm = httpx.post(
            f"{stack.sandbox}/quickbooks/_sandbox/realms", json={"customers": 25, "seed": 3}
        ).json()
        body = {
            "provider": "quickbooks",
            "display_name": "Second company",
            "config": {
                "realm_id": realm["realm_id"],
                "environment": "sandbox",
                "api_base_url": f"{stack.sandbox}/quickbooks",
                "discovery_url": f"{stack.sandbox}/quickbooks/.well-known/openid_sandbox_configuration",
                "client_id": realm["client_id"],
            },
            "credentials": {"client_secret": realm["client_secret"], "refresh_token": realm["refresh_token"]},
        }
        created = httpx.post(f"{stack.api}/api/v1/connections", json=body, headers=headers)
        assert created.status_code == 201, created.text
        second = created.json()["id"]

        _sync_and_wait(stack, headers, demo["quickbooks"])
        _sync_and_wait(stack, headers, demo["xero"])
        _sync_and_wait(stack, headers, demo["google_calendar"])
        for provider in ("microsoft_calendar", "salesforce", "stripe", "active_directory"):
            _sync_and_wait(stack, headers, demo[provider])  # (a cadence sweep may have synced it first)
            state = httpx.get(f"{stack.api}/api/v1/connections/{demo[provider]}", headers=headers).json()
            assert (state["status"], state["last_sync"]["status"]) == ("active", "succeeded"), state
        # The directory's mapped groups made the firm's members, with their roles.
        members = httpx.get(f"{stack.api}/api/v1/team/members", params={"limit": 100}, headers=headers).json()
        roles = {m["email"]: m["role"] for m in members["items"]}
        assert (
            roles["maya.patel@firmsync.example"] == "partner"
            and roles["lea.moreau@firmsync.example"] == "billing"
        )
        second_request = _sync_and_wait(stack, headers, second)
        # Every stream's records count: the 25 customers plus the company's starting items and accounts
        # (a new sandbox company has no sales yet), as the sandbox itself reports them.
        held = httpx.get(f"{stack.sandbox}/quickbooks/_sandbox/realms/{realm['realm_id']}").json()["counts"]
        synced = held["Customer"] + held["Item"] + held["Account"]
        assert held["Customer"] == 25 and held.get("Invoice", 0) == 0
        # The cadence sweep may sync a new connection before this request's run gets to it; the request then
        # finds nothing new. Either way every record of the company is there exactly once (checked below).
        assert second_request["records"] in (synced, 0)

        clients = _all_clients(stack, headers)
        providers = [sorted({r["provider"] for r in c["external_refs"]}) for c in clients]
        assert len(clients) >= 300 and all(providers)
        # The demo's shared clients are one client each, known to both vendors.
        assert providers.count(["quickbooks", "xero"]) >= 15
        connection = httpx.get(f"{stack.api}/api/v1/connections/{second}", headers=headers).json()
        assert connection["last_sync"]["status"] == "succeeded"
        assert connection["last_sync"]["records"] in (synced, 0)
        second_clients = [c for c in clients if any(r["connection_id"] == second for r in c["external_refs"])]
        assert len(second_clients) == 25

        # Dagster agrees: the run keyed by the request succeeded and the partition is materialised.
        # (The request is marked succeeded by the run's last step, moments before the run itself ends.)
        runs = _wait_for_run(stack, second_request["id"])
        assert [r["status"] for r in runs] == ["SUCCESS"]
        mats = _dagster(stack, MATERIALIZATIONS, key=second)["assetOrError"]["assetMaterializations"]
        assert mats and mats[0]["partition"] == second and mats[0]["runId"] == runs[0]["runId"]

        # Issue 8's "done when": /metrics shows the requests above and the syncs the runs recorded.
        _assert_metrics_show_requests_and_syncs(stack, ["quickbooks", "xero"])

        children = psutil.Process(stack.proc.pid).children(recursive=True)
        assert len(children) >= 5
    finally:
        code = stack.stop()
    assert code == 0, stack.output()[-4000:]
    assert not [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not (data_dir / "pg" / "postmaster.pid").exists()

    # A second start reuses the data: same clients, same connections, no second demo firm.
    again = RunningStack(data_dir, ports)
    try:
        again.wait_ready()
        headers = _login(again)
        assert httpx.get(f"{again.api}/api/v1/clients", headers=headers).json()["total"] == len(clients)
        assert httpx.get(f"{again.api}/api/v1/connections", headers=headers).json()["total"] == len(demo) + 1
    finally:
        assert again.stop() == 0
