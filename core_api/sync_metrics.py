"""Sync figures for /metrics, read from the database at scrape time (ADR 0019).

Dagster runs are separate processes, so their counts cannot live in this process's registry. Each sync
writes an `app.sync_runs` row (pipelines/sync_engine.py); here the owner role reads cross-tenant
aggregates of those rows, `app.connections` and `app.sync_requests`. Labels are bounded: vendor, stream,
status, operation; never a firm or connection id. The "_total" families are sums over every recorded run,
so they only grow (a retention purge shows as a counter reset, which rate() handles). Every API replica
reports the same figures: aggregate them with max(), not sum().
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text

from core_api import db

log = logging.getLogger(__name__)

DURATION_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
OPERATIONS = ("inserted", "updated", "unchanged", "deleted", "dead_lettered")

# Running totals kept by a trigger on app.sync_runs (migration 0020): a scrape reads a few rows per vendor
# however long the history is, and pruning old runs never makes a counter go backwards.
_RUNS = text("select provider, status, runs, api_calls, throttled, retries from app.sync_run_totals")
_RECORDS = text(
    "select provider, stream, "  # noqa: S608 - built from this module's constants only
    + ", ".join(OPERATIONS)
    + " from app.sync_record_totals"
)
_DURATION = text(
    "select provider, "  # noqa: S608 - built from this module's constants only
    + ", ".join(f"sum(le_{b:g})" for b in DURATION_BUCKETS)
    + ", sum(runs), sum(seconds_sum) from app.sync_run_totals group by provider"
)
# Per live connection and stream, its last successful sync; per vendor and stream, the oldest of those.
_LAG = text(
    """
    select s.provider, s.stream, extract(epoch from now() - min(s.succeeded_at))
    from app.sync_stream_successes s
    join app.connections c on c.id = s.connection_id
    where c.deleted_at is null and c.status <> 'disabled'
    group by s.provider, s.stream
    """
)
_CONNECTIONS = text(
    "select provider, status, coalesce(last_sync_status, 'never'), count(*) from app.connections "
    "where deleted_at is null group by 1, 2, 3"
)
_REQUESTS = text(
    "select status, count(*), coalesce(extract(epoch from now() - min(created_at)), 0) "
    "from app.sync_requests where status in ('pending', 'running') group by status"
)


class SyncCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "firmsync_sync_metrics_up", "1 when the sync figures below could be read from the database"
        )
        try:
            families = list(self._read())
        except Exception as exc:  # a scrape must still answer (request metrics) while the database is down
            log.warning("sync metrics unavailable: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> Iterator[Metric]:
        with db.owner_engine().connect() as conn, conn.begin():
            conn.execute(text("set local statement_timeout = '5s'"))
            runs = conn.execute(_RUNS).all()
            records = conn.execute(_RECORDS).all()
            durations = conn.execute(_DURATION).all()
            lags = conn.execute(_LAG).all()
            connections = conn.execute(_CONNECTIONS).all()
            requests = conn.execute(_REQUESTS).all()

        yield from _runs(runs)
        yield from _records(records)
        yield _durations(durations)
        lag = GaugeMetricFamily(
            "firmsync_sync_lag_seconds",
            "Per vendor and stream, the longest time any live connection has gone since its last successful "
            "sync of that stream",
            labels=["vendor", "stream"],
        )
        for provider, stream, seconds in lags:
            lag.add_metric([provider, stream], float(seconds))
        yield lag
        live = GaugeMetricFamily(
            "firmsync_connections",
            "Live connections by vendor, status and last sync outcome",
            labels=["vendor", "status", "last_sync"],
        )
        for provider, status, last, count in connections:
            live.add_metric([provider, status, last], count)
        yield live
        yield from _queue(requests)


def _runs(rows) -> Iterator[Metric]:
    runs = CounterMetricFamily(
        "firmsync_sync_runs", "Connection syncs finished, by outcome", labels=["vendor", "status"]
    )
    calls = CounterMetricFamily(
        "firmsync_sync_api_calls", "Vendor API calls made by syncs (each retry is a call)", labels=["vendor"]
    )
    throttled = CounterMetricFamily(
        "firmsync_sync_throttled", "Vendor answers of 429 Too Many Requests during syncs", labels=["vendor"]
    )
    retries = CounterMetricFamily("firmsync_sync_retries", "Vendor calls retried by syncs", labels=["vendor"])
    per_vendor: dict[str, list[int]] = {}
    for provider, status, count, api_calls, n_throttled, n_retries in rows:
        runs.add_metric([provider, status], count)
        sums = per_vendor.setdefault(provider, [0, 0, 0])
        sums[0] += api_calls
        sums[1] += n_throttled
        sums[2] += n_retries
    for provider, (api_calls, n_throttled, n_retries) in per_vendor.items():
        calls.add_metric([provider], api_calls)
        throttled.add_metric([provider], n_throttled)
        retries.add_metric([provider], n_retries)
    yield from (runs, calls, throttled, retries)


def _records(rows) -> Iterator[Metric]:
    family = CounterMetricFamily(
        "firmsync_sync_records",
        "Warehouse rows written by syncs, by vendor, stream and operation",
        labels=["vendor", "stream", "operation"],
    )
    for provider, stream, *counts in rows:
        for operation, count in zip(OPERATIONS, counts, strict=True):
            family.add_metric([provider, stream, operation], count)
    yield family


def _durations(rows) -> HistogramMetricFamily:
    family = HistogramMetricFamily(
        "firmsync_sync_run_duration_seconds", "Connection sync duration", labels=["vendor"]
    )
    for provider, *figures in rows:
        cumulative, total, seconds = figures[: len(DURATION_BUCKETS)], figures[-2], figures[-1]
        buckets = [(str(b), c) for b, c in zip(DURATION_BUCKETS, cumulative, strict=True)]
        family.add_metric([provider], [*buckets, ("+Inf", total)], float(seconds))
    return family


def _queue(rows) -> Iterator[Metric]:
    depth = GaugeMetricFamily(
        "firmsync_sync_requests",
        "Sync requests waiting for a run (pending) or being run (running)",
        labels=["status"],
    )
    oldest = GaugeMetricFamily(
        "firmsync_sync_request_oldest_seconds",
        "Age of the oldest sync request in each state",
        labels=["status"],
    )
    found = {status: (count, age) for status, count, age in rows}
    for status in ("pending", "running"):  # always both, so an empty queue reads 0 rather than absent
        count, age = found.get(status, (0, 0))
        depth.add_metric([status], count)
        oldest.add_metric([status], float(age))
    yield from (depth, oldest)
