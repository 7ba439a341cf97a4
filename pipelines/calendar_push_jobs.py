"""Dagster side of the calendar push (pipelines/calendar_push.py): one `<vendor>_push_calendar` job per
calendar vendor, partitioned by its connections, and the `calendar_push` sensor that launches them.
Failures are recorded and alerted by `push_failures` (pipelines/push_jobs.py), like the accounting push's."""

import uuid

import dagster as dg

from pipelines.calendar_push import (
    CALENDAR_PUSH_VENDORS,
    CalendarPushVendor,
    push_calendar,
    system_pending_calendar_pushes,
)
from pipelines.factory import SYNC_RETRY, VENDOR_TAG
from pipelines.partitions import BY_PROVIDER
from pipelines.push import PushFailed
from pipelines.resources import FirmsyncDatabase
from pipelines.sensors import partition_changes


def _job(vendor: CalendarPushVendor) -> dg.JobDefinition:
    @dg.op(
        name=f"{vendor.provider}_push_calendar_op",
        required_resource_keys={"db", vendor.client_resource},
        pool=vendor.provider,  # shares the vendor's concurrency budget with its syncs
        retry_policy=SYNC_RETRY,
        description=f"Push a staff member's event edits past the connection's cursor to {vendor.provider}.",
    )
    def _push(context: dg.OpExecutionContext) -> dg.Output:
        try:
            result = push_calendar(
                context.resources.db,
                getattr(context.resources, vendor.client_resource),
                uuid.UUID(context.partition_key),
                vendor=vendor,
            )
        except PushFailed as exc:
            raise dg.Failure(description=str(exc), allow_retries=not exc.permanent) from exc
        return dg.Output(result.metadata(), metadata=result.metadata())

    @dg.job(
        name=f"{vendor.provider}_push_calendar",
        partitions_def=BY_PROVIDER[vendor.provider],
        tags={VENDOR_TAG: vendor.provider},
        description=f"Push local calendar edits to one {vendor.provider} connection (partition).",
    )
    def _calendar_job():
        _push()

    return _calendar_job


CALENDAR_PUSH_JOBS: dict[str, dg.JobDefinition] = {p: _job(v) for p, v in CALENDAR_PUSH_VENDORS.items()}


@dg.sensor(
    name="calendar_push",
    minimum_interval_seconds=10,
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=list(CALENDAR_PUSH_JOBS.values()),
    description="Launches a calendar push run per calendar connection with event changes past its cursor.",
)
def calendar_push(context: dg.SensorEvaluationContext, db: FirmsyncDatabase):
    with db.system() as session:
        pending = system_pending_calendar_pushes(session)
    if not pending:
        return dg.SkipReason("no calendar connection has event changes past its push cursor")
    runs, wanted = [], {}
    for connection_id, provider, max_seq in pending:
        wanted.setdefault(provider, set()).add(str(connection_id))
        runs.append(
            dg.RunRequest(
                run_key=f"push-calendar:{connection_id}:{max_seq}",
                job_name=CALENDAR_PUSH_JOBS[provider].name,
                partition_key=str(connection_id),
                tags={"firmsync/trigger": "outbox"},
            )
        )
    return dg.SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=partition_changes(context.instance, wanted, remove=False),
    )
