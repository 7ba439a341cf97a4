"""Everything one QuickBooks emulator instance holds: realms, tokens, limits, webhooks, faults, counters."""

import hashlib
import secrets
from zoneinfo import ZoneInfo

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.common.faults import FaultInjector
from connectors.sandbox.common.oidc_keys import OidcSigningKey
from connectors.sandbox.common.rate_limit import SlidingWindowLimiter
from connectors.sandbox.common.stats import RequestStats
from connectors.sandbox.quickbooks.realm import Realm, RealmLimits
from connectors.sandbox.quickbooks.sales_history import seed_demo_books
from connectors.sandbox.quickbooks.tokens import TokenService
from connectors.sandbox.quickbooks.webhooks import WebhookHub
from connectors.sandbox.settings import SandboxSettings

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"


class QuickBooksState:
    def __init__(self, settings: SandboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.zone = ZoneInfo(settings.qbo_timezone)
        self.client_id = settings.qbo_client_id
        self.client_secret = settings.qbo_client_secret.get_secret_value()
        self.realms: dict[str, Realm] = {}
        self.faults = FaultInjector()
        self.limiter = SlidingWindowLimiter(clock)
        self.stats = RequestStats()
        self.oidc_key = OidcSigningKey()
        self.tokens = TokenService(
            secret=settings.secret.get_secret_value(),
            clock=clock,
            access_ttl_for=self._access_ttl,
            refresh_ttl=settings.qbo_refresh_token_ttl,
            code_ttl=settings.qbo_authorization_code_ttl,
            realm_exists=lambda realm_id: realm_id in self.realms,
        )
        app_hash = hashlib.sha256(self.client_id.encode()).hexdigest()[:32]
        self.webhooks = WebhookHub(
            source=f"intuit.{app_hash}",
            batch_seconds=settings.qbo_webhook_batch_seconds,
            timeout_seconds=settings.qbo_webhook_timeout_seconds,
            retry_seconds=settings.qbo_webhook_retry_seconds,
            max_entities=settings.qbo_webhook_max_entities,
        )
        self.demo_realm_id = settings.qbo_demo_realm
        anchor = settings.qbo_demo_anchor.timestamp()
        demo = self.add_realm(settings.qbo_demo_realm, anchor)
        demo.seed_customers(settings.qbo_demo_customers, settings.qbo_demo_seed, anchor)
        if settings.qbo_demo_books:
            seed_demo_books(demo, settings.qbo_demo_seed, anchor)

    def _access_ttl(self, realm_id: str) -> int:
        realm = self.realms.get(realm_id)
        return realm.limits.access_token_ttl_seconds if realm else self.settings.qbo_access_token_ttl

    def add_realm(self, realm_id: str | None = None, anchor: float | None = None) -> Realm:
        """A company with the standard chart of accounts, items and tax codes, set up before ``anchor``."""
        # Random 16-digit ids like Intuit's, so a token from before a restart never fits a new realm.
        realm_id = realm_id or f"9130{secrets.randbelow(10**12):012d}"
        limits = RealmLimits(
            self.settings.qbo_rate_limit_per_minute,
            self.settings.qbo_access_token_ttl,
            self.settings.qbo_concurrent_requests,
            self.settings.qbo_response_delay_ms,
        )
        realm = Realm(realm_id, self.zone, limits)
        realm.seed_catalog(self.clock.now() if anchor is None else anchor)
        realm.on_change = self.webhooks.publish
        self.realms[realm_id] = realm
        return realm

    def remove_realm(self, realm_id: str) -> None:
        self.realms.pop(realm_id, None)
        self.limiter.reset(realm_id)
        self.stats.reset(realm_id)
        self.webhooks.forget_realm(realm_id)
