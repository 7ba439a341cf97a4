"""The code location: `dagster api grpc -m pipelines.definitions` (see workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from pipelines.calendar_push_jobs import CALENDAR_PUSH_JOBS, calendar_push
from pipelines.jobs import SWEEP_JOBS, SYNC_JOBS, VENDORS, WEBHOOK_JOBS
from pipelines.maintenance import prune_sync_runs_job, prune_sync_runs_schedule, reprocess_dead_letters_job
from pipelines.observability import setup_process
from pipelines.push_crm import crm_outbox_push, salesforce_push_job
from pipelines.push_jobs import PUSH_JOBS, outbox_push, push_failures
from pipelines.resources import (
    ActiveDirectoryApi,
    FirmsyncDatabase,
    GoogleCalendarApi,
    MicrosoftCalendarApi,
    QuickBooksApi,
    SalesforceApi,
    SlackApi,
    StripeApi,
    XeroApi,
)
from pipelines.schedules import SCHEDULES
from pipelines.sensors import connection_partitions, sync_failures, sync_requests, webhook_inbox
from pipelines.slack_jobs import slack_notifications, slack_notify_job

setup_process()  # logs (text/JSON, run ids), traces and error reports of this code location's processes

defs = dg.Definitions(
    assets=[asset for vendor in VENDORS for asset in vendor.assets],
    asset_checks=[check for vendor in VENDORS for check in vendor.checks],
    jobs=[
        *SYNC_JOBS.values(),
        *SWEEP_JOBS.values(),
        reprocess_dead_letters_job,
        prune_sync_runs_job,
        *PUSH_JOBS.values(),
        *CALENDAR_PUSH_JOBS.values(),
        salesforce_push_job,
        slack_notify_job,
        *WEBHOOK_JOBS.values(),
    ],
    sensors=[
        connection_partitions,
        sync_requests,
        webhook_inbox,
        sync_failures,
        outbox_push,
        calendar_push,
        push_failures,
        crm_outbox_push,
        slack_notifications,
    ],
    schedules=[*SCHEDULES, prune_sync_runs_schedule],
    resources={
        "db": FirmsyncDatabase(),
        "quickbooks": QuickBooksApi(),
        "xero": XeroApi(),
        "google_calendar": GoogleCalendarApi(),
        "active_directory": ActiveDirectoryApi(),
        "microsoft_calendar": MicrosoftCalendarApi(),
        "salesforce": SalesforceApi(),
        "slack": SlackApi(),
        "stripe": StripeApi(),
    },
    # One process per run, not per step: a connection's steps run one after another anyway (sync, then
    # checks, then merges), and a process per step costs seconds of start-up and ~150 MB each (ADR 0010).
    # Runs stay isolated from each other; step retries (RetryPolicy) work the same in-process.
    executor=dg.in_process_executor,
)
