"""Rate limiting: concurrent workers syncing one QuickBooks realm while the sandbox enforces its limit.

Each worker is its own QuickBooksClient (as concurrent runs in one process are) and repeatedly pages
through a small realm's customers (`customer_pages`); every client of the realm shares the process's
token bucket, sized by `QuickBooksConfig.requests_per_minute` = the sandbox's limit. The sandbox counts
what it answered (200 or 429) per realm.

Figures: `achieved_rate_per_s` is what the sandbox answered 200 per second over the measurement window
(the run after `--warmup-seconds`, so the bucket's initial burst is left out), against
`allowed_rate_per_s` = limit / 60 (target ≥ 0.9); `share_429` is 429 answers over all requests of the
whole run (target ≤ 1%); `failed_runs` counts worker runs that raised after the client's retries
(target 0). The sandbox's window is a sliding 60 s, so a run must last well over a minute before the
limit can bind at all: the default is 90 s.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.servers import Sandbox

log = logging.getLogger("bench.ratelimit")

RATE_TARGET = 0.9
SHARE_429_TARGET = 0.01


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--vendor",
        choices=("quickbooks", "xero"),
        default="quickbooks",
        help="whose limits (default quickbooks)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=30.0,
        help="xero only: Xero's 60/minute runs this many times faster in the sandbox and the client "
        "(default 30: a minute lasts 2 s)",
    )
    parser.add_argument(
        "--limit-per-minute",
        type=int,
        default=500,
        help="the realm's limit and the client's requests_per_minute (Intuit publishes 500; max 500)",
    )
    parser.add_argument("--seconds", type=float, default=90.0, help="how long the workers run (default 90)")
    parser.add_argument("--workers", type=int, default=4, help="concurrent workers (default 4)")
    parser.add_argument("--customers", type=int, default=50, help="customers in the small realm (default 50)")
    parser.add_argument("--page-size", type=int, default=20, help="MAXRESULTS per query (default 20)")
    parser.add_argument(
        "--warmup-seconds", type=float, default=5.0, help="left out of the achieved rate (default 5)"
    )


def _status(stats: dict[str, Any], status: str) -> int:
    return int(stats["by_status"].get(status, 0))


class _Worker(threading.Thread):
    def __init__(self, client, page_size: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.page_size = page_size
        self.stop_event = stop
        self.runs = self.failed = self.records = 0

    def run(self) -> None:
        from connectors.base import ConnectorError

        while not self.stop_event.is_set():
            try:
                for page in self.client.customer_pages(since=None, page_size=self.page_size):
                    self.records += len(page.records)
                self.runs += 1
            except ConnectorError as error:
                self.failed += 1
                log.warning("run failed: %s", error)


def run(
    limit_per_minute: int = 500,
    seconds: float = 90.0,
    workers: int = 4,
    customers: int = 50,
    page_size: int = 20,
    warmup_seconds: float = 5.0,
    vendor: str = "quickbooks",
    time_scale: float = 30.0,
) -> dict[str, Any]:
    if vendor == "xero":  # Xero's limit is fixed (60/minute) and time-scaled; its page size is 100
        from bench import xero

        return xero.ratelimit(seconds, workers, customers, warmup_seconds, time_scale)
    if not 1 <= limit_per_minute <= 500:
        raise SystemExit("--limit-per-minute must be 1..500 (QuickBooksConfig.requests_per_minute's range)")
    if seconds <= warmup_seconds or workers < 1 or customers < 1 or not 1 <= page_size <= 1000:
        raise SystemExit("need --seconds > --warmup-seconds, ≥ 1 worker and customer, 1 ≤ --page-size ≤ 1000")
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the sandbox serves plain http
    from connectors.base import TokenBucket
    from connectors.quickbooks.client import QuickBooksClient
    from connectors.quickbooks.config import QuickBooksConfig, QuickBooksCredentials

    with Sandbox() as sandbox:
        realm = sandbox.new_realm(customers=customers, seed=7)
        realm_id = realm["realm_id"]
        sandbox.set_limits(realm_id, requests_per_minute=limit_per_minute)
        config = QuickBooksConfig.model_validate(
            sandbox.quickbooks_config(realm, requests_per_minute=limit_per_minute)
        )
        credentials = QuickBooksCredentials(
            client_secret=realm["client_secret"],
            refresh_token=realm["refresh_token"],
            access_token=realm["access_token"],
            access_token_expires_at=datetime.now(UTC) + timedelta(seconds=int(realm["expires_in"])),
        )
        refreshes: list[object] = []
        # No `bucket=`: each client takes the process-wide bucket of its realm, as the sync does.
        clients = [QuickBooksClient(config, credentials, on_tokens=refreshes.append) for _ in range(workers)]
        stop = threading.Event()
        threads = [_Worker(client, page_size, stop) for client in clients]
        sandbox.reset_stats(realm_id)

        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(warmup_seconds)
        window_start, at_start = time.monotonic(), sandbox.stats(realm_id)
        time.sleep(max(0.0, started + seconds - time.monotonic()))
        window_end, at_end = time.monotonic(), sandbox.stats(realm_id)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        total = sandbox.stats(realm_id)
        for client in clients:
            client.close()

    allowed = limit_per_minute / 60
    window = window_end - window_start
    achieved = (_status(at_end, "200") - _status(at_start, "200")) / window
    requests = int(total["total"])
    throttled = _status(total, "429")
    share_429 = throttled / requests if requests else 0.0
    failed = sum(t.failed for t in threads)
    bucket = TokenBucket.per_minute(limit_per_minute)  # what the client built: same arguments
    ratio = achieved / allowed
    return {
        "limit_per_minute": limit_per_minute,
        "workers": workers,
        "seconds": round(elapsed, 1),
        "measured_window_seconds": round(window, 1),
        "customers": customers,
        "page_size": page_size,
        "client_bucket_capacity": bucket.capacity,
        "client_bucket_rate_per_s": round(bucket.rate, 3),
        "client_bucket_ceiling_over_allowed": round(bucket.rate / allowed, 3),
        "allowed_rate_per_s": round(allowed, 3),
        "achieved_rate_per_s": round(achieved, 3),
        "achieved_over_allowed": round(ratio, 3),
        "achieved_rate_whole_run_per_s": round(_status(total, "200") / elapsed, 3),
        "rate_target": RATE_TARGET,
        "requests": requests,
        "responses_429": throttled,
        "share_429": round(share_429, 4),
        "share_429_target": SHARE_429_TARGET,
        "other_statuses": {k: v for k, v in total["by_status"].items() if k not in ("200", "429")},
        "runs": sum(t.runs for t in threads),
        "failed_runs": failed,
        "token_refreshes": len(refreshes),
        "targets_met": ratio >= RATE_TARGET and share_429 <= SHARE_429_TARGET and failed == 0,
    }
