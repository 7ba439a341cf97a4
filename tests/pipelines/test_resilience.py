"""Issue 4's bar: a flaky vendor and a killed run still end with the warehouse equal to the source."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import dagster as dg
import httpx
from sqlalchemy import text

from core_api.db import tenant_session
from pipelines.assets.quickbooks import quickbooks
from pipelines.partitions import quickbooks_connections
from pipelines.resources import FirmsyncDatabase, QuickBooksApi
from tests.pipelines.conftest import make_target
from tests.support.processes import ROOT


def source_customers(sandbox, realm: dict) -> dict[str, dict]:
    """Every customer of the realm, read straight from the (emulated) vendor API, not via our connector."""
    token = httpx.post(
        f"{sandbox.quickbooks}/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": realm["refresh_token"]},
        auth=(realm["client_id"], realm["client_secret"]),
    )
    token.raise_for_status()
    headers = {"Authorization": f"Bearer {token.json()['access_token']}", "Accept": "application/json"}
    customers, start = {}, 1
    while True:
        query = f"select * from Customer where Active in (true, false) STARTPOSITION {start} MAXRESULTS 1000"
        page = (
            httpx.get(
                f"{sandbox.quickbooks}/v3/company/{realm['realm_id']}/query",
                params={"query": query},
                headers=headers,
            )
            .json()["QueryResponse"]
            .get("Customer", [])
        )
        customers.update({c["Id"]: c for c in page})
        if len(page) < 1000:
            return customers
        start += 1000


def warehouse(target) -> dict[str, dict]:
    with tenant_session(target.tenant) as session:
        rows = session.execute(
            text("select external_id, raw from warehouse.quickbooks_customers where connection_id = :c"),
            {"c": target.connection_id},
        ).all()
    return {external_id: raw for external_id, raw in rows}


def assert_equal_to_source(target, sandbox, realm):
    source, synced = source_customers(sandbox, realm), warehouse(target)
    assert synced.keys() == source.keys()
    assert all(synced[k] == source[k] for k in source)  # content, not just keys


def flaky(sandbox, realm_id: str, share: float = 0.20) -> None:
    kinds = ["500", "503", "429", "drop", "timeout"]
    for i, kind in enumerate(kinds):
        httpx.post(
            f"{sandbox.quickbooks}/_sandbox/faults",
            json={
                "realm": realm_id,
                "kind": kind,
                "times": 100_000,
                "probability": share / len(kinds),
                "seed": i,
                "retry_after": 0,
                "delay_seconds": 1.5,
            },
        ).raise_for_status()


def test_a_flaky_vendor_with_20_percent_failures_still_yields_an_exact_copy(database_url, sandbox, instance):
    # The realm's refresh token rotates on first use; keep a second grant for reading the source.
    target = make_target(sandbox, customers=600, seed=11)
    instance.add_dynamic_partitions(quickbooks_connections.name, [target.key])
    reader = httpx.post(f"{sandbox.quickbooks}/_sandbox/realms/{target.realm['realm_id']}/grant").json()
    flaky(sandbox, target.realm["realm_id"])
    resources = {
        "db": FirmsyncDatabase(),
        "quickbooks": QuickBooksApi(timeout_seconds=1, max_attempts=10, page_size=50),
    }
    result = dg.materialize(
        quickbooks.assets, partition_key=target.key, instance=instance, resources=resources
    )
    assert result.success
    stats = httpx.get(f"{sandbox.quickbooks}/_sandbox/realms/{target.realm['realm_id']}/stats").json()
    httpx.delete(f"{sandbox.quickbooks}/_sandbox/faults").raise_for_status()
    assert_equal_to_source(target, sandbox, {**target.realm, **reader})
    assert "500" in str(stats) or "503" in str(stats)  # faults really were served during the sync


KILLABLE_SYNC = """
import dagster as dg, sys
from pipelines.assets.quickbooks import quickbooks
from pipelines.partitions import quickbooks_connections
from pipelines.resources import FirmsyncDatabase, QuickBooksApi
with dg.instance_for_test() as instance:
    instance.add_dynamic_partitions(quickbooks_connections.name, [sys.argv[1]])
    dg.materialize(quickbooks.assets, partition_key=sys.argv[1], instance=instance,
                   resources={"db": FirmsyncDatabase(), "quickbooks": QuickBooksApi(page_size=20)})
"""


def test_a_sync_killed_with_sigkill_resumes_without_gaps_or_duplicates(
    database_url, sandbox, instance, tmp_path
):
    target = make_target(sandbox, customers=1500, seed=5)
    reader = httpx.post(f"{sandbox.quickbooks}/_sandbox/realms/{target.realm['realm_id']}/grant").json()
    # Slow every page a little so the kill lands mid-sync.
    httpx.post(
        f"{sandbox.quickbooks}/_sandbox/faults",
        json={
            "realm": target.realm["realm_id"],
            "kind": "timeout",
            "times": 100_000,
            "probability": 0.5,
            "delay_seconds": 0.1,
            "path_contains": "/query",
        },
    ).raise_for_status()
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_SYNC, target.key],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=(tmp_path / "sync.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(warehouse(target)) < 200:
            assert proc.poll() is None, (tmp_path / "sync.log").read_text()[-3000:]
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    partial = warehouse(target)
    assert 200 <= len(partial) < 1500, "the kill must land mid-sync"
    with tenant_session(target.tenant) as session:
        cursor_after_kill = session.execute(
            text("select cursor from app.sync_state where connection_id = :c"), {"c": target.connection_id}
        ).scalar()
        newest_row = session.execute(
            text("select max(updated_at) from warehouse.quickbooks_customers where connection_id = :c"),
            {"c": target.connection_id},
        ).scalar()
    # The committed cursor covers exactly the committed rows: never ahead of what was loaded.
    from datetime import datetime

    assert datetime.fromisoformat(cursor_after_kill) == newest_row

    httpx.delete(f"{sandbox.quickbooks}/_sandbox/faults").raise_for_status()
    instance.add_dynamic_partitions(quickbooks_connections.name, [target.key])
    resources = {"db": FirmsyncDatabase(), "quickbooks": QuickBooksApi(timeout_seconds=5, max_attempts=3)}
    result = dg.materialize(
        quickbooks.assets, partition_key=target.key, instance=instance, resources=resources
    )
    assert result.success
    assert_equal_to_source(target, sandbox, {**target.realm, **reader})
    with tenant_session(target.tenant) as session:
        counts = session.execute(
            text(
                "select count(*), count(distinct external_id) from warehouse.quickbooks_customers "
                "where connection_id = :c"
            ),
            {"c": target.connection_id},
        ).one()
        clients = session.execute(text("select count(*) from app.clients")).scalar()
    assert counts[0] == counts[1] == 1500 and clients == 1500
