"""Operator jobs: re-process dead letters (after a mapping fix, or on request from the API)."""

import uuid

import dagster as dg
from sqlalchemy import select

from core_api.models import DeadLetter
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
