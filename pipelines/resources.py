"""Dagster resources: the firmsync database and vendor client factories (swappable in tests)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from sqlalchemy.orm import Session

from core_api.connections.system import tenant_for_connection
from core_api.db import system_session, tenant_session
from core_api.models import Connection
from core_api.tenancy import TenantContext


class FirmsyncDatabase(dg.ConfigurableResource):
    """Sessions on firmsync's database. Settings (DATABASE_URL etc.) come from the environment.

    `system()` is the owner role, for cross-tenant reads; `tenant()` is the API's role with the firm
    set, so row-level security checks every row a sync writes.
    """

    @contextmanager
    def system(self) -> Iterator[Session]:
        with system_session() as session:
            yield session

    @contextmanager
    def tenant(self, tenant: TenantContext) -> Iterator[Session]:
        with tenant_session(tenant) as session:
            yield session

    def connection(self, connection_id: uuid.UUID) -> tuple[TenantContext, Connection]:
        with self.system() as session:
            return tenant_for_connection(session, connection_id)


class QuickBooksApi(dg.ConfigurableResource):
    """Builds the QuickBooks client for one connection; retry/timeouts are operator-tunable here."""

    timeout_seconds: float = 30.0
    max_attempts: int = 6
    retry_base_delay_seconds: float = 0.5  # first backoff; a vendor's Retry-After wins when longer
    page_size: int = 1000
    # Vendor-wide budget shared by every connection synced in this process (sweeps run many at once),
    # on top of each connection's own published per-realm limit.
    vendor_requests_per_second: float = 40.0

    def client(self, config: dict, credentials: dict, on_tokens):
        from connectors.base import RetryPolicy, TokenBucket, shared_bucket
        from connectors.quickbooks.client import QuickBooksClient
        from connectors.quickbooks.config import QuickBooksConfig, QuickBooksCredentials

        return QuickBooksClient(
            QuickBooksConfig.model_validate(config),
            QuickBooksCredentials.model_validate(credentials),
            on_tokens=on_tokens,
            retry_policy=RetryPolicy(
                max_attempts=self.max_attempts, base_delay=self.retry_base_delay_seconds
            ),
            vendor_bucket=shared_bucket(
                f"quickbooks:vendor:{self.vendor_requests_per_second}",
                lambda: TokenBucket.per_second(self.vendor_requests_per_second),
            ),
            timeout=self.timeout_seconds,
        )


class XeroApi(dg.ConfigurableResource):
    """Builds the Xero client for one connection (one organisation).

    Xero's published limits are per organisation (60 calls/minute, 5,000/day, 5 at once): each client
    enforces them from the connection's config; this adds the app-wide budget across organisations.
    """

    timeout_seconds: float = 30.0
    max_attempts: int = 6
    page_size: int = 100  # Xero's own page size; at 60 calls/minute, bigger pages mean fewer calls
    # Xero allows an app 10,000 calls per minute across all its organisations.
    vendor_requests_per_minute: float = 10_000.0

    def client(self, config: dict, credentials: dict, on_tokens):
        from connectors.base import RetryPolicy, TokenBucket, shared_bucket
        from connectors.xero.client import XeroClient
        from connectors.xero.config import XeroConfig, XeroCredentials

        per_second = self.vendor_requests_per_minute / 60.0
        return XeroClient(
            XeroConfig.model_validate(config),
            XeroCredentials.model_validate(credentials),
            on_tokens=on_tokens,
            retry_policy=RetryPolicy(max_attempts=self.max_attempts, max_retry_after=300.0),
            vendor_bucket=shared_bucket(
                f"xero:vendor:{self.vendor_requests_per_minute}", lambda: TokenBucket.per_second(per_second)
            ),
            timeout=self.timeout_seconds,
        )


class GoogleCalendarApi(dg.ConfigurableResource):
    """Builds the Google Calendar client for one connection (one staff member's calendars).

    Google's quota is per user (600 requests a minute, enforced by each client from the connection's
    config) and per project: this adds the project-wide budget shared by every connection in the process.
    """

    timeout_seconds: float = 30.0
    max_attempts: int = 6
    retry_base_delay_seconds: float = 1.0  # Google: exponential backoff from about a second
    page_size: int = 250  # Google's default page (it allows 2,500)
    vendor_requests_per_minute: float = 10_000.0  # Calendar API default per-project quota

    def client(self, config: dict, credentials: dict, on_tokens):
        from connectors.base import RetryPolicy, TokenBucket, shared_bucket
        from connectors.google_calendar.client import GoogleCalendarClient
        from connectors.google_calendar.config import GoogleCalendarConfig, GoogleCalendarCredentials

        per_second = self.vendor_requests_per_minute / 60.0
        return GoogleCalendarClient(
            GoogleCalendarConfig.model_validate(config),
            GoogleCalendarCredentials.model_validate(credentials),
            on_tokens=on_tokens,
            retry_policy=RetryPolicy(
                max_attempts=self.max_attempts,
                base_delay=self.retry_base_delay_seconds,
                max_delay=64.0,
                max_retry_after=300.0,
            ),
            vendor_bucket=shared_bucket(
                f"google_calendar:vendor:{self.vendor_requests_per_minute}",
                lambda: TokenBucket.per_second(per_second),
            ),
            timeout=self.timeout_seconds,
        )


class ActiveDirectoryApi(dg.ConfigurableResource):
    """Builds the Active Directory client for one connection (one domain, its service account).

    A domain controller publishes no rate limit. Pages are the smaller of `page_size` and the connection's
    own `page_size`.
    """

    timeout_seconds: float = 30.0
    max_attempts: int = 5
    retry_base_delay_seconds: float = 1.0
    page_size: int = 1000  # AD's MaxPageSize

    def client(self, config: dict, credentials: dict, on_tokens):
        from connectors.active_directory.client import ActiveDirectoryClient
        from connectors.active_directory.config import ActiveDirectoryConfig, ActiveDirectoryCredentials
        from connectors.base import RetryPolicy

        return ActiveDirectoryClient(
            ActiveDirectoryConfig.model_validate(config),
            ActiveDirectoryCredentials.model_validate(credentials),
            on_tokens=on_tokens,
            retry_policy=RetryPolicy(
                max_attempts=self.max_attempts, base_delay=self.retry_base_delay_seconds, max_delay=30.0
            ),
            timeout=self.timeout_seconds,
        )


class SalesforceApi(dg.ConfigurableResource):
    """Builds the Salesforce client for one connection (one org), over https with the connection's CA bundle.

    Salesforce meters a rolling 24-hour allocation per org rather than a rate: the client reads it from every
    answer and stops at the connection's margin; this sets timeouts, retries and the query batch size.
    """

    timeout_seconds: float = 30.0
    max_attempts: int = 5
    retry_base_delay_seconds: float = 1.0
    page_size: int = 2000  # records per query batch (Salesforce allows 200-2,000)

    def client(self, config: dict, credentials: dict, on_tokens):
        from connectors.base import RetryPolicy
        from connectors.salesforce.client import SalesforceClient
        from connectors.salesforce.config import SalesforceConfig, SalesforceCredentials

        return SalesforceClient(
            SalesforceConfig.model_validate(config),
            SalesforceCredentials.model_validate(credentials),
            on_tokens=on_tokens,
            retry_policy=RetryPolicy(
                max_attempts=self.max_attempts,
                base_delay=self.retry_base_delay_seconds,
                max_delay=30.0,
                max_retry_after=300.0,
            ),
            timeout=self.timeout_seconds,
        )


class SlackApi(dg.ConfigurableResource):
    """Builds the Slack Web API client (slack-sdk) for one connection: the firm's workspace bot.

    slack-sdk sleeps through a 429 for its Retry-After, up to `max_rate_limit_retries` times; deliveries
    pace themselves `post_interval_seconds` apart per channel (Slack: about one message a second)."""

    timeout_seconds: int = 30
    max_rate_limit_retries: int = 10
    post_interval_seconds: float = 1.0

    def client(self, config: dict, credentials: dict, on_tokens):
        from connectors.slack.client import SlackClient
        from connectors.slack.config import SlackConfig, SlackCredentials

        return SlackClient(
            SlackConfig.model_validate(config),
            SlackCredentials.model_validate(credentials),
            on_tokens=on_tokens,
            timeout=self.timeout_seconds,
            max_rate_limit_retries=self.max_rate_limit_retries,
        )


class MicrosoftCalendarApi(dg.ConfigurableResource):
    """Builds the Microsoft 365 calendar client for one connection (one staff member's mailbox).

    Outlook's limit is per app per mailbox (10,000 requests per 10 minutes, enforced by each client from the
    connection's config); Graph also throttles a whole app, so this adds an app-wide budget shared by every
    connection in the process. Each connection trusts the CA bundle its own config names.
    """

    timeout_seconds: float = 30.0
    max_attempts: int = 8
    retry_base_delay_seconds: float = 1.0
    max_retry_after_seconds: float = 300.0
    page_size: int = 100  # Prefer: odata.maxpagesize
    vendor_requests_per_second: float = 100.0  # an app-wide ceiling well under Graph's global limits

    def client(self, config: dict, credentials: dict, on_tokens):
        from connectors.base import RetryPolicy, TokenBucket, shared_bucket
        from connectors.microsoft_calendar.client import MicrosoftCalendarClient
        from connectors.microsoft_calendar.config import MicrosoftCalendarConfig, MicrosoftCalendarCredentials

        return MicrosoftCalendarClient(
            MicrosoftCalendarConfig.model_validate(config),
            MicrosoftCalendarCredentials.model_validate(credentials),
            on_tokens=on_tokens,
            retry_policy=RetryPolicy(
                max_attempts=self.max_attempts,
                base_delay=self.retry_base_delay_seconds,
                max_delay=60.0,
                max_retry_after=self.max_retry_after_seconds,
            ),
            vendor_bucket=shared_bucket(
                f"microsoft_calendar:vendor:{self.vendor_requests_per_second}",
                lambda: TokenBucket.per_second(self.vendor_requests_per_second),
            ),
            timeout=self.timeout_seconds,
        )


class StripeApi(dg.ConfigurableResource):
    """Builds the Stripe reader for one connection (one account) through the official SDK.

    Stripe's limiter is per account (100 reads/s live, 25/s test): each client's token bucket is sized from
    the key's mode (or the connection's `reads_per_second`) and shared by every client of that account in
    the process. The SDK retries network errors and 5xx itself (`max_network_retries`); the client retries
    429s and whatever the SDK gave up on with jittered backoff (`max_attempts`, Retry-After honoured).
    """

    timeout_seconds: float = 30.0
    max_attempts: int = 8
    retry_base_delay_seconds: float = 0.5
    retry_max_delay_seconds: float = 20.0
    max_network_retries: int = 2
    page_size: int = 100  # Stripe's largest `limit`
    reads_per_second: int | None = None  # None: Stripe's published limit for the key's mode

    def client(self, config: dict, credentials: dict, on_tokens):
        from connectors.base import RetryPolicy
        from connectors.stripe.changes import StripeChangeReader
        from connectors.stripe.client import StripeAccountClient
        from connectors.stripe.config import StripeConfig, StripeCredentials

        parsed = StripeConfig.model_validate(config)
        if self.reads_per_second is not None and parsed.reads_per_second is None:
            parsed = parsed.model_copy(update={"reads_per_second": self.reads_per_second})
        return StripeChangeReader(
            StripeAccountClient(
                parsed,
                StripeCredentials.model_validate(credentials),
                on_tokens=on_tokens,
                retry_policy=RetryPolicy(
                    max_attempts=self.max_attempts,
                    base_delay=self.retry_base_delay_seconds,
                    max_delay=self.retry_max_delay_seconds,
                    max_retry_after=120.0,
                ),
                timeout=self.timeout_seconds,
                max_network_retries=self.max_network_retries,
            )
        )
