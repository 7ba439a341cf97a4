"""Dagster side of Slack notification delivery (pipelines/slack_delivery.py): the `slack_notify` job
(op `slack_deliver`), partitioned by Slack connection, and the `slack_notifications` sensor that launches it.

Runs of one partition never overlap (the run queue's `dagster/partition` limit, dagster.yaml), so one
connection's messages are posted by one run at a time, in order. A failed delivery run is not reported
to Slack (that would be the channel that just refused): its outcome is on the connection and in
`app.dead_letters`.
"""

import uuid

import dagster as dg

from pipelines.factory import SYNC_RETRY, VENDOR_TAG
from pipelines.partitions import BY_PROVIDER
from pipelines.resources import FirmsyncDatabase
from pipelines.sensors import partition_changes
from pipelines.slack_delivery import (
    PROVIDER,
    DeliveryFailed,
    deliver_notifications,
    system_pending_notifications,
)

TRIGGER_TAG = "firmsync/trigger"


@dg.op(
    name="slack_deliver",
    required_resource_keys={"db", "slack"},
    pool=PROVIDER,
    retry_policy=SYNC_RETRY,
    description="Post this Slack connection's queued notifications (outbox) to its channel, in order.",
)
def _notify(context: dg.OpExecutionContext) -> dg.Output:
    db: FirmsyncDatabase = context.resources.db
    try:
        result = deliver_notifications(db, context.resources.slack, uuid.UUID(context.partition_key))
    except DeliveryFailed as exc:
        raise dg.Failure(description=str(exc), allow_retries=not exc.permanent) from exc
    return dg.Output(result.metadata(), metadata=result.metadata())


@dg.job(
    name="slack_notify",
    partitions_def=BY_PROVIDER[PROVIDER],
    tags={VENDOR_TAG: PROVIDER},
    description="Deliver the firm's notifications to one Slack connection (partition).",
)
def slack_notify_job():
    _notify()


@dg.sensor(
    name="slack_notifications",
    minimum_interval_seconds=10,
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=[slack_notify_job],
    description="Launches a delivery run per active Slack connection with notifications past its cursor.",
)
def slack_notifications(context: dg.SensorEvaluationContext, db: FirmsyncDatabase):
    with db.system() as session:
        pending = system_pending_notifications(session)
    if not pending:
        return dg.SkipReason("no Slack connection has notifications past its cursor")
    runs = [
        dg.RunRequest(
            # One run per connection per newest notification: re-evaluations while it runs ask nothing new.
            run_key=f"notify:{connection_id}:{max_seq}",
            job_name=slack_notify_job.name,
            partition_key=str(connection_id),
            tags={TRIGGER_TAG: "outbox"},
        )
        for connection_id, max_seq in pending
    ]
    wanted = {PROVIDER: {str(connection_id) for connection_id, _ in pending}}
    return dg.SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=partition_changes(context.instance, wanted, remove=False),
    )
