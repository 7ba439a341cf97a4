"""The code location: `dagster api grpc -m pipelines.definitions` (see workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from pipelines.assets.quickbooks import clients_from_quickbooks, quickbooks_sync
from pipelines.jobs import quickbooks_sync_job
from pipelines.resources import FirmsyncDatabase, QuickBooksApi
from pipelines.schedules import quickbooks_hourly
from pipelines.sensors import connection_partitions, sync_requests

defs = dg.Definitions(
    assets=[quickbooks_sync, clients_from_quickbooks],
    jobs=[quickbooks_sync_job],
    sensors=[connection_partitions, sync_requests],
    schedules=[quickbooks_hourly],
    resources={"db": FirmsyncDatabase(), "quickbooks": QuickBooksApi()},
)
