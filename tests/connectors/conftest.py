"""Connector test fixtures.

The sandbox itself is the session-wide `sandbox` fixture of tests/conftest.py: `python -m
connectors.sandbox` as a subprocess on a free port, health-checked and stopped by PID. Here it is
wrapped with the QuickBooks admin calls these tests need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest

from connectors.base import RetryPolicy, TokenBucket, TokenSet
from connectors.quickbooks import QuickBooksClient, QuickBooksConfig, QuickBooksCredentials


@dataclass(frozen=True)
class QuickBooksSandbox:
    quickbooks_url: str  # what a connection's api_base_url would be

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        """The sandbox's own admin API (not QBO) under /quickbooks/_sandbox."""
        response = httpx.request(method, f"{self.quickbooks_url}/_sandbox{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None


@pytest.fixture(scope="session")
def qbo_sandbox(sandbox) -> QuickBooksSandbox:
    return QuickBooksSandbox(quickbooks_url=sandbox.quickbooks)


# Fast, but the same code path as production: only the numbers differ.
FAST_RETRIES = RetryPolicy(max_attempts=4, base_delay=0.05, max_delay=0.2, max_retry_after=5.0)


class CountingBucket(TokenBucket):
    def __init__(self) -> None:
        super().__init__(rate_per_second=10_000, capacity=10_000)
        self.acquired = 0

    def acquire(self, n: float = 1) -> float:
        self.acquired += 1
        return super().acquire(n)


@dataclass
class Company:
    """One sandbox realm plus what its owner got from the OAuth consent."""

    sandbox: QuickBooksSandbox
    realm_id: str
    client_id: str
    client_secret: str
    refresh_token: str
    access_token: str
    tokens: list[TokenSet] = field(default_factory=list)

    def config(self, **overrides: Any) -> QuickBooksConfig:
        return QuickBooksConfig(
            realm_id=self.realm_id,
            client_id=self.client_id,
            environment="sandbox",
            api_base_url=self.sandbox.quickbooks_url,
            discovery_url=f"{self.sandbox.quickbooks_url}/.well-known/openid_sandbox_configuration",
            **overrides,
        )

    def credentials(self, **overrides: Any) -> QuickBooksCredentials:
        fields: dict[str, Any] = {"client_secret": self.client_secret, "refresh_token": self.refresh_token}
        fields.update(overrides)
        return QuickBooksCredentials(**fields)

    def client(self, credentials: QuickBooksCredentials | None = None, **options: Any) -> QuickBooksClient:
        options.setdefault("retry_policy", FAST_RETRIES)
        options.setdefault("timeout", 5.0)
        return QuickBooksClient(
            self.config(), credentials or self.credentials(), on_tokens=self.tokens.append, **options
        )

    def stats(self) -> dict[str, Any]:
        return self.sandbox.admin("GET", f"/realms/{self.realm_id}/stats")

    def outcomes(self, path_suffix: str) -> dict[str, int]:
        by_path = self.stats()["by_path"]
        return next((v for k, v in by_path.items() if k.endswith(path_suffix)), {})

    def fault(self, kind: str, **spec: Any) -> None:
        self.sandbox.admin("POST", "/faults", json={"kind": kind, "realm": self.realm_id, **spec})

    def act(self, path: str, **body: Any) -> Any:
        """What a QuickBooks user does in the company (admin API: edit, void, delete, touch…)."""
        return self.sandbox.admin("POST", f"/realms/{self.realm_id}{path}", json=body)

    def with_access_token(self) -> QuickBooksCredentials:
        """Credentials holding the grant's access token, so clients need no (rotating) refresh."""
        return self.credentials(access_token=self.access_token)


@pytest.fixture
def make_company(qbo_sandbox: QuickBooksSandbox) -> Callable[..., Company]:
    def make(customers: int = 0, seed: int = 7, anchor: datetime | None = None, invoices: int = 0) -> Company:
        body: dict[str, Any] = {"customers": customers, "seed": seed, "invoices": invoices}
        if anchor is not None:
            body["anchor"] = anchor.isoformat()
        grant = qbo_sandbox.admin("POST", "/realms", json=body)
        return Company(
            sandbox=qbo_sandbox,
            realm_id=grant["realm_id"],
            client_id=grant["client_id"],
            client_secret=grant["client_secret"],
            refresh_token=grant["refresh_token"],
            access_token=grant["access_token"],
        )

    return make


@dataclass(frozen=True)
class XeroSandbox:
    xero_url: str  # http://HOST:PORT/xero: the emulator's Accounting API, identity and connections

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        """The sandbox's own admin API (not Xero) under /xero/_sandbox."""
        response = httpx.request(method, f"{self.xero_url}/_sandbox{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None


@pytest.fixture(scope="session")
def xero_sandbox(sandbox) -> XeroSandbox:
    return XeroSandbox(xero_url=f"{sandbox.url}/xero")


@dataclass(frozen=True)
class GoogleSandbox:
    google_url: str  # http://HOST:PORT/google: the Calendar API, OAuth endpoints and discovery

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        """The sandbox's own admin API (not Google) under /google/_sandbox."""
        response = httpx.request(method, f"{self.google_url}/_sandbox{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None


@pytest.fixture(scope="session")
def google_sandbox(sandbox) -> GoogleSandbox:
    return GoogleSandbox(google_url=sandbox.google)


@dataclass
class GoogleUser:
    """One sandbox Google user (a staff member) plus what their consent gave the app."""

    sandbox: GoogleSandbox
    email: str
    calendar_ids: list[str]
    client_id: str
    client_secret: str
    refresh_token: str
    access_token: str
    tokens: list[TokenSet] = field(default_factory=list)

    def config(self, **overrides: Any):
        from connectors.google_calendar import GoogleCalendarConfig

        fields: dict[str, Any] = {
            "client_id": self.client_id,
            "account_email": self.email,
            "calendar_ids": tuple(self.calendar_ids),
            "api_endpoint": f"{self.sandbox.google_url}/calendar/v3/",
            "authorize_url": f"{self.sandbox.google_url}/o/oauth2/v2/auth",
            "token_url": f"{self.sandbox.google_url}/token",
            "revocation_url": f"{self.sandbox.google_url}/revoke",
        }
        return GoogleCalendarConfig(**(fields | overrides))

    def credentials(self, **overrides: Any):
        from connectors.google_calendar import GoogleCalendarCredentials

        fields: dict[str, Any] = {"client_secret": self.client_secret, "refresh_token": self.refresh_token}
        return GoogleCalendarCredentials(**(fields | overrides))

    def client(self, credentials: Any = None, config: Any = None, **options: Any):
        from connectors.google_calendar import GoogleCalendarClient

        options.setdefault("retry_policy", FAST_RETRIES)
        options.setdefault("timeout", 5.0)
        options.setdefault("bucket", TokenBucket(rate_per_second=10_000, capacity=10_000))
        return GoogleCalendarClient(
            config or self.config(),
            credentials or self.credentials(),
            on_tokens=self.tokens.append,
            **options,
        )

    def act(self, method: str, path: str, **kwargs: Any) -> Any:
        """What the user does in Google Calendar, or an operator does to the account (admin API)."""
        return self.sandbox.admin(method, path, **kwargs)

    def fault(self, kind: str, **spec: Any) -> None:
        self.sandbox.admin("POST", "/faults", json={"kind": kind, "realm": self.email, **spec})

    def outcomes(self) -> dict[str, int]:
        return self.sandbox.admin("GET", f"/accounts/{self.email}/stats")["by_status"]


@pytest.fixture
def make_google_user(google_sandbox: GoogleSandbox) -> Callable[..., GoogleUser]:
    def make(
        events: int = 0, *, calendars: list[dict] | None = None, seed: int = 7, **spec: Any
    ) -> GoogleUser:
        body = {"events": events, "calendars": calendars or [], "seed": seed, "recurring_share": 0, **spec}
        grant = google_sandbox.admin("POST", "/accounts", json=body)
        return GoogleUser(
            sandbox=google_sandbox,
            email=grant["email"],
            calendar_ids=[c["id"] for c in grant["calendars"]],
            client_id=grant["client_id"],
            client_secret=grant["client_secret"],
            refresh_token=grant["refresh_token"],
            access_token=grant["access_token"],
        )

    return make
