"""Jobs by provider, for the sensors and schedules."""

from __future__ import annotations

from typing import Any

import dagster as dg

from pipelines.assets.active_directory import active_directory
from pipelines.assets.google_calendar import google_calendar
from pipelines.assets.microsoft_calendar import microsoft_calendar
from pipelines.assets.quickbooks import quickbooks
from pipelines.assets.salesforce import salesforce
from pipelines.assets.stripe import stripe
from pipelines.assets.xero import xero
from pipelines.stripe_webhooks import stripe_webhooks_job

VENDORS = [quickbooks, xero, google_calendar, active_directory, salesforce, microsoft_calendar, stripe]
SYNC_JOBS: dict[str, Any] = {v.vendor.provider: v.sync_job for v in VENDORS}
SWEEP_JOBS: dict[str, dg.JobDefinition] = {v.vendor.provider: v.sweep_job for v in VENDORS}
quickbooks_sync_job = quickbooks.sync_job
xero_sync_job = xero.sync_job
google_calendar_sync_job = google_calendar.sync_job
active_directory_sync_job = active_directory.sync_job
salesforce_sync_job = salesforce.sync_job
microsoft_calendar_sync_job = microsoft_calendar.sync_job
stripe_sync_job = stripe.sync_job
# Providers whose webhook events are applied by a job of their own rather than a targeted sync.
WEBHOOK_JOBS: dict[str, dg.JobDefinition] = {"stripe": stripe_webhooks_job}
