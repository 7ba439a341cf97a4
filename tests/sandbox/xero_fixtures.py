"""The Xero emulator over real HTTP: the sandbox app served by uvicorn in a thread on a free port, with
a clock the test moves, plus a webhook receiver. Imported by conftest.py, which makes these fixtures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import uvicorn

from bench.servers import free_port
from connectors.sandbox.app import create_app
from connectors.sandbox.common.clock import Clock
from connectors.sandbox.settings import SandboxSettings

CLIENT_ID = "firmsync-xero-sandbox-client"
CLIENT_SECRET = "firmsync-xero-sandbox-secret"
DEMO_TENANT = "8f0d3c1e-5a7b-4c2d-9e61-2b4a6c8d0e1f"


def xero_settings(**overrides: Any) -> SandboxSettings:
    """Small demo books keep every app start fast; tests that need more say so."""
    values: dict[str, Any] = {
        "qbo_demo_customers": 40,
        "xero_demo_contacts": 30,
        "xero_demo_invoices": 60,
        "xero_demo_credit_notes": 4,
        "xero_webhook_batch_seconds": 0.05,
        "xero_webhook_retry_seconds": 0.3,
        **overrides,
    }
    return SandboxSettings(**values)


@dataclass
class XeroOrg:
    """An organisation created through the admin API, with tokens for it and request helpers."""

    http: httpx.Client
    tenant_id: str
    access_token: str
    refresh_token: str
    grant: dict[str, Any] = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.access_token}",
            "xero-tenant-id": self.tenant_id,
            "Accept": "application/json",
        }

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.http.get(f"/api.xro/2.0/{path}", headers=headers, **kwargs)

    def rows(self, collection: str, **params: Any) -> list[dict[str, Any]]:
        response = self.get(collection, params=params)
        assert response.status_code == 200, response.text
        return response.json()[collection.split("/")[0]]

    def put(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.http.put(f"/api.xro/2.0/{path}", json=body, headers=headers, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.http.post(f"/api.xro/2.0/{path}", json=body, headers=headers, **kwargs)

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"/_sandbox/tenants/{self.tenant_id}{path}", **kwargs)


@dataclass
class LiveXero:
    base: str  # http://127.0.0.1:PORT
    clock: Clock
    http: httpx.Client  # base_url http://127.0.0.1:PORT/xero

    @property
    def xero(self) -> str:
        return f"{self.base}/xero"

    def new_org(self, **spec: Any) -> XeroOrg:
        response = self.http.post("/_sandbox/tenants", json={"seed": 7, **spec})
        assert response.status_code == 201, response.text
        grant = response.json()
        return XeroOrg(self.http, grant["tenant_id"], grant["access_token"], grant["refresh_token"], grant)

    def org(self, tenant_id: str) -> XeroOrg:
        grant = self.http.post(f"/_sandbox/tenants/{tenant_id}/grant").json()
        return XeroOrg(self.http, tenant_id, grant["access_token"], grant["refresh_token"], grant)

    def token(
        self, form: dict[str, str], auth: tuple[str, str] | None = (CLIENT_ID, CLIENT_SECRET)
    ) -> httpx.Response:
        return self.http.post("/identity/connect/token", data=form, auth=auth)


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread cannot take signals (older uvicorn asks)
        pass


def serve(settings: SandboxSettings, clock: Clock) -> Iterator[LiveXero]:
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, clock=clock),
        host="127.0.0.1",
        port=port,
        ws="none",
        log_level="warning",
        timeout_graceful_shutdown=2,
    )
    server = _Server(config)
    thread = threading.Thread(target=server.run, name=f"sandbox-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the sandbox did not start")
        time.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=f"{base}/xero", timeout=30) as http:
        try:
            yield LiveXero(base, clock, http)
        finally:
            server.should_exit = True
            thread.join(timeout=15)


@pytest.fixture
def xero_live_settings() -> SandboxSettings:
    return xero_settings()


@pytest.fixture
def xero_live(xero_live_settings: SandboxSettings) -> Iterator[LiveXero]:
    """The whole sandbox on a real socket; ``.http`` talks to the /xero mount."""
    yield from serve(xero_live_settings, Clock())


@pytest.fixture
def xero_org(xero_live: LiveXero) -> XeroOrg:
    """An organisation with 40 contacts and 80 invoices (some paid, some credited)."""
    return xero_live.new_org(contacts=40, invoices=80, credit_notes=5)


@dataclass
class Delivery:
    body: bytes
    headers: dict[str, str]
    status: int


class WebhookReceiver:
    """A real HTTP endpoint that answers as a Xero webhook receiver should: 200 when the signature is
    right, 401 when it is not (``answer`` overrides, e.g. to fail deliveries)."""

    def __init__(self) -> None:
        self.key: str | None = None
        self.deliveries: list[Delivery] = []
        self.answer: Callable[[bytes, dict[str, str]], int] | None = None
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver.status_for(body, headers)
                with receiver._lock:
                    receiver.deliveries.append(Delivery(body, headers, status))
                    receiver._lock.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/xero/webhooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def signature_ok(self, body: bytes, headers: dict[str, str]) -> bool:
        assert self.key is not None
        expected = base64.b64encode(hmac.new(self.key.encode(), body, hashlib.sha256).digest()).decode()
        return hmac.compare_digest(expected, headers.get("x-xero-signature", ""))

    def status_for(self, body: bytes, headers: dict[str, str]) -> int:
        if self.answer is not None:
            return self.answer(body, headers)
        return 200 if self.signature_ok(body, headers) else 401

    def wait_for(self, predicate: Callable[[list[Delivery]], bool], timeout: float = 10) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self.deliveries):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"webhook deliveries never matched: {self.deliveries}")
                self._lock.wait(remaining)
            return list(self.deliveries)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    try:
        yield receiver
    finally:
        receiver.close()
