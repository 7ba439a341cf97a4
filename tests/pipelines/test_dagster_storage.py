"""The instance from the repo's dagster.yaml stores events through a pool, on a real PostgreSQL."""

from __future__ import annotations

import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from pipelines.dagster_storage import PooledPostgresEventLogStorage
from tests.support.processes import ROOT


@pytest.fixture
def dagster_instance(database_url, tmp_path, monkeypatch):
    name = f"dagster_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("DAGSTER_PG_URL", url)
    try:
        with dg.DagsterInstance.get() as instance:
            yield instance, name
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def _backends(database_url: str, name: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute("select count(*) from pg_stat_activity where datname = %s", (name,)).fetchone()[0]


def test_events_reuse_pooled_connections(dagster_instance, database_url):
    instance, name = dagster_instance
    assert isinstance(instance.event_log_storage, PooledPostgresEventLogStorage)

    @dg.asset
    def ledger():
        return 1

    dg.materialize([ledger], instance=instance)
    engine = instance.event_log_storage._engine
    connects = []
    from sqlalchemy import event

    event.listen(engine, "connect", lambda *_: connects.append(1))

    def report(i: int) -> None:
        instance.report_runless_asset_event(dg.AssetMaterialization("ledger", metadata={"i": i}))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(report, range(60)))

    # 60 materializations (each an insert and an index transaction) from four threads: stock
    # dagster-postgres would open 120+ connections; the pool opens at most one per thread.
    assert len(connects) <= 4
    assert _backends(database_url, name) <= 2 + 8
    records = instance.fetch_materializations(dg.AssetKey("ledger"), limit=100).records
    assert len(records) == 61
    assert records[0].asset_materialization.metadata["i"].value in range(60)
