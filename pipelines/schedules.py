"""Unattended freshness: every live connection is synced on a cadence, without anyone asking."""

from __future__ import annotations

import dagster as dg

from pipelines.jobs import quickbooks_sync_job
from pipelines.partitions import quickbooks_connections


@dg.schedule(
    name="quickbooks_hourly",
    cron_schedule="0 * * * *",
    job=quickbooks_sync_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Incremental sync of every QuickBooks connection, hourly.",
)
def quickbooks_hourly(context: dg.ScheduleEvaluationContext):
    keys = context.instance.get_dynamic_partitions(quickbooks_connections.name)
    if not keys:
        return dg.SkipReason("no QuickBooks connections")
    stamp = context.scheduled_execution_time.isoformat()
    return [dg.RunRequest(run_key=f"{key}@{stamp}", partition_key=key) for key in keys]
