"""Unattended freshness: a sweep every 10 minutes syncs the connections whose own cadence says they are
due (`connections.sync_interval_minutes`, default 60), many connections per run (bounded concurrency)."""

import dagster as dg

from pipelines.factory import due_connections
from pipelines.jobs import SWEEP_JOBS
from pipelines.resources import FirmsyncDatabase

SWEEP_CONCURRENCY = 4
SWEEP_BATCH = 250  # connections per run: bounded runs, still ~1 run per tick at 1,000 tenants / hour


def _sweep_schedule(provider: str, job: dg.JobDefinition) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"{provider}_sweep",
        cron_schedule="*/10 * * * *",
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Sync every {provider} connection that is due by its own cadence.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext, db: FirmsyncDatabase):
        due = due_connections(db, provider)
        if not due:
            return dg.SkipReason(f"no {provider} connection is due")
        stamp = context.scheduled_execution_time.isoformat()
        op_name = f"{provider}_sweep"
        return [
            dg.RunRequest(
                run_key=f"{provider}-sweep@{stamp}#{i}",
                run_config={
                    "ops": {
                        op_name: {"config": {"connection_ids": batch, "max_concurrency": SWEEP_CONCURRENCY}}
                    }
                },
                tags={"firmsync/trigger": "schedule", "firmsync/connections": str(len(batch))},
            )
            for i, batch in enumerate(due[j : j + SWEEP_BATCH] for j in range(0, len(due), SWEEP_BATCH))
        ]

    return _schedule


SCHEDULES = [_sweep_schedule(provider, job) for provider, job in SWEEP_JOBS.items()]
