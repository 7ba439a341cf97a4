"""Everything the Google emulator holds: users with their calendars, tokens, limits, faults and counters."""

import base64
import secrets
from dataclasses import dataclass, field

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.common.faults import FaultInjector
from connectors.sandbox.common.rate_limit import SlidingWindowLimiter
from connectors.sandbox.common.stats import RequestStats
from connectors.sandbox.google import errors
from connectors.sandbox.google.calendars import Calendar
from connectors.sandbox.google.listing import EventLister
from connectors.sandbox.google.tokens import GoogleTokens
from connectors.sandbox.settings import SandboxSettings

PROJECT_KEY = "__project__"


@dataclass
class AccountLimits:
    requests_per_minute: int
    rate_limit_status: int  # 403 (usageLimits rateLimitExceeded) or 429
    retry_after_seconds: int | None  # Retry-After sent with a throttled answer (Google often sends none)
    access_token_ttl_seconds: int
    sync_token_ttl_seconds: int
    window_seconds: float = 60.0  # the quota's window: shorter ones let tests meet the limit quickly


@dataclass
class Account:
    """A Google user (a member of the firm's staff) and the calendars they own."""

    email: str
    name: str
    limits: AccountLimits
    calendars: dict[str, Calendar] = field(default_factory=dict)
    access_tokens_expired_at: float = 0.0
    refresh_tokens_revoked_at: float = 0.0

    @property
    def primary(self) -> Calendar:
        return self.calendars[self.email]


class GoogleState:
    def __init__(self, settings: SandboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.client_id = settings.google_client_id
        self.client_secret = settings.google_client_secret.get_secret_value()
        self.accounts: dict[str, Account] = {}
        self.faults = FaultInjector()
        self.stats = RequestStats()
        self.limiter = SlidingWindowLimiter(clock)
        # Who approves at the authorization endpoint when no login_hint names a user (None: the demo user).
        self.consent_email: str | None = None
        secret = settings.secret.get_secret_value()
        self.tokens = GoogleTokens(
            secret,
            clock,
            access_ttl_for=lambda email: self._limits_of(email).access_token_ttl_seconds
            if email in self.accounts
            else settings.google_access_token_ttl,
            code_ttl=settings.google_authorization_code_ttl,
            valid_after=self._valid_after,
        )
        self.lister = EventLister(secret, self._sync_ttl, now=clock.now)
        self.demo_email = settings.google_demo_email.lower()

    def _limits_of(self, email: str) -> AccountLimits:
        return self.accounts[email].limits

    def _valid_after(self, email: str) -> tuple[float, float]:
        account = self.accounts.get(email)
        if account is None:
            return (float("inf"), float("inf"))  # a forgotten user's tokens are dead
        return account.access_tokens_expired_at, account.refresh_tokens_revoked_at

    def _sync_ttl(self, calendar: Calendar) -> int:
        account = self.accounts.get(calendar.owner)
        return account.limits.sync_token_ttl_seconds if account else self.settings.google_sync_token_ttl

    def default_limits(self) -> AccountLimits:
        s = self.settings
        return AccountLimits(
            s.google_user_rate_limit_per_minute,
            s.google_rate_limit_status,
            1 if s.google_rate_limit_status == 429 else None,
            s.google_access_token_ttl,
            s.google_sync_token_ttl,
        )

    def add_account(self, email: str, name: str, time_zone: str) -> Account:
        email = email.lower()
        if email in self.accounts:
            raise errors.duplicate()
        account = Account(email, name, self.default_limits())
        account.calendars[email] = Calendar(email, email, time_zone, email, primary=True)
        self.accounts[email] = account
        return account

    def add_calendar(
        self, account: Account, summary: str, time_zone: str, description: str | None
    ) -> Calendar:
        code = base64.b32hexencode(secrets.token_bytes(20)).decode().lower().rstrip("=")
        calendar_id = f"c_{code}@group.calendar.google.com"
        calendar = Calendar(calendar_id, summary, time_zone, account.email, description=description)
        account.calendars[calendar_id] = calendar
        return calendar

    def remove_account(self, email: str) -> None:
        self.accounts.pop(email, None)
        self.limiter.reset(email)
        self.stats.reset(email)

    def calendar(self, calendar_id: str) -> Calendar | None:
        for account in self.accounts.values():
            found = account.calendars.get(calendar_id)
            if found is not None:
                return found
        return None

    def consenting_email(self, login_hint: str | None) -> str | None:
        if login_hint and login_hint.lower() in self.accounts:
            return login_hint.lower()
        chosen = self.consent_email or self.demo_email
        return chosen if chosen in self.accounts else next(iter(self.accounts), None)
