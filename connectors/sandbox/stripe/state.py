"""Everything one Stripe emulator holds: accounts (found by their secret keys), rate limits, faults,
webhook endpoints and request counters."""

import secrets

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.common.faults import FaultInjector
from connectors.sandbox.common.rate_limit import SlidingWindowLimiter
from connectors.sandbox.common.stats import RequestStats
from connectors.sandbox.settings import SandboxSettings
from connectors.sandbox.stripe import seed
from connectors.sandbox.stripe.account import Account, AccountLimits
from connectors.sandbox.stripe.webhooks import WebhookHub


def new_secret_key() -> str:
    return "sk_test_51" + secrets.token_urlsafe(70).replace("-", "A").replace("_", "B")[:97]


def new_account_id() -> str:
    return "acct_1" + secrets.token_hex(8)


class StripeState:
    def __init__(self, settings: SandboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.accounts: dict[str, Account] = {}
        self.keys: dict[str, str] = {}  # secret key -> account id
        self.faults = FaultInjector()
        self.stats = RequestStats()
        self.limiter = SlidingWindowLimiter(clock, window_seconds=1.0)
        self.webhooks = WebhookHub(settings)
        self.throttled: dict[str, int] = {}
        demo = self.add_account(
            settings.stripe_demo_account_name,
            settings.stripe_demo_account_id,
            settings.stripe_demo_secret_key.get_secret_value(),
        )
        seed.seed_account(
            demo,
            seed.SeedSpec(
                customers=settings.stripe_demo_customers,
                payments=settings.stripe_demo_payments,
                refund_share=0.1,
                currency="usd",
                seed=settings.stripe_demo_seed,
                anchor=settings.stripe_demo_anchor.timestamp(),
                spread_days=365,
            ),
        )

    def now(self) -> int:
        return int(self.clock.now())

    def add_account(self, name: str, account_id: str | None = None, secret_key: str | None = None) -> Account:
        s = self.settings
        account = Account(
            account_id=account_id or new_account_id(),
            name=name,
            secret_key=secret_key or new_secret_key(),
            limits=AccountLimits(s.stripe_read_requests_per_second, s.stripe_write_requests_per_second),
            api_version=s.stripe_api_version,
        )
        account.listeners.append(self.webhooks.on_event)
        self.accounts[account.account_id] = account
        self.keys[account.secret_key] = account.account_id
        return account

    def roll_key(self, account: Account) -> str:
        """A new secret key; the old one answers 401 `api_key_expired` from now on."""
        account.expired_keys.add(account.secret_key)
        self.keys.pop(account.secret_key, None)
        account.secret_key = new_secret_key()
        self.keys[account.secret_key] = account.account_id
        return account.secret_key

    def account_for_key(self, key: str) -> Account | None:
        account_id = self.keys.get(key)
        return self.accounts.get(account_id) if account_id else None

    def expired_key_owner(self, key: str) -> Account | None:
        return next((a for a in self.accounts.values() if key in a.expired_keys), None)

    def remove_account(self, account_id: str) -> None:
        account = self.accounts.pop(account_id, None)
        if account is not None:
            self.keys.pop(account.secret_key, None)
            for kind in ("read", "write"):
                self.limiter.reset(f"{account_id}:{kind}")
            self.stats.reset(account_id)

    def close(self) -> None:
        self.webhooks.close()
