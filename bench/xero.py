"""The `incremental` and `ratelimit` benches for Xero (`--vendor xero`), through the real connector.

Xero allows 60 calls per minute per organisation, so real-time runs of 100k records would take half an
hour: the sandbox organisation's limits are time-scaled (`time_scale` S: Xero's minute lasts 60/S
seconds, its day 24/S hours) and the client's own minute bucket is scaled by the same S, so every figure
is Xero's behaviour at S times speed. Rates are reported both as measured and divided by S (what they mean
against Xero's real 60/minute).

- incremental: `--records` contacts (bulk-seeded), a full sync of the contacts stream by the sync engine
  (`pipelines.sync_engine.sync_stream`, the Xero asset's code path), `--changed` of them edited in the
  sandbox (`/touch`, spread over `--spread-seconds` before now), then an incremental sync from the
  committed cursor. Targets as for QuickBooks: incremental ≤ 5% of the full sync's time; API calls ≤ the
  pages the changed records fill, plus one.
- ratelimit: `--workers` clients of one organisation page its contacts for `--seconds`, sharing the
  process's per-organisation buckets (as concurrent syncs do). Targets: achieved ≥ 90% of the allowed rate,
  ≤ 1% 429s, no failed run.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text

from bench.database import scratch_database
from bench.servers import Sandbox

log = logging.getLogger("bench.xero")

STREAM = "contacts"
PAGE_SIZE = 100  # Xero's page size
MINUTE_LIMIT = 60  # Xero's published per-organisation limit
# Seeded records are written "now": 10 per second of sandbox time (the clock is advanced between chunks),
# so no second holds more than a page, as in a real book (a crowded second costs the pager extra passes).
SEED_CHUNK = 10
SHARE_TARGET = 0.05
RATE_TARGET = 0.9
SHARE_429_TARGET = 0.01


class XeroSandbox:
    """The Xero half of the bench sandbox's admin API (`/xero/_sandbox`)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.base = f"{sandbox.url}/xero"
        self.http = httpx.Client(base_url=f"{self.base}/_sandbox", timeout=600.0)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def new_tenant(self, contacts: int, seed: int) -> dict[str, Any]:
        tenant = self.call("POST", "/tenants", json={"contacts": 0, "invoices": 0, "seed": seed})
        for chunk, first in enumerate(range(0, contacts, SEED_CHUNK)):
            count = min(SEED_CHUNK, contacts - first)
            self.call(
                "POST", f"/tenants/{tenant['tenant_id']}/contacts/bulk", json={"count": count, "seed": chunk}
            )
            self.sandbox.advance_clock(1)
        return tenant

    def config(self, tenant: dict[str, Any]):
        from connectors.xero.config import XeroConfig

        return XeroConfig(
            tenant_id=tenant["tenant_id"],
            client_id=tenant["client_id"],
            accounting_url=f"{self.base}/api.xro/2.0",
            connections_url=f"{self.base}/connections",
            authorize_url=f"{self.base}/identity/connect/authorize",
            token_url=f"{self.base}/identity/connect/token",
            revocation_url=f"{self.base}/identity/connect/revocation",
        )

    def credentials(self, tenant: dict[str, Any]):
        from connectors.xero.config import XeroCredentials

        return XeroCredentials(
            client_secret=tenant["client_secret"],
            refresh_token=tenant["refresh_token"],
            access_token=tenant["access_token"],
            expires_at=datetime.now(UTC) + timedelta(seconds=int(tenant["expires_in"])),
        )

    def stats(self, tenant_id: str) -> dict[str, Any]:
        return self.call("GET", f"/tenants/{tenant_id}/stats")

    def reset_stats(self, tenant_id: str) -> None:
        self.call("DELETE", f"/tenants/{tenant_id}/stats")


def scaled_minute_bucket(time_scale: float):
    """The client's per-organisation minute bucket at S times Xero's speed (`TokenBucket.per_minute`'s
    shape: a burst of 6, then the rest of the minute's calls evenly)."""
    from connectors.base import TokenBucket

    plain = TokenBucket.per_minute(MINUTE_LIMIT)
    return TokenBucket(plain.rate * time_scale, plain.capacity)


def _client(xero: XeroSandbox, tenant: dict[str, Any], bucket, refreshes: list):
    from connectors.xero.client import XeroClient

    return XeroClient(
        xero.config(tenant), xero.credentials(tenant), on_tokens=refreshes.append, bucket=bucket
    )


# --------------------------------------------------------------------------- incremental


def incremental(
    records: int, changed: float, time_scale: float, spread_seconds: int, seed: int, **_: Any
) -> dict[str, Any]:
    if records < 1 or not 0 < changed <= 1 or time_scale <= 0:
        raise SystemExit("need --records ≥ 1, 0 < --changed ≤ 1, --time-scale > 0")
    with scratch_database(), Sandbox() as sandbox:
        from core_api import db
        from pipelines.assets.xero import XERO
        from pipelines.resources import FirmsyncDatabase
        from pipelines.sync_engine import sync_stream

        db.owner_engine.cache_clear()
        db.app_engine.cache_clear()
        xero = XeroSandbox(sandbox)
        started = time.perf_counter()
        tenant = xero.new_tenant(records, seed)
        tenant_id = tenant["tenant_id"]
        xero.call("PUT", f"/tenants/{tenant_id}/limits", json={"time_scale": time_scale})
        log.info(
            "organisation %s seeded with %d contacts in %.1fs",
            tenant_id,
            records,
            time.perf_counter() - started,
        )

        firm_id, connection_id = uuid.uuid4(), uuid.uuid4()
        with db.system_session() as session:
            session.execute(
                text("insert into app.firms (id, name, slug) values (:f, 'bench', :s)"),
                {"f": firm_id, "s": f"bench-{firm_id.hex[:8]}"},
            )
            session.execute(
                text(
                    "insert into app.connections (id, firm_id, provider, account_id, display_name, config) "
                    "values (:c, :f, 'xero', :a, 'bench', cast(:config as jsonb))"
                ),
                {
                    "c": connection_id,
                    "f": firm_id,
                    "a": tenant_id,
                    "config": xero.config(tenant).model_dump_json(),
                },
            )
        database = FirmsyncDatabase()
        firm, _ = database.connection(connection_id)
        (stream,) = (s for s in XERO.streams if s.name == STREAM)
        refreshes: list = []

        def sync(client) -> dict[str, Any]:
            xero.reset_stats(tenant_id)
            began = time.perf_counter()
            result = sync_stream(
                database, firm, "xero", connection_id, client, stream, full_refresh=False, page_size=PAGE_SIZE
            )
            seconds = time.perf_counter() - began
            stats = xero.stats(tenant_id)
            return {
                "seconds": seconds,
                "api_calls": stats["total"],
                "by_status": stats["by_status"],
                "pages": result.pages,
                "read": result.inserted + result.updated + result.unchanged + result.dead_lettered,
                "inserted": result.inserted,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "cursor": result.cursor,
            }

        with _client(xero, tenant, scaled_minute_bucket(time_scale), refreshes) as client:
            full = sync(client)
            log.info(
                "full sync: %(read)d records, %(pages)d pages, %(seconds).2fs, %(api_calls)d calls", full
            )
            target = max(1, round(changed * records))
            sandbox.advance_clock(spread_seconds + 1)  # the edits happen after the full sync, over the span
            touched = xero.call(
                "POST",
                f"/tenants/{tenant_id}/touch",
                json={"contacts": target, "seed": seed, "spread_seconds": spread_seconds},
            )
            changed_records = len(touched["contacts"])
            inc = sync(client)
            log.info(
                "incremental: %(read)d records, %(pages)d pages, %(seconds).3fs, %(api_calls)d calls", inc
            )
        with db.system_session() as session:
            rows = session.execute(
                text("select count(*) from warehouse.xero_contacts where connection_id = :c"),
                {"c": connection_id},
            ).scalar_one()
        db.app_engine().dispose()
        db.owner_engine().dispose()

    pages_fill = math.ceil(changed_records / PAGE_SIZE)
    share = inc["seconds"] / full["seconds"]
    real = scaled_minute_bucket(1.0)
    return {
        "vendor": "xero",
        "records": records,
        "changed": changed,
        "changed_records": changed_records,
        "page_size": PAGE_SIZE,
        "time_scale": time_scale,
        "spread_seconds": spread_seconds,
        "full_seconds": round(full["seconds"], 3),
        # What the full sync's calls alone take under Xero's real 60/minute (the client's unscaled bucket).
        "full_min_seconds_at_xero_limit": round(
            max(0, full["api_calls"] - real.capacity) / real.rate if full["api_calls"] else 0, 1
        ),
        "full_api_calls": full["api_calls"],
        "full_pages": full["pages"],
        "full_rows_inserted": full["inserted"],
        "incremental_seconds": round(inc["seconds"], 3),
        "incremental_api_calls": inc["api_calls"],
        "incremental_pages": inc["pages"],
        "incremental_records_read": inc["read"],
        "incremental_rows_updated": inc["updated"],
        "incremental_rows_unchanged": inc["unchanged"],
        "api_status_counts": {"full": full["by_status"], "incremental": inc["by_status"]},
        "cursor_after_full": full["cursor"],
        "cursor_after_incremental": inc["cursor"],
        "incremental_share_of_full": round(share, 4),
        "share_target": SHARE_TARGET,
        "share_target_met": share <= SHARE_TARGET,
        "pages_changed_records_fill": pages_fill,
        "api_calls_target": pages_fill + 1,
        "api_calls_target_met": inc["api_calls"] <= pages_fill + 1,
        "targets_met": share <= SHARE_TARGET and inc["api_calls"] <= pages_fill + 1,
        "warehouse_rows": rows,
        "changed_rows_loaded": inc["updated"],
        "token_refreshes": len(refreshes),
    }


# --------------------------------------------------------------------------- rate limit


class _Worker(threading.Thread):
    def __init__(self, client, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.client, self.stop_event = client, stop
        self.runs = self.failed = self.records = 0

    def run(self) -> None:
        from connectors.base import ConnectorError

        while not self.stop_event.is_set():
            try:
                for page in self.client.pages(STREAM, None, PAGE_SIZE):
                    self.records += len(page.records)
                self.runs += 1
            except ConnectorError as error:
                self.failed += 1
                log.warning("run failed: %s", error)


def ratelimit(
    seconds: float, workers: int, customers: int, warmup_seconds: float, time_scale: float, **_: Any
) -> dict[str, Any]:
    if seconds <= warmup_seconds or workers < 1 or customers < 1 or time_scale <= 0:
        raise SystemExit("need --seconds > --warmup-seconds, ≥ 1 worker and contact, --time-scale > 0")
    if workers > 5:
        raise SystemExit("Xero allows 5 concurrent calls per organisation: --workers ≤ 5")
    with Sandbox() as sandbox:
        xero = XeroSandbox(sandbox)
        tenant = xero.new_tenant(customers, seed=7)
        tenant_id = tenant["tenant_id"]
        xero.call("PUT", f"/tenants/{tenant_id}/limits", json={"time_scale": time_scale})
        refreshes: list = []
        bucket = scaled_minute_bucket(time_scale)  # one per organisation, shared, as the sync's clients do
        clients = [_client(xero, tenant, bucket, refreshes) for _ in range(workers)]
        stop = threading.Event()
        threads = [_Worker(client, stop) for client in clients]
        xero.reset_stats(tenant_id)
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(warmup_seconds)
        window_start, at_start = time.monotonic(), xero.stats(tenant_id)
        time.sleep(max(0.0, started + seconds - time.monotonic()))
        window_end, at_end = time.monotonic(), xero.stats(tenant_id)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        total = xero.stats(tenant_id)
        for client in clients:
            client.close()

    def ok(stats: dict[str, Any]) -> int:
        return int(stats["by_status"].get("200", 0))

    allowed = MINUTE_LIMIT * time_scale / 60
    window = window_end - window_start
    achieved = (ok(at_end) - ok(at_start)) / window
    requests = int(total["total"])
    throttled = int(total["by_status"].get("429", 0))
    share_429 = throttled / requests if requests else 0.0
    failed = sum(t.failed for t in threads)
    ratio = achieved / allowed
    return {
        "vendor": "xero",
        "limit_per_minute": MINUTE_LIMIT,
        "time_scale": time_scale,
        "workers": workers,
        "seconds": round(elapsed, 1),
        "measured_window_seconds": round(window, 1),
        "customers": customers,
        "page_size": PAGE_SIZE,
        "client_bucket_capacity": bucket.capacity,
        "client_bucket_rate_per_s": round(bucket.rate, 3),
        "allowed_rate_per_s": round(allowed, 3),
        "achieved_rate_per_s": round(achieved, 3),
        "achieved_per_xero_minute": round(achieved * 60 / time_scale, 1),
        "achieved_over_allowed": round(ratio, 3),
        "rate_target": RATE_TARGET,
        "requests": requests,
        "responses_429": throttled,
        "throttled_by_limit": total.get("throttled", {}),
        "share_429": round(share_429, 4),
        "share_429_target": SHARE_429_TARGET,
        "other_statuses": {k: v for k, v in total["by_status"].items() if k not in ("200", "429")},
        "runs": sum(t.runs for t in threads),
        "failed_runs": failed,
        "token_refreshes": len(refreshes),
        "targets_met": ratio >= RATE_TARGET and share_429 <= SHARE_429_TARGET and failed == 0,
    }
