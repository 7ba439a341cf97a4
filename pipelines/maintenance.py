"""Operator jobs: re-process dead letters (after a mapping fix, or on request from the API); prune the sync
history past its retention window (daily)."""

import uuid

import dagster as dg
from sqlalchemy import select, text

from core_api.models import DeadLetter
from core_api.settings import get_settings
from pipelines.jobs import VENDORS
from pipelines.resources import FirmsyncDatabase
from pipelines.sync_engine import reprocess_dead_letters


class ReprocessConfig(dg.Config):
    connection_ids: list[str] | None = None  # None: every connection with open or retry-marked letters


@dg.op(description="Re-map and load dead-lettered records; those that still fail stay open.")
def reprocess_dead_letters_op(context: dg.OpExecutionContext, config: ReprocessConfig, db: FirmsyncDatabase):
    vendors = {v.vendor.provider: v.vendor for v in VENDORS}
    with db.system() as session:
        rows = session.execute(
            select(DeadLetter.connection_id, DeadLetter.provider)
            .where(DeadLetter.status.in_(("open", "retry")))
            .distinct()
        ).all()
    wanted = {uuid.UUID(c) for c in config.connection_ids} if config.connection_ids else None
    totals = {"resolved": 0, "still_failing": 0}
    for connection_id, provider in rows:
        if (wanted is not None and connection_id not in wanted) or provider not in vendors:
            continue
        counts = reprocess_dead_letters(db, vendors[provider], connection_id)
        context.log.info("connection %s: %s", connection_id, counts)
        for key in totals:
            totals[key] += counts[key]
    return dg.Output(totals, metadata=totals)


@dg.job(name="reprocess_dead_letters", description="Re-process dead-lettered records.")
def reprocess_dead_letters_job():
    reprocess_dead_letters_op()


# --- sync history retention -------------------------------------------------------------------------------
PRUNE_BATCH = 10_000
_PRUNE = text(
    "delete from app.sync_runs where id in "
    "(select id from app.sync_runs where finished_at < now() - make_interval(days => :days) limit :batch)"
)


def prune_sync_runs(db: FirmsyncDatabase, days: int, batch: int = PRUNE_BATCH) -> int:
    """Delete recorded syncs older than `days`, a batch per transaction (no long lock, no long transaction
    holding back pushes). /metrics' counters live in totals the runs were added to (migration 0020), so they
    do not go backwards."""
    deleted = 0
    while True:
        with db.system() as session:
            count = session.execute(_PRUNE, {"days": days, "batch": batch}).rowcount
            session.commit()
        deleted += count
        if count < batch:
            return deleted


@dg.op(description="Delete app.sync_runs rows older than FIRMSYNC_SYNC_RUN_RETENTION_DAYS.")
def prune_sync_runs_op(context: dg.OpExecutionContext, db: FirmsyncDatabase):
    days = get_settings().sync_run_retention_days
    deleted = prune_sync_runs(db, days)
    context.log.info("pruned %s sync runs older than %s days", deleted, days)
    return dg.Output(deleted, metadata={"deleted": deleted, "retention_days": days})


@dg.job(name="prune_sync_runs", description="Keep app.sync_runs to its retention window.")
def prune_sync_runs_job():
    prune_sync_runs_op()


prune_sync_runs_schedule = dg.ScheduleDefinition(
    name="prune_sync_runs_daily",
    job=prune_sync_runs_job,
    cron_schedule="17 3 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
