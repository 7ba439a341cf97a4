"""Everything the Microsoft emulator holds: tenants, their users' calendars with a change sequence, tokens,
per-mailbox limits, subscriptions, faults and counters."""

import base64
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.common.faults import FaultInjector
from connectors.sandbox.common.oidc_keys import OidcSigningKey
from connectors.sandbox.common.rate_limit import SlidingWindowLimiter
from connectors.sandbox.common.stats import RequestStats
from connectors.sandbox.microsoft.tokens import MicrosoftTokens
from connectors.sandbox.settings import SandboxSettings


def graph_time(moment: float) -> str:
    """Graph's instants: `2017-10-31T12:19:38.4551812Z` (seven fractional digits, UTC)."""
    stamp = datetime.fromtimestamp(moment, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond:06d}0Z"


def new_event_id() -> str:
    # Outlook ids are long URL-safe base64 strings beginning AAMk.
    return "AAMkA" + base64.urlsafe_b64encode(secrets.token_bytes(48)).decode().rstrip("=")


def new_change_key() -> str:
    return "CQAAABYAAA" + base64.b64encode(secrets.token_bytes(12)).decode()


@dataclass
class Limits:
    requests: int
    window_seconds: float


@dataclass
class Removed:
    seq: int


@dataclass
class User:
    id: str
    upn: str
    display_name: str
    tenant_id: str
    limits: Limits
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    seqs: dict[str, int] = field(default_factory=dict)  # event id → change sequence of its last change
    removed: dict[str, Removed] = field(default_factory=dict)
    # start/end of each event's version before its last change: whether a moved event was in a view before
    was: dict[str, tuple[dict, dict]] = field(default_factory=dict)
    seq: int = 0
    tokens_valid_after: float = 0.0  # revocation: tokens issued before this are refused
    delta_valid_after: float = 0.0  # delta tokens issued before this answer 410


@dataclass
class Tenant:
    id: str
    domain: str
    users: dict[str, User] = field(default_factory=dict)


@dataclass
class Subscription:
    id: str
    tenant_id: str
    user_id: str
    client_id: str
    resource: str
    change_types: set[str]
    notification_url: str
    client_state: str | None
    expiration: str

    def as_json(self) -> dict[str, Any]:
        return {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
            "id": self.id,
            "resource": self.resource,
            "applicationId": self.client_id,
            "changeType": ",".join(sorted(self.change_types)),
            "clientState": self.client_state,
            "notificationUrl": self.notification_url,
            "expirationDateTime": self.expiration,
            "creatorId": self.user_id,
            "latestSupportedTlsVersion": "v1_2",
            "notificationContentType": "application/json",
        }


class MicrosoftState:
    def __init__(self, settings: SandboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.client_id = settings.microsoft_client_id
        self.client_secret = settings.microsoft_client_secret.get_secret_value()
        self.secret = settings.secret.get_secret_value()
        self.tenants: dict[str, Tenant] = {}
        self.tokens = MicrosoftTokens(self.secret, clock)
        self.oidc = OidcSigningKey()
        self.faults = FaultInjector()
        self.stats = RequestStats()
        self.limiter = SlidingWindowLimiter(clock)
        # Change sequences restart with the process: delta tokens of another run answer 410 (resync).
        self.generation = secrets.token_hex(4)
        self.subscriptions: dict[str, Subscription] = {}
        self.notifications_sent: list[dict[str, Any]] = []
        self.on_change = None  # set by the app: (user, event id, change type) → schedules notifications

    # ---- directory

    def add_tenant(self, tenant_id: str | None = None, domain: str | None = None) -> Tenant:
        tenant_id = tenant_id or str(uuid.uuid4())
        tenant = Tenant(tenant_id, domain or f"t{tenant_id[:8]}.onmicrosoft.com")
        self.tenants[tenant_id] = tenant
        return tenant

    def add_user(self, tenant: Tenant, upn: str, display_name: str, user_id: str | None = None) -> User:
        s = self.settings
        user = User(
            user_id or str(uuid.uuid4()),
            upn.lower(),
            display_name,
            tenant.id,
            Limits(s.microsoft_mailbox_requests, s.microsoft_mailbox_window_seconds),
        )
        tenant.users[user.id] = user
        return user

    def user(self, tenant_id: str, key: str) -> User | None:
        """A tenant's user by object id or userPrincipalName (Graph's `/users/{id | userPrincipalName}`)."""
        tenant = self.tenants.get(tenant_id)
        if tenant is None:
            return None
        found = tenant.users.get(key)
        if found is not None:
            return found
        return next((u for u in tenant.users.values() if u.upn == key.lower()), None)

    def find_user(self, user_id: str) -> User | None:
        for tenant in self.tenants.values():
            if user_id in tenant.users:
                return tenant.users[user_id]
        return None

    # ---- events: every change takes the user's next sequence number (what delta tokens remember)

    def _touch(self, user: User, event_id: str) -> None:
        user.seq += 1
        user.seqs[event_id] = user.seq

    def put_event(self, user: User, event: dict[str, Any], *, notify: str | None = None) -> dict[str, Any]:
        now = graph_time(self.clock.now())
        event.setdefault("createdDateTime", now)
        event["lastModifiedDateTime"] = now
        event["changeKey"] = new_change_key()
        event["@odata.etag"] = f'W/"{event["changeKey"]}"'
        old = user.events.get(event["id"])
        if old is not None:
            user.was[event["id"]] = (old["start"], old["end"])
        else:
            user.was.pop(event["id"], None)
        user.events[event["id"]] = event
        self._touch(user, event["id"])
        if notify and self.on_change is not None:
            self.on_change(user, event["id"], notify)
        return event

    def delete_event(self, user: User, event_id: str) -> bool:
        if user.events.pop(event_id, None) is None:
            return False
        user.seqs.pop(event_id, None)
        user.was.pop(event_id, None)
        user.seq += 1
        user.removed[event_id] = Removed(user.seq)
        if self.on_change is not None:
            self.on_change(user, event_id, "deleted")
        return True
