"""Sandbox settings, read from the environment with the ``SANDBOX_`` prefix."""

from datetime import datetime
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DAY = 86_400


class SandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SANDBOX_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8900, ge=0, le=65535)
    # The same app over https (vendors whose SDKs insist on TLS: Microsoft Graph's msal, Salesforce), with a
    # CA and certificate generated into tls_dir (ca.pem is what clients trust). None: http only.
    tls_port: int | None = Field(None, ge=0, le=65535)
    tls_dir: Path = Path(".data/sandbox-tls")
    # Signs every token the emulators hand out, so tokens survive a restart. Dev default on purpose:
    # the sandbox guards nothing real.
    secret: SecretStr = SecretStr("firmsync-sandbox-dev-secret")
    # An injected "timeout" fault never holds a request longer than this.
    fault_max_delay_seconds: float = Field(120.0, gt=0)

    qbo_client_id: str = "firmsync-sandbox-client"
    qbo_client_secret: SecretStr = SecretStr("firmsync-sandbox-secret")
    qbo_demo_realm: str = "9130357766920001"
    qbo_demo_customers: int = Field(300, ge=0)
    qbo_demo_seed: int = 20260105
    # Demo timestamps are spread over the two years before this instant. It is fixed (not "now") so
    # the demo company is identical after every restart.
    qbo_demo_anchor: datetime = datetime.fromisoformat("2026-11-01T09:00:00-07:00")
    qbo_rate_limit_per_minute: int = Field(500, ge=1)
    qbo_access_token_ttl: int = Field(3600, ge=1)
    qbo_refresh_token_ttl: int = Field(100 * DAY, ge=1)
    qbo_authorization_code_ttl: int = Field(600, ge=1)
    qbo_cdc_lookback_days: int = Field(30, ge=1)
    # Sandbox companies report times in the company's zone; Intuit's sandboxes are US Pacific.
    qbo_timezone: str = "America/Los_Angeles"
    # Intuit's second throttle: at most 10 requests in flight per realm and app; more answer 429.
    qbo_concurrent_requests: int = Field(10, ge=1)
    # Latency added to every data-API answer, so the concurrency limit can be met by a test or a bench.
    qbo_response_delay_ms: int = Field(0, ge=0, le=60_000)
    # The demo company's sales history (invoices, payments, credit memos) next to its customers.
    qbo_demo_books: bool = True
    # Webhooks: Intuit's sandbox notifies near real time (production batches 1-5 minutes); an endpoint
    # must answer within 3 s; failed batches are retried after these delays (the last one repeats).
    qbo_webhook_batch_seconds: float = Field(0.5, ge=0)
    qbo_webhook_timeout_seconds: float = Field(3.0, gt=0)
    qbo_webhook_retry_seconds: tuple[float, ...] = (10, 20, 30, 300, 1200, 7200, 14400, 21600)
    qbo_webhook_max_entities: int = Field(1000, ge=1)

    # Xero (see connectors/sandbox/xero/__init__.py). Limits are Xero's published ones, per tenant.
    xero_client_id: str = "firmsync-xero-sandbox-client"
    xero_client_secret: SecretStr = SecretStr("firmsync-xero-sandbox-secret")
    xero_app_name: str = "firmsync (sandbox)"  # what responses carry as ProviderName
    xero_demo_tenant_id: str = "8f0d3c1e-5a7b-4c2d-9e61-2b4a6c8d0e1f"
    xero_demo_tenant_name: str = "Demo Company (US)"
    xero_demo_seed: int = 20260105
    xero_demo_contacts: int = Field(120, ge=0)
    # The first contacts are the first active customers of the QuickBooks demo company (same
    # generator, same qbo_demo_seed), so the demo firm finds the same clients in both vendors.
    xero_demo_shared_contacts: int = Field(20, ge=0)
    xero_demo_items: int = Field(12, ge=0)
    xero_demo_invoices: int = Field(400, ge=0)
    xero_demo_credit_notes: int = Field(12, ge=0)
    xero_demo_anchor: datetime = datetime.fromisoformat("2026-11-01T09:00:00-07:00")
    xero_minute_limit: int = Field(60, ge=1)
    xero_day_limit: int = Field(5000, ge=1)
    xero_concurrent_limit: int = Field(5, ge=1)
    xero_app_minute_limit: int = Field(10_000, ge=1)
    # >1 compresses Xero's time windows for benchmarks: with 60, a "minute" lasts one second.
    xero_time_scale: float = Field(1.0, gt=0)
    xero_access_token_ttl: int = Field(1800, ge=1)
    xero_refresh_token_ttl: int = Field(60 * DAY, ge=1)
    # A rotated-away refresh token may be used again for this long (Xero: 30 minutes).
    xero_refresh_grace_seconds: int = Field(1800, ge=0)
    xero_authorization_code_ttl: int = Field(300, ge=1)
    xero_webhook_batch_seconds: float = Field(1.0, ge=0)  # real seconds events wait to be batched
    xero_webhook_retry_seconds: float = Field(900.0, gt=0)  # Xero retries every 15 minutes
    xero_webhook_retry_for_seconds: float = Field(DAY, gt=0)  # ... for 24 hours, then disables
    xero_webhook_max_batch: int = Field(250, ge=1)
    xero_webhook_timeout_seconds: float = Field(5.0, gt=0)  # Xero expects an answer within 5 s

    # Google Calendar (see connectors/sandbox/google/__init__.py). Limits are Google's published ones.
    google_client_id: str = "firmsync-google-sandbox.apps.googleusercontent.com"
    google_client_secret: SecretStr = SecretStr("firmsync-google-sandbox-secret")
    google_access_token_ttl: int = Field(3600, ge=1)  # Google's access tokens live one hour
    google_authorization_code_ttl: int = Field(600, ge=1)
    # Calendar API quotas: 600 requests per minute per user, 10,000 per minute per project.
    google_user_rate_limit_per_minute: int = Field(600, ge=1)
    google_project_rate_limit_per_minute: int = Field(10_000, ge=1)
    # Google answers a spent quota with 403 usageLimits/rateLimitExceeded or with 429.
    google_rate_limit_status: int = 403
    # Sync tokens expire after an unpublished time; this one is the sandbox's (and injectable per calendar).
    google_sync_token_ttl: int = Field(30 * DAY, ge=1)
    google_demo_email: str = "demo.staff@firmsync.example"
    google_demo_events: int = Field(60, ge=0)
    google_demo_seed: int = 20260105
    google_demo_anchor: datetime = datetime.fromisoformat("2026-11-01T09:00:00-07:00")
    google_demo_timezone: str = "America/Los_Angeles"

    @field_validator("google_rate_limit_status")
    @classmethod
    def _google_throttle_status(cls, value: int) -> int:
        if value not in (403, 429):
            raise ValueError("Google answers a spent quota with 403 or 429")
        return value

    # Microsoft identity platform + Graph (see connectors/sandbox/microsoft/__init__.py). msal insists on
    # https: clients reach it on the TLS port. Limits are Outlook's published ones, per app and mailbox.
    microsoft_client_id: str = "5f0c6f2e-8d1b-4a57-9c3e-f1a5e0b7c2d4"
    microsoft_client_secret: SecretStr = SecretStr("firmsync-microsoft-sandbox-secret")
    microsoft_demo_tenant_id: str = "b7c1e2f3-4a5d-4e6f-8a9b-0c1d2e3f4a5b"
    microsoft_demo_tenant_domain: str = "firmsyncdemo.onmicrosoft.com"
    microsoft_demo_user_id: str = "0e5a9c3d-7b21-4f8e-a6d4-3c2b1a0f9e8d"
    microsoft_demo_user: str = "demo.staff@firmsync.example"  # the demo staff member's userPrincipalName
    microsoft_demo_events: int = Field(40, ge=0)
    microsoft_demo_seed: int = 20260105
    microsoft_demo_anchor: datetime = datetime.fromisoformat("2026-11-01T09:00:00-07:00")
    microsoft_access_token_ttl: int = Field(3600, ge=1)  # 60-90 minutes in Entra ID; one hour here
    microsoft_refresh_token_ttl: int = Field(90 * DAY, ge=1)  # Entra ID: 90 days, rotated on every use
    microsoft_authorization_code_ttl: int = Field(600, ge=1)  # "about 10 minutes"
    # Outlook's limit: 10,000 requests per 10 minutes per app per mailbox (429 + Retry-After).
    microsoft_mailbox_requests: int = Field(10_000, ge=1)
    microsoft_mailbox_window_seconds: float = Field(600.0, gt=0)
    # Delta tokens expire after an unpublished time (then 410 syncStateNotFound); this is the sandbox's.
    microsoft_delta_token_ttl: int = Field(7 * DAY, ge=1)
    # Graph POSTs the validation token to a new subscription's notificationUrl and waits 10 s for the echo.
    microsoft_validation_timeout_seconds: float = Field(10.0, gt=0)
    microsoft_notification_timeout_seconds: float = Field(3.0, gt=0)

    # Stripe (see connectors/sandbox/stripe/__init__.py). The demo account's key is fixed so `make run`'s
    # demo firm can be connected to it after every restart.
    stripe_demo_account_id: str = "acct_1FirmsyncDemo0001"
    stripe_demo_account_name: str = "Demo Company (US)"
    stripe_demo_secret_key: SecretStr = SecretStr("sk_test_51FirmsyncSandboxDemoKey000000000000")
    stripe_demo_customers: int = Field(25, ge=0)
    stripe_demo_payments: int = Field(60, ge=0)
    stripe_demo_seed: int = 20260105
    stripe_demo_anchor: datetime = datetime.fromisoformat("2026-11-01T09:00:00-07:00")
    # Stripe's basic rate limiter in test mode: 25 read and 25 write operations per second per account.
    stripe_read_requests_per_second: int = Field(25, ge=1)
    stripe_write_requests_per_second: int = Field(25, ge=1)
    # GET /v1/events only goes back 30 days.
    stripe_event_retention_days: int = Field(30, ge=1)
    # What events and new objects say they were rendered with (the account's default API version).
    stripe_api_version: str = "2026-10-28.endive"
    stripe_webhook_timeout_seconds: float = Field(10.0, gt=0)
    # Stripe retries a failed delivery with exponential backoff for up to three days; the last delay repeats.
    stripe_webhook_retry_seconds: tuple[float, ...] = (60, 300, 1800, 3600, 7200, 14400, 28800)
    stripe_webhook_max_attempts: int = Field(16, ge=1)

    # Slack (see connectors/sandbox/slack/__init__.py). The demo workspace's token and signing secret are
    # fixed so `make run`'s demo firm can be connected to it after every restart.
    slack_client_id: str = "1111111111.2222222222"
    slack_client_secret: SecretStr = SecretStr("firmsync-slack-sandbox-secret")
    slack_app_id: str = "A0FIRMSYNC1"
    slack_demo_team_id: str = "T0FIRMSYNC1"
    slack_demo_team_name: str = "Demo Company"
    slack_demo_bot_token: SecretStr = SecretStr("xoxb-000000000001-0000000000001-firmsyncSandboxDemoBot")
    slack_demo_signing_secret: SecretStr = SecretStr("firmsync-slack-sandbox-signing-secret")
    slack_demo_channels: tuple[str, ...] = ("general", "random", "firmsync-alerts")
    # Web API tiers (api.slack.com/docs/rate-limits), per method and workspace, and chat.postMessage's
    # one message per second per channel.
    slack_tier2_per_minute: int = Field(20, ge=1)
    slack_tier3_per_minute: int = Field(50, ge=1)
    slack_tier4_per_minute: int = Field(100, ge=1)
    slack_post_messages_per_second: int = Field(1, ge=1)
    slack_authorization_code_ttl: int = Field(600, ge=1)  # Slack's codes expire after ten minutes
    slack_slash_timeout_seconds: float = Field(3.0, gt=0)  # an app must answer a command within 3 s

    # Salesforce (see connectors/sandbox/salesforce/__init__.py). The demo org's refresh token is fixed so
    # `make run`'s demo firm can be connected to it after every restart.
    salesforce_client_id: str = "3MVG9firmsyncSandboxConnectedApp"
    salesforce_client_secret: SecretStr = SecretStr("firmsync-salesforce-sandbox-secret")
    # What token answers name as `instance_url` (simple-salesforce keeps only its host and port). None: the
    # sandbox's https port on localhost (its certificate names localhost), else the request's own origin.
    salesforce_instance_url: str | None = None
    salesforce_demo_org_id: str = "00D5g00000FIRMSYNC"
    salesforce_demo_org_name: str = "Demo Company (US)"
    salesforce_demo_username: str = "admin@demo-company.firmsync.example"
    salesforce_demo_refresh_token: SecretStr = SecretStr("5Aep861firmsyncSandboxDemoRefreshToken000000")
    salesforce_demo_accounts: int = Field(40, ge=0)
    salesforce_demo_contacts: int = Field(80, ge=0)
    salesforce_demo_leads: int = Field(30, ge=0)
    salesforce_demo_opportunities: int = Field(50, ge=0)
    salesforce_demo_seed: int = 20260105
    salesforce_demo_anchor: datetime = datetime.fromisoformat("2026-11-01T09:00:00-07:00")
    # Developer Edition orgs get 15,000 API requests per rolling 24 hours; sessions time out after 2 hours.
    salesforce_daily_api_requests: int = Field(15_000, ge=1)
    salesforce_session_timeout_seconds: int = Field(7200, ge=1)
    salesforce_authorization_code_ttl: int = Field(900, ge=1)  # Salesforce: codes are good for 15 minutes
    salesforce_default_api_version: str = "59.0"
