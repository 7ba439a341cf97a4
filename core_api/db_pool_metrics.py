"""Connection-pool gauges of the API's two engines (core_api/db.py), read from the pools at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from core_api import db


def _engines():
    """Only the engines this process has built: a scrape must not open a pool nobody uses."""
    for name, factory in (("app", db.app_engine), ("owner", db.owner_engine)):
        if factory.cache_info().currsize:
            yield name, factory()


class PoolCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        size = GaugeMetricFamily("firmsync_db_pool_size", "Connections the pool keeps", labels=["engine"])
        out = GaugeMetricFamily(
            "firmsync_db_pool_checked_out", "Connections in use by a request or job", labels=["engine"]
        )
        overflow = GaugeMetricFamily(
            "firmsync_db_pool_overflow",
            "Connections opened beyond the pool size (negative: pool slots not yet opened)",
            labels=["engine"],
        )
        for name, engine in _engines():
            pool = engine.pool
            if not all(hasattr(pool, attr) for attr in ("size", "checkedout", "overflow")):
                continue  # NullPool and friends keep nothing to report
            size.add_metric([name], pool.size())
            out.add_metric([name], pool.checkedout())
            overflow.add_metric([name], pool.overflow())
        yield from (size, out, overflow)
