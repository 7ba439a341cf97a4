"""Unattended freshness: a sweep every 10 minutes syncs the connections whose own cadence says they are
due (`connections.sync_interval_minutes`, default 60), many connections per run (bounded concurrency)."""

import dagster as dg

from core_api.connections.repository import system_live_connections
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


def _full_refresh_schedule(provider: str, job: dg.JobDefinition, cron: str) -> dg.ScheduleDefinition:
    """A full pass of every live connection, for vendors whose change feed cannot report deletions (an AD
    delta by uSNChanged does not return deleted objects): the full refresh soft-deletes what is gone."""

    @dg.schedule(
        name=f"{provider}_full_refresh",
        cron_schedule=cron,
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Re-read every {provider} connection in full, so deletions are seen.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext, db: FirmsyncDatabase):
        with db.system() as session:
            keys = [
                str(c.id)
                for c in system_live_connections(session, provider)
                if c.status not in ("disabled", "needs_reauth")
            ]
        if not keys:
            return dg.SkipReason(f"no live {provider} connection")
        stamp = context.scheduled_execution_time.isoformat()
        config = {"max_concurrency": SWEEP_CONCURRENCY, "full_refresh": True}
        return [
            dg.RunRequest(
                run_key=f"{provider}-full@{stamp}#{i}",
                run_config={"ops": {f"{provider}_sweep": {"config": {"connection_ids": batch, **config}}}},
                tags={"firmsync/trigger": "schedule", "firmsync/full_refresh": "true"},
            )
            for i, batch in enumerate(keys[j : j + SWEEP_BATCH] for j in range(0, len(keys), SWEEP_BATCH))
        ]

    return _schedule


SCHEDULES = [_sweep_schedule(provider, job) for provider, job in SWEEP_JOBS.items()]
# Active Directory deletions are only seen by a full pass: nightly (directory reads are cheap).
SCHEDULES.append(_full_refresh_schedule("active_directory", SWEEP_JOBS["active_directory"], "30 2 * * *"))
