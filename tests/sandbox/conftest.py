"""In-process sandbox fixtures: a fresh app per test, with a clock the test can move."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from connectors.sandbox.app import create_app
from connectors.sandbox.common.clock import Clock
from connectors.sandbox.settings import SandboxSettings
from tests.sandbox.stripe_fixtures import (  # noqa: F401
    new_stripe_account,
    stripe_account,
    stripe_sandbox,
    stripe_settings,
)

# The Xero emulator's real-HTTP fixtures live in their own module; importing them here makes them fixtures.
from tests.sandbox.xero_fixtures import (  # noqa: F401
    webhook_receiver,
    xero_live,
    xero_live_settings,
    xero_org,
)
from tests.support.processes import SandboxServer

QBO = "/quickbooks"
ADMIN = f"{QBO}/_sandbox"


@dataclass
class QboRealm:
    """A company created through the admin API, with tokens for it and request helpers."""

    client: TestClient
    realm_id: str
    access_token: str
    refresh_token: str
    client_id: str
    client_secret: str
    grant: dict[str, Any] = field(repr=False)

    @property
    def api(self) -> str:
        return f"{QBO}/v3/company/{self.realm_id}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}", "Accept": "application/json"}

    def query(self, statement: str, **kwargs: Any):
        return self.client.get(
            f"{self.api}/query",
            params={"query": statement, "minorversion": 75},
            headers=self.headers,
            **kwargs,
        )

    def rows(self, statement: str) -> list[dict[str, Any]]:
        response = self.query(statement)
        assert response.status_code == 200, response.text
        return response.json()["QueryResponse"].get("Customer", [])

    def count(self, where: str = "") -> int:
        response = self.query(f"SELECT COUNT(*) FROM Customer {where}")
        assert response.status_code == 200, response.text
        return response.json()["QueryResponse"]["totalCount"]

    def read(self, customer_id: str):
        return self.client.get(f"{self.api}/customer/{customer_id}", headers=self.headers)

    def write(self, body: dict[str, Any], **params: Any):
        return self.client.post(f"{self.api}/customer", json=body, params=params, headers=self.headers)

    def objects(self, statement: str) -> list[dict[str, Any]]:
        """The objects a SELECT * answers, whatever the entity."""
        response = self.query(statement)
        assert response.status_code == 200, response.text
        entity = statement.split(" FROM ")[1].split()[0]
        return response.json()["QueryResponse"].get(entity, [])

    def get(self, resource: str, entity_id: str):
        return self.client.get(f"{self.api}/{resource}/{entity_id}", headers=self.headers)

    def post(self, resource: str, body: dict[str, Any], **params: Any):
        return self.client.post(f"{self.api}/{resource}", json=body, params=params, headers=self.headers)

    def admin(self, method: str, path: str, **kwargs: Any):
        return self.client.request(method, f"{ADMIN}/realms/{self.realm_id}{path}", **kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    return SandboxSettings(qbo_demo_customers=40)


@pytest.fixture
def sandbox(sandbox_settings: SandboxSettings, clock: Clock) -> Iterator[TestClient]:
    """The whole sandbox app, in-process."""
    app = create_app(sandbox_settings, clock=clock)
    yield TestClient(app)
    app.state.quickbooks.webhooks.close()  # its delivery thread, if a test subscribed


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory) -> Iterator[SandboxServer]:
    """``python -m connectors.sandbox`` as a real server, for tests about clients over real sockets."""
    server = SandboxServer(tmp_path_factory.mktemp("qbo-sandbox"))
    yield server
    server.stop()


@pytest.fixture
def new_realm(sandbox: TestClient) -> Callable[..., QboRealm]:
    def make(customers: int = 0, seed: int = 7, **extra: Any) -> QboRealm:
        response = sandbox.post(f"{ADMIN}/realms", json={"customers": customers, "seed": seed, **extra})
        assert response.status_code == 201, response.text
        grant = response.json()
        return QboRealm(
            sandbox,
            grant["realm_id"],
            grant["access_token"],
            grant["refresh_token"],
            grant["client_id"],
            grant["client_secret"],
            grant,
        )

    return make


@pytest.fixture
def realm(new_realm: Callable[..., QboRealm]) -> QboRealm:
    """A company with 120 seeded customers (some inactive)."""
    return new_realm(customers=120)
