"""Dagster side of the push (pipelines/push.py): one `<vendor>_push_outbox` job per accounting vendor,
partitioned by that vendor's connections, the `outbox_push` sensor that launches them, and the
`push_failures` sensor that records a push that failed for good on its connection and tells the firm."""

import uuid

import dagster as dg

from pipelines.calendar_push_jobs import CALENDAR_PUSH_JOBS
from pipelines.factory import SYNC_RETRY, VENDOR_TAG
from pipelines.notifications import notify_failure
from pipelines.partitions import BY_PROVIDER
from pipelines.push import PushFailed, push_connection, system_pending_pushes
from pipelines.push_vendors import PUSH_VENDORS, PushVendor
from pipelines.resources import FirmsyncDatabase
from pipelines.sensors import partition_changes

TRIGGER_TAG = "firmsync/trigger"


def _push_job(vendor: PushVendor) -> dg.JobDefinition:
    @dg.op(
        name=f"{vendor.provider}_push",
        required_resource_keys={"db", vendor.client_resource},
        pool=vendor.provider,  # shares the vendor's concurrency budget with its syncs
        retry_policy=SYNC_RETRY,
        description=f"Push the firm's outbox (clients, invoices) past this connection's cursor to "
        f"{vendor.provider}.",
    )
    def _push(context: dg.OpExecutionContext) -> dg.Output:
        db: FirmsyncDatabase = context.resources.db
        try:
            result = push_connection(
                db,
                getattr(context.resources, vendor.client_resource),
                uuid.UUID(context.partition_key),
                vendor=vendor,
            )
        except PushFailed as exc:
            raise dg.Failure(description=str(exc), allow_retries=not exc.permanent) from exc
        return dg.Output(result.metadata(), metadata=result.metadata())

    @dg.job(
        name=f"{vendor.provider}_push_outbox",
        partitions_def=BY_PROVIDER[vendor.provider],
        tags={VENDOR_TAG: vendor.provider},
        description=f"Push local changes to one {vendor.provider} connection (partition).",
    )
    def _job():
        _push()

    return _job


PUSH_JOBS: dict[str, dg.JobDefinition] = {p: _push_job(v) for p, v in PUSH_VENDORS.items()}


@dg.sensor(
    name="outbox_push",
    minimum_interval_seconds=10,
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=list(PUSH_JOBS.values()),
    description="Launches a push run per accounting connection with outbox rows past its push cursor.",
)
def outbox_push(context: dg.SensorEvaluationContext, db: FirmsyncDatabase):
    with db.system() as session:
        pending = system_pending_pushes(session)
    if not pending:
        return dg.SkipReason("no connection has outbox rows past its push cursor")
    runs, wanted = [], {}
    for connection_id, provider, max_seq in pending:
        wanted.setdefault(provider, set()).add(str(connection_id))
        runs.append(
            dg.RunRequest(
                # One run per connection per newest change: re-evaluations while it runs ask nothing new.
                run_key=f"push:{connection_id}:{max_seq}",
                job_name=PUSH_JOBS[provider].name,
                partition_key=str(connection_id),
                tags={TRIGGER_TAG: "outbox"},
            )
        )
    return dg.SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=partition_changes(context.instance, wanted, remove=False),
    )


@dg.run_failure_sensor(
    name="push_failures",
    default_status=dg.DefaultSensorStatus.RUNNING,
    monitored_jobs=[*PUSH_JOBS.values(), *CALENDAR_PUSH_JOBS.values()],
    description="Records a push that failed after its retries on its connection; alerts the firm's Slack.",
)
def push_failures(context: dg.RunFailureSensorContext, db: FirmsyncDatabase):
    run = context.dagster_run
    notify_failure(
        db,
        partition_key=run.tags.get("dagster/partition"),
        request_id=None,
        job_name=run.job_name,
        run_id=run.run_id,
        message=_reason(context),
        what="Push",
    )


def _reason(context: dg.RunFailureSensorContext) -> str:
    """The failed step's own reason (a `Failure`'s description, else its error), not the run's summary."""
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            return data.user_failure_data.description
        if data.error is not None:
            return data.error.message.strip()
    return context.failure_event.message or "run failed"
