"""The code location: `dagster api grpc -m pipelines.definitions` (see workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from pipelines.jobs import SWEEP_JOBS, SYNC_JOBS, VENDORS
from pipelines.maintenance import reprocess_dead_letters_job
from pipelines.resources import FirmsyncDatabase, QuickBooksApi, XeroApi
from pipelines.schedules import SCHEDULES
from pipelines.sensors import connection_partitions, sync_failures, sync_requests, webhook_inbox

defs = dg.Definitions(
    assets=[asset for vendor in VENDORS for asset in vendor.assets],
    asset_checks=[check for vendor in VENDORS for check in vendor.checks],
    jobs=[*SYNC_JOBS.values(), *SWEEP_JOBS.values(), reprocess_dead_letters_job],
    sensors=[connection_partitions, sync_requests, webhook_inbox, sync_failures],
    schedules=SCHEDULES,
    resources={"db": FirmsyncDatabase(), "quickbooks": QuickBooksApi(), "xero": XeroApi()},
)
