"""Full vs incremental sync of QuickBooks customers through the real connector against the sandbox.

A sandbox realm gets `--records` customers; a full sync (`customer_pages(since=None)`) loads them into a
scratch database's warehouse.quickbooks_customers; `--changed` * records customers are then edited in the
sandbox and an incremental sync runs from the cursor the full sync committed. Each sync is what the
QuickBooks asset runs, `pipelines.sync_engine.sync_stream` on the QuickBooks customers stream:
QuickBooksClient.customer_pages → mapping → `bulk_upsert` + cursor in one tenant transaction per page
(the API's database role, row-level security on). Seconds are wall time of `sync_stream`; API calls are the
sandbox's own per-realm request counters, reset between phases.

Targets (issue 4): incremental ≤ 5% of the full sync's time, and API calls ≤ the pages the changed
records fill, plus one. The realm's rate limit (and the client's token bucket with it) is raised: this
measures sync cost, not throttling (`ratelimit` measures that).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from bench.database import scratch_database
from bench.servers import Sandbox

log = logging.getLogger("bench.incremental")

STREAM = "customers"
SHARE_TARGET = 0.05
SEED_CHUNK = 25_000  # customers per bulk-seed request
PUBLISHED_LIMIT_PER_MINUTE = 500  # Intuit's per-realm limit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--vendor",
        choices=("quickbooks", "xero"),
        default="quickbooks",
        help="whose sync (default quickbooks)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=60.0,
        help="xero only: the organisation's limits run this many times faster, and the client's with them "
        "(60: Xero's minute lasts a second; default 60)",
    )
    parser.add_argument("--records", type=int, default=100_000, help="customers in the realm (default 100k)")
    parser.add_argument(
        "--changed", type=float, default=0.01, help="share of customers edited before the incremental sync"
    )
    parser.add_argument("--page-size", type=int, default=1000, help="MAXRESULTS per query (max 1000)")
    parser.add_argument(
        "--rate-limit-per-minute",
        type=int,
        default=100_000,
        help="the realm's limit for this bench, and the client's bucket with it (default 100000)",
    )
    parser.add_argument(
        "--spread-seconds",
        type=int,
        default=60,
        help="the edits happen over this many seconds of sandbox time, as edits between two syncs do; "
        "0 makes them one bulk edit in a single second (default 60)",
    )
    parser.add_argument("--seed", type=int, default=4, help="seed of the generated customers and edits")


@dataclass
class SyncFigures:
    seconds: float
    api_calls: int
    api_by_status: dict[str, int]
    pages: int
    records_read: int
    inserted: int
    updated: int
    unchanged: int
    dead_lettered: int
    cursor: str | None


def _sync(db, tenant, connection_id: uuid.UUID, client, page_size: int) -> SyncFigures:
    """One sync of the customers stream by the project's sync engine, from the stored cursor (none: all)."""
    from pipelines.assets.quickbooks import QUICKBOOKS
    from pipelines.sync_engine import sync_stream

    (stream,) = (s for s in QUICKBOOKS.streams if s.name == STREAM)
    started = time.perf_counter()
    result = sync_stream(
        db,
        tenant,
        QUICKBOOKS.provider,
        connection_id,
        client,
        stream,
        full_refresh=False,
        page_size=page_size,
    )
    seconds = time.perf_counter() - started
    records = result.inserted + result.updated + result.unchanged + result.dead_lettered
    return SyncFigures(
        seconds=seconds,
        api_calls=0,
        api_by_status={},
        pages=result.pages,
        records_read=records,
        inserted=result.inserted,
        updated=result.updated,
        unchanged=result.unchanged,
        dead_lettered=result.dead_lettered,
        cursor=result.cursor,
    )


def _measured(sandbox: Sandbox, realm_id: str, sync) -> SyncFigures:
    sandbox.reset_stats(realm_id)
    figures = sync()
    stats = sandbox.stats(realm_id)
    figures.api_calls = stats["total"]
    figures.api_by_status = stats["by_status"]
    return figures


def _touch(sandbox: Sandbox, realm_id: str, count: int, spread_seconds: int, seed: int) -> int:
    """Edit `count` distinct active customers, spread over `spread_seconds` of sandbox time."""
    sandbox.advance_clock(1)  # every edit lands after the full sync's cursor second
    batches = max(1, min(count, spread_seconds))
    touched: set[str] = set()
    batch = 0
    while len(touched) < count:
        remaining_batches = max(1, batches - batch)
        size = math.ceil((count - len(touched)) / remaining_batches)
        answer = sandbox.touch_customers(realm_id, size, seed=seed * 1_000_003 + batch)
        if not answer["touched"]:
            break  # no active customer left to edit
        touched.update(answer["touched"])
        batch += 1
        if len(touched) < count and spread_seconds:
            sandbox.advance_clock(spread_seconds / batches)
    return len(touched)


def run(
    records: int = 100_000,
    changed: float = 0.01,
    page_size: int = 1000,
    rate_limit_per_minute: int = 100_000,
    spread_seconds: int = 60,
    seed: int = 4,
    vendor: str = "quickbooks",
    time_scale: float = 60.0,
) -> dict[str, Any]:
    if vendor == "xero":  # Xero's page size is its own (100) and its limit is time-scaled instead
        from bench import xero

        return xero.incremental(records, changed, time_scale, spread_seconds, seed)
    if records < 1 or not 0 < changed <= 1 or not 1 <= page_size <= 1000 or rate_limit_per_minute < 1:
        raise SystemExit("need --records ≥ 1, 0 < --changed ≤ 1, 1 ≤ --page-size ≤ 1000, a positive limit")
    # requests-oauthlib refuses plain http otherwise; the sandbox serves http on localhost.
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    from connectors.base import TokenBucket
    from connectors.quickbooks.client import QuickBooksClient
    from connectors.quickbooks.config import QuickBooksConfig, QuickBooksCredentials

    with scratch_database(), Sandbox() as sandbox:
        from core_api import db
        from pipelines.resources import FirmsyncDatabase

        db.owner_engine.cache_clear()
        db.app_engine.cache_clear()
        started = time.perf_counter()
        realm = sandbox.new_realm(customers=0, seed=seed)
        realm_id = realm["realm_id"]
        for chunk, first in enumerate(range(0, records, SEED_CHUNK)):
            sandbox.add_customers(realm_id, min(SEED_CHUNK, records - first), seed=seed + chunk)
        sandbox.set_limits(realm_id, requests_per_minute=rate_limit_per_minute)
        seeded = time.perf_counter() - started
        log.info("sandbox realm %s seeded with %d customers in %.1fs", realm_id, records, seeded)

        config = QuickBooksConfig.model_validate(sandbox.quickbooks_config(realm))
        credentials = QuickBooksCredentials(
            client_secret=realm["client_secret"],
            refresh_token=realm["refresh_token"],
            access_token=realm["access_token"],
            access_token_expires_at=datetime.now(UTC) + timedelta(seconds=int(realm["expires_in"])),
        )
        firm_id, connection_id = uuid.uuid4(), uuid.uuid4()
        with db.system_session() as session:  # the owner role, as bench/load.py and the sensors do
            session.execute(
                text("insert into app.firms (id, name, slug) values (:f, 'bench', :s)"),
                {"f": firm_id, "s": f"bench-{firm_id.hex[:8]}"},
            )
            session.execute(
                text(
                    "insert into app.connections (id, firm_id, provider, account_id, display_name, config) "
                    "values (:c, :f, 'quickbooks', :a, 'bench', cast(:config as jsonb))"
                ),
                {"c": connection_id, "f": firm_id, "a": realm_id, "config": config.model_dump_json()},
            )
        database = FirmsyncDatabase()  # the sync's own resource: owner for lookups, API role for loads
        tenant, _ = database.connection(connection_id)

        refreshes: list[object] = []
        client = QuickBooksClient(
            config,
            credentials,
            on_tokens=refreshes.append,
            bucket=TokenBucket.per_minute(rate_limit_per_minute),
        )
        with client:
            # No cursor stored yet: the first sync reads everything (`customer_pages(since=None)`).
            full = _measured(
                sandbox, realm_id, lambda: _sync(database, tenant, connection_id, client, page_size)
            )
            log.info(
                "full sync: %d records, %d pages, %.2fs, %d API calls",
                full.records_read,
                full.pages,
                full.seconds,
                full.api_calls,
            )

            target_changed = max(1, round(changed * records))
            changed_records = _touch(sandbox, realm_id, target_changed, spread_seconds, seed)
            # The engine resumes from the cursor the full sync committed with its last page.
            incremental = _measured(
                sandbox, realm_id, lambda: _sync(database, tenant, connection_id, client, page_size)
            )
            log.info(
                "incremental sync: %d records, %d pages, %.3fs, %d API calls",
                incremental.records_read,
                incremental.pages,
                incremental.seconds,
                incremental.api_calls,
            )

        with db.system_session() as session:
            in_table, changed_loaded = session.execute(
                text(
                    "select count(*), count(*) filter (where updated_at > cast(:cursor as timestamptz)) "
                    "from warehouse.quickbooks_customers where connection_id = :c"
                ),
                {"c": connection_id, "cursor": full.cursor},
            ).one()
        db.app_engine().dispose()
        db.owner_engine().dispose()

    pages_fill = math.ceil(changed_records / page_size)
    share = incremental.seconds / full.seconds
    calls_target = pages_fill + 1
    bucket_capacity = TokenBucket.per_minute(PUBLISHED_LIMIT_PER_MINUTE).capacity
    return {
        "records": records,
        "changed": changed,
        "changed_records": changed_records,
        "page_size": page_size,
        "spread_seconds": spread_seconds,
        "rate_limit_per_minute": rate_limit_per_minute,
        "full_seconds": round(full.seconds, 3),
        "full_api_calls": full.api_calls,
        "full_pages": full.pages,
        "full_records_read": full.records_read,
        "full_rows_inserted": full.inserted,
        "incremental_seconds": round(incremental.seconds, 3),
        "incremental_api_calls": incremental.api_calls,
        "incremental_pages": incremental.pages,
        "incremental_records_read": incremental.records_read,
        "incremental_rows_updated": incremental.updated,
        "incremental_rows_unchanged": incremental.unchanged,
        "dead_lettered": full.dead_lettered + incremental.dead_lettered,
        "cursor_after_full": full.cursor,
        "cursor_after_incremental": incremental.cursor,
        "api_status_counts": {
            "full": full.api_by_status,
            "incremental": incremental.api_by_status,
        },
        "incremental_share_of_full": round(share, 4),
        "share_target": SHARE_TARGET,
        "share_target_met": share <= SHARE_TARGET,
        "pages_changed_records_fill": pages_fill,
        "api_calls_target": calls_target,
        "api_calls_target_met": incremental.api_calls <= calls_target,
        "targets_met": share <= SHARE_TARGET and incremental.api_calls <= calls_target,
        "warehouse_rows": in_table,
        "changed_rows_loaded": changed_loaded,
        "token_refreshes": len(refreshes),
        # What the full sync's API calls alone would take under Intuit's published 500/min, through the
        # client's default bucket (a burst, then 490/min): context for full_seconds, not a target.
        "full_min_seconds_at_published_limit": round(
            max(0, full.api_calls - bucket_capacity) / ((PUBLISHED_LIMIT_PER_MINUTE - bucket_capacity) / 60),
            1,
        ),
    }
