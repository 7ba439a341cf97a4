"""Prometheus metrics of the API (ADR 0019): requests, latency and in-flight requests per route template
(never the raw path: bounded labels), the database pools, and the syncs' figures read from the database.

The sync figures come from `app.sync_runs`, written by the Dagster runs (other processes), so they are
read at scrape time by a collector (core_api/sync_metrics.py) instead of being counted in this process.
"""

from __future__ import annotations

import time

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

from core_api import db_pool_metrics, sync_metrics

REQUESTS = Counter("firmsync_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "firmsync_http_request_duration_seconds",
    "HTTP request latency, by route template and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
IN_FLIGHT = Gauge("firmsync_http_requests_in_flight", "HTTP requests being served now")

_collectors_registered = False


def register_collectors() -> None:
    """The scrape-time collectors, once per process (several apps may be built in one, e.g. tests)."""
    global _collectors_registered
    if not _collectors_registered:
        REGISTRY.register(db_pool_metrics.PoolCollector())
        REGISTRY.register(sync_metrics.SyncCollector())
        _collectors_registered = True


def _route_template(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", None) or "unmatched"


def install(app: FastAPI) -> None:
    register_collectors()

    @app.middleware("http")
    async def _measure(request: Request, call_next):
        started = time.perf_counter()
        status = "500"  # an exception escaping the app is answered 500 by Starlette's outermost handler
        IN_FLIGHT.inc()
        try:
            response = await call_next(request)
            status = str(response.status_code)
            return response
        finally:
            IN_FLIGHT.dec()
            template = _route_template(request)
            REQUESTS.labels(request.method, template, status).inc()
            LATENCY.labels(request.method, template, status).observe(time.perf_counter() - started)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
