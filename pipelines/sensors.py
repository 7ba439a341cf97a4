"""Sensors: partitions follow connections; requests and webhooks become runs; failures are recorded.

The API only writes rows; these sensors read them. Run keys make every trigger idempotent and the
cursors (`seq` columns) make sure none is skipped.
"""

import uuid

import dagster as dg

from core_api.connections.repository import (
    system_fail_sync_requests,
    system_live_connections,
    system_pending_sync_requests,
    system_pending_webhooks,
)
from pipelines.factory import FULL_REFRESH_TAG, REQUEST_TAG
from pipelines.jobs import SWEEP_JOBS, SYNC_JOBS, WEBHOOK_JOBS
from pipelines.notifications import notify_failure
from pipelines.partitions import BY_PROVIDER
from pipelines.resources import FirmsyncDatabase

TRIGGER_TAG = "firmsync/trigger"


def partition_changes(instance: dg.DagsterInstance, wanted_by_provider: dict[str, set[str]], *, remove: bool):
    """Add/delete requests that make each provider's partitions match `wanted_by_provider`."""
    requests: list = []
    for provider, partitions in BY_PROVIDER.items():
        known = set(instance.get_dynamic_partitions(partitions.name))
        wanted = wanted_by_provider.get(provider, set())
        if added := sorted(wanted - known):
            requests.append(partitions.build_add_request(added))
        if remove and (removed := sorted(known - wanted)):
            requests.append(partitions.build_delete_request(removed))
    return requests


@dg.sensor(
    name="connection_partitions",
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition for each new connection and removes those of deleted connections.",
)
def connection_partitions(context: dg.SensorEvaluationContext, db: FirmsyncDatabase):
    live: dict[str, set[str]] = {}
    with db.system() as session:
        for connection in system_live_connections(session):
            live.setdefault(connection.provider, set()).add(str(connection.id))
    changes = partition_changes(context.instance, live, remove=True)
    if not changes:
        return dg.SkipReason("partitions match the live connections")
    return dg.SensorResult(dynamic_partitions_requests=changes)


@dg.sensor(
    name="sync_requests",
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=list(SYNC_JOBS.values()),
    description="Turns pending rows of app.sync_requests (POST /connections/{id}/sync) into runs.",
)
def sync_requests(context: dg.SensorEvaluationContext, db: FirmsyncDatabase):
    with db.system() as session:
        pending = system_pending_sync_requests(session, int(context.cursor or 0))
        unrunnable = [r.id for r, c in pending if c.deleted_at is not None or c.provider not in SYNC_JOBS]
        if unrunnable:
            system_fail_sync_requests(session, unrunnable, "connection deleted or provider has no sync job")
    if not pending:
        return dg.SkipReason("no pending sync requests")

    runs, wanted = [], {}
    for request, connection in pending:
        if request.id in unrunnable:
            continue
        key = str(connection.id)
        wanted.setdefault(connection.provider, set()).add(key)
        runs.append(
            dg.RunRequest(
                run_key=str(request.id),
                job_name=SYNC_JOBS[connection.provider].name,
                partition_key=key,
                tags={
                    REQUEST_TAG: str(request.id),
                    FULL_REFRESH_TAG: str(request.full_refresh).lower(),
                    TRIGGER_TAG: "request",
                },
            )
        )
    return dg.SensorResult(
        run_requests=runs,
        # A connection created seconds ago may not have its partition yet: add it in the same result.
        dynamic_partitions_requests=partition_changes(context.instance, wanted, remove=False),
        cursor=str(max(request.seq for request, _ in pending)),
    )


@dg.sensor(
    name="webhook_inbox",
    minimum_interval_seconds=10,
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=[*SYNC_JOBS.values(), *WEBHOOK_JOBS.values()],
    description="A vendor event in app.webhook_inbox launches an incremental sync of its connection (or, for "
    "vendors in WEBHOOK_JOBS, a run that applies its events).",
)
def webhook_inbox(context: dg.SensorEvaluationContext, db: FirmsyncDatabase):
    with db.system() as session:
        pending = system_pending_webhooks(session, int(context.cursor or 0))
    if not pending:
        return dg.SkipReason("no new webhook events")
    latest: dict[uuid.UUID, tuple[int, str]] = {}
    for seq, connection in pending:
        if connection.deleted_at is None and connection.provider in SYNC_JOBS:
            latest[connection.id] = (seq, connection.provider)
    runs, wanted = [], {}
    for connection_id, (seq, provider) in latest.items():
        wanted.setdefault(provider, set()).add(str(connection_id))
        runs.append(
            dg.RunRequest(
                # One run per connection per burst of events: the key names the newest event it covers.
                run_key=f"webhook:{connection_id}:{seq}",
                job_name=(WEBHOOK_JOBS.get(provider) or SYNC_JOBS[provider]).name,
                partition_key=str(connection_id),
                tags={TRIGGER_TAG: "webhook"},
            )
        )
    return dg.SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=partition_changes(context.instance, wanted, remove=False),
        cursor=str(max(seq for seq, _ in pending)),
    )


@dg.run_failure_sensor(
    name="sync_failures",
    default_status=dg.DefaultSensorStatus.RUNNING,
    monitored_jobs=[*SYNC_JOBS.values(), *SWEEP_JOBS.values()],
    description="Records a failed sync on its connection and request, and alerts the firm's Slack.",
)
def sync_failures(context: dg.RunFailureSensorContext, db: FirmsyncDatabase):
    run = context.dagster_run
    message = context.failure_event.message or "run failed"
    notify_failure(
        db,
        partition_key=run.tags.get("dagster/partition"),
        request_id=run.tags.get(REQUEST_TAG),
        job_name=run.job_name,
        run_id=run.run_id,
        message=message,
    )
