"""Scrape cost of /metrics' sync figures as `app.sync_runs` grows: a Prometheus scrape every 15 s must stay
cheap however long the platform has been syncing.

Fills a scratch database with `--connections` connections and `--runs` recorded syncs (five streams each,
spread over `--days`), then times `SyncCollector` scrapes (the database reads and the metric families).
Figures: rows, scrape seconds (median and max of `--scrapes`), and the series count of one scrape.
"""

from __future__ import annotations

import statistics
import time
import uuid

PROVIDERS = ("quickbooks", "xero", "stripe", "salesforce", "google_calendar")
STREAMS = ("customers", "invoices", "payments", "items", "accounts")


def add_arguments(parser) -> None:
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=500_000, help="recorded syncs (app.sync_runs rows)")
    parser.add_argument("--days", type=int, default=90, help="the history they are spread over")
    parser.add_argument("--scrapes", type=int, default=7)
    parser.add_argument("--inserts", type=int, default=2000, help="runs recorded one by one (trigger cost)")


def _fill(url: str, connections: int, runs: int, days: int) -> uuid.UUID:
    import psycopg

    firm = uuid.uuid4()
    streams = (
        "jsonb_build_object("
        + ", ".join(
            f"'{s}', jsonb_build_object('inserted', (random()*5)::int, 'updated', (random()*20)::int, "
            f"'unchanged', 0, 'deleted', 0, 'dead_lettered', 0, 'seconds', random())"
            for s in STREAMS
        )
        + ")"
    )
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into app.firms (id, name, slug) values (%s, 'Bench', %s)", (firm, f"b-{firm.hex[:8]}")
        )
        conn.execute(
            "insert into app.connections (id, firm_id, provider, account_id, display_name, config) "
            "select gen_random_uuid(), %s, (%s::text[])[1 + i %% %s], 'acct-' || i, 'c' || i, '{}' "
            "from generate_series(1, %s) i",
            (firm, list(PROVIDERS), len(PROVIDERS), connections),
        )
        fill = (
            "insert into app.sync_runs (id, firm_id, connection_id, provider, status, started_at, "  # noqa: S608
            "finished_at, seconds, api_calls, throttled, retries, streams) "
            "select gen_random_uuid(), c.firm_id, c.id, c.provider, "
            "case when random() < 0.02 then 'failed' else 'succeeded' end, "
            "t - interval '20 seconds', t, 20 * random(), 10, (random() < 0.05)::int, 0, " + streams + " "
            "from generate_series(1, %s) i "
            "join lateral (select now() - (random() * %s) * interval '1 day' as t) ts on true "
            "join lateral (select * from app.connections where firm_id = %s "
            "offset (i %% %s) limit 1) c on true"
        )
        # A bulk load with the roll-up trigger off, then the totals rebuilt from it once (as migration 0020
        # does for earlier runs); per-run trigger cost is measured separately, one run per transaction.
        conn.execute("set session_replication_role = replica")
        conn.execute(fill, (runs, days, firm, connections))
        conn.execute("set session_replication_role = origin")
        conn.execute("select app.sync_totals_rebuild()")
        conn.execute("analyze app.sync_runs")
    return firm


def _insert_ms(url: str, firm: uuid.UUID, count: int) -> float:
    """Mean cost of recording one run (its row and the trigger's roll-up), a transaction each, as syncs do."""
    import psycopg
    from psycopg.types.json import Jsonb

    streams = Jsonb({s: {"inserted": 1, "updated": 2, "unchanged": 0, "deleted": 0} for s in STREAMS})
    with psycopg.connect(url, autocommit=True) as conn:
        targets = conn.execute(
            "select id, provider from app.connections where firm_id = %s limit %s", (firm, count)
        ).fetchall()
        started = time.perf_counter()
        for i in range(count):
            connection_id, provider = targets[i % len(targets)]
            conn.execute(
                "insert into app.sync_runs (id, firm_id, connection_id, provider, status, started_at, "
                "finished_at, seconds, api_calls, streams) "
                "values (gen_random_uuid(), %s, %s, %s, 'succeeded', now(), now(), 3.2, 12, %s)",
                (firm, connection_id, provider, streams),
            )
        return (time.perf_counter() - started) * 1000 / count


def run(connections: int, runs: int, days: int, scrapes: int, inserts: int) -> dict:
    from bench.database import scratch_database

    with scratch_database() as url:
        started = time.perf_counter()
        firm = _fill(url, connections, runs, days)
        fill_seconds = time.perf_counter() - started
        insert_ms = _insert_ms(url, firm, inserts)
        from core_api.sync_metrics import SyncCollector

        collector = SyncCollector()
        timings, series = [], 0
        for _ in range(scrapes):
            started = time.perf_counter()
            families = list(collector.collect())
            timings.append(time.perf_counter() - started)
            series = sum(len(f.samples) for f in families)
        up = next(f for f in families if f.name == "firmsync_sync_metrics_up").samples[0].value
        return {
            "connections": connections,
            "runs": runs,
            "fill_seconds": round(fill_seconds, 1),
            "record_run_ms": round(insert_ms, 3),
            "scrape_median_seconds": round(statistics.median(timings), 4),
            "scrape_max_seconds": round(max(timings), 4),
            "series": series,
            "metrics_up": up,
        }
