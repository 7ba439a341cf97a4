"""Everything one Xero emulator holds: organisations, tokens, limits, faults, webhooks and counters."""

import uuid
from collections import OrderedDict

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.common.faults import FaultInjector
from connectors.sandbox.common.oidc_keys import OidcSigningKey
from connectors.sandbox.common.stats import RequestStats
from connectors.sandbox.settings import SandboxSettings
from connectors.sandbox.xero import seed
from connectors.sandbox.xero.limits import ApiLimits
from connectors.sandbox.xero.tenant import Tenant, TenantLimits
from connectors.sandbox.xero.timefmt import ms
from connectors.sandbox.xero.tokens import XeroTokens
from connectors.sandbox.xero.webhooks import WebhookHub

IDEMPOTENCY_SECONDS = 360  # Xero keeps an Idempotency-Key's answer for 6 minutes
IDEMPOTENCY_MEMORY = 10_000


class XeroState:
    def __init__(self, settings: SandboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.client_id = settings.xero_client_id
        self.client_secret = settings.xero_client_secret.get_secret_value()
        self.tenants: dict[str, Tenant] = {}
        self.faults = FaultInjector()
        self.stats = RequestStats()
        self.limits = ApiLimits(clock, settings.xero_app_minute_limit)
        self.oidc_key = OidcSigningKey()
        self.webhooks = WebhookHub(settings)
        # Which tenants a consent grants: None means every tenant of the sandbox app.
        self.consent_tenants: list[str] | None = None
        # (tenant, key) -> (expires, fingerprint, status, body)
        self.idempotency: OrderedDict[tuple[str, str], tuple[float, str, int, bytes]] = OrderedDict()
        self.tokens = XeroTokens(
            settings.secret.get_secret_value(),
            clock,
            access_ttl_for=self._access_ttl,
            refresh_ttl=settings.xero_refresh_token_ttl,
            code_ttl=settings.xero_authorization_code_ttl,
            grace_seconds=settings.xero_refresh_grace_seconds,
            tenant_exists=lambda tenant_id: tenant_id in self.tenants,
        )
        self.demo_tenant_id = settings.xero_demo_tenant_id.lower()
        demo = self.add_tenant(settings.xero_demo_tenant_name, self.demo_tenant_id)
        seed.seed_demo(demo, settings)

    def _access_ttl(self, tenant_ids: tuple[str, ...]) -> int:
        ttls = [self.tenants[t].limits.access_token_ttl_seconds for t in tenant_ids if t in self.tenants]
        return min(ttls) if ttls else self.settings.xero_access_token_ttl

    def default_limits(self) -> TenantLimits:
        s = self.settings
        return TenantLimits(
            s.xero_minute_limit,
            s.xero_day_limit,
            s.xero_concurrent_limit,
            s.xero_time_scale,
            s.xero_access_token_ttl,
        )

    def add_tenant(self, name: str, tenant_id: str | None = None) -> Tenant:
        tenant_id = (tenant_id or str(uuid.uuid4())).lower()
        tenant = Tenant(tenant_id, name, self.default_limits(), ms(self.clock.now()))
        tenant.listeners.append(self.webhooks.on_events)
        self.tenants[tenant_id] = tenant
        return tenant

    def remove_tenant(self, tenant_id: str) -> None:
        self.tenants.pop(tenant_id, None)
        self.limits.forget(tenant_id)
        self.stats.reset(tenant_id)

    def consent_grants(self) -> tuple[str, ...]:
        chosen = self.consent_tenants if self.consent_tenants is not None else list(self.tenants)
        return tuple(t for t in chosen if t in self.tenants)

    def recall(self, tenant_id: str, key: str, fingerprint: str) -> tuple[int, bytes] | None | str:
        """An earlier answer for this Idempotency-Key; "conflict" if the key came with another request."""
        entry = self.idempotency.get((tenant_id, key))
        if entry is None or entry[0] <= self.clock.now():
            return None
        if entry[1] != fingerprint:
            return "conflict"
        return entry[2], entry[3]

    def remember(self, tenant_id: str, key: str, fingerprint: str, status: int, body: bytes) -> None:
        self.idempotency[(tenant_id, key)] = (
            self.clock.now() + IDEMPOTENCY_SECONDS,
            fingerprint,
            status,
            body,
        )
        if len(self.idempotency) > IDEMPOTENCY_MEMORY:
            self.idempotency.popitem(last=False)

    def close(self) -> None:
        self.webhooks.close()
