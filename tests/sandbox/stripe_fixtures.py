"""The Stripe emulator in-process (the whole sandbox app through a TestClient, with a clock the test
moves). Imported by conftest.py, which makes these fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from connectors.sandbox.app import create_app
from connectors.sandbox.common.clock import Clock
from connectors.sandbox.settings import SandboxSettings

STRIPE = "/stripe"
ADMIN = f"{STRIPE}/_sandbox"


@dataclass
class StripeAccount:
    """A sandbox account created through the admin API, with request helpers."""

    client: TestClient
    clock: Clock
    account_id: str
    secret_key: str
    created: dict[str, Any] = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret_key}"}

    def get(self, path: str, params: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.get(f"{STRIPE}/v1/{path}", params=params, headers=headers, **kwargs)

    def ok(self, path: str, params: Any = None) -> dict[str, Any]:
        response = self.get(path, params)
        assert response.status_code == 200, response.text
        return response.json()

    def walk(self, resource: str, limit: int = 100, **params: Any) -> list[dict[str, Any]]:
        """Every object of a list, following `starting_after` as the SDKs do."""
        rows: list[dict[str, Any]] = []
        while True:
            page = self.ok(
                resource, {"limit": limit, **params, **({"starting_after": rows[-1]["id"]} if rows else {})}
            )
            rows += page["data"]
            if not page["has_more"]:
                return rows

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, f"{ADMIN}/accounts/{self.account_id}{path}", **kwargs)

    def act(self, path: str, **body: Any) -> dict[str, Any]:
        response = self.admin("POST", path, json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()


@pytest.fixture
def stripe_settings() -> SandboxSettings:
    """Small demo books everywhere; Stripe webhook retries in a fraction of a second."""
    return SandboxSettings(
        qbo_demo_customers=10,
        xero_demo_contacts=10,
        xero_demo_invoices=10,
        xero_demo_credit_notes=1,
        stripe_demo_customers=5,
        stripe_demo_payments=5,
        stripe_webhook_retry_seconds=(0.2,),
        stripe_webhook_max_attempts=3,
    )


@pytest.fixture
def stripe_sandbox(stripe_settings: SandboxSettings, clock: Clock) -> Iterator[TestClient]:
    """The whole sandbox app, in-process, on the test's clock."""
    app = create_app(stripe_settings, clock=clock)
    yield TestClient(app)
    app.state.stripe.close()  # its webhook delivery thread, if a test added an endpoint


@pytest.fixture
def new_stripe_account(stripe_sandbox: TestClient, clock: Clock):
    def make(**spec: Any) -> StripeAccount:
        response = stripe_sandbox.post(f"{ADMIN}/accounts", json={"seed": 5, **spec})
        assert response.status_code == 201, response.text
        body = response.json()
        return StripeAccount(stripe_sandbox, clock, body["account_id"], body["secret_key"], body)

    return make


@pytest.fixture
def stripe_account(new_stripe_account) -> StripeAccount:
    """30 customers and 40 payments (some refunded) created over the last 20 days."""
    return new_stripe_account(customers=30, payments=40, refund_share=0.25, spread_days=20)
