"""The sandbox as a real server: ``python -m connectors.sandbox`` on a free port, over real sockets,
driven by the real Intuit SDKs. Each server is stopped by its PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = "9130357766920001"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SandboxProcess:
    def __init__(self, log: Path, args: list[str], env: dict[str, str]) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "connectors.sandbox", *args],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_until_up(self, base: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"sandbox exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        pytest.fail(f"sandbox did not come up:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


@pytest.fixture(scope="module")
def start_sandbox(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., tuple[str, SandboxProcess]]]:
    started: list[SandboxProcess] = []

    def start(
        port: int | None = None, *, args: list[str] | None = None, **env: str
    ) -> tuple[str, SandboxProcess]:
        port = port or _free_port()
        log = tmp_path_factory.mktemp("sandbox") / "server.log"
        env = {"SANDBOX_QBO_DEMO_CUSTOMERS": "60", "SANDBOX_SECRET": "server-test-secret", **env}
        args = ["--host", "127.0.0.1", "--port", str(port)] if args is None else args
        server = SandboxProcess(log, args, env)
        started.append(server)
        base = f"http://127.0.0.1:{port}"
        server.wait_until_up(base)
        return base, server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def server(start_sandbox) -> str:
    base, _ = start_sandbox()
    return base


@pytest.fixture
def grant(server: str) -> dict:
    response = httpx.post(f"{server}/quickbooks/_sandbox/realms", json={"customers": 30, "seed": 11})
    assert response.status_code == 201
    return response.json()


def test_server_answers_with_settings_from_the_environment(server: str) -> None:
    assert httpx.get(f"{server}/healthz").json()["status"] == "ok"
    realms = httpx.get(f"{server}/quickbooks/_sandbox/realms").json()["realms"]
    assert {"realm_id": DEMO, "customers": 60, "demo": True} in realms


def test_a_dropped_connection_closes_the_socket_without_an_answer(server: str, grant: dict) -> None:
    realm = grant["realm_id"]
    httpx.post(f"{server}/quickbooks/_sandbox/faults", json={"kind": "drop", "realm": realm})
    url = f"{server}/quickbooks/v3/company/{realm}/query"
    headers = {"Authorization": f"Bearer {grant['access_token']}"}
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        httpx.get(url, params={"query": "SELECT COUNT(*) FROM Customer"}, headers=headers)
    assert (
        httpx.get(url, params={"query": "SELECT COUNT(*) FROM Customer"}, headers=headers).status_code == 200
    )
    stats = httpx.get(f"{server}/quickbooks/_sandbox/realms/{realm}/stats").json()
    assert stats["by_status"] == {"dropped": 1, "200": 1}


def test_a_timeout_fault_outlasts_the_clients_patience(server: str, grant: dict) -> None:
    realm = grant["realm_id"]
    spec = {"kind": "timeout", "realm": realm, "delay_seconds": 30}
    httpx.post(f"{server}/quickbooks/_sandbox/faults", json=spec)
    url = f"{server}/quickbooks/v3/company/{realm}/customer/1"
    headers = {"Authorization": f"Bearer {grant['access_token']}"}
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, headers=headers, timeout=0.5)
    assert time.monotonic() - started < 5
    assert httpx.get(url, headers=headers).status_code == 200  # the server was never blocked
    deadline = time.monotonic() + 5  # the held request ends once the server sees the client leave
    while (
        httpx.get(f"{server}/quickbooks/_sandbox/realms/{realm}/stats").json()["by_status"].get("timeout")
        != 1
    ):
        assert time.monotonic() < deadline, "the abandoned request was not released"
        time.sleep(0.05)


def test_the_intuit_sdks_work_by_configuration_alone(server: str, grant: dict, monkeypatch) -> None:
    from intuitlib.client import AuthClient
    from intuitlib.enums import Scopes
    from quickbooks import QuickBooks
    from quickbooks.cdc import change_data_capture
    from quickbooks.exceptions import AuthorizationException, QuickbooksException
    from quickbooks.objects.customer import Customer

    # requests-oauthlib refuses plain http unless told this is not production.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    discovery = f"{server}/quickbooks/.well-known/openid_sandbox_configuration/"
    auth = AuthClient(grant["client_id"], grant["client_secret"], "http://localhost/callback", discovery)
    consent = httpx.get(auth.get_authorization_url([Scopes.ACCOUNTING]) + f"&realmId={grant['realm_id']}")
    answer = {k: v[0] for k, v in parse_qs(urlparse(consent.headers["location"]).query).items()}
    assert answer["state"] == auth.state_token
    auth.get_bearer_token(answer["code"], realm_id=answer["realmId"])
    assert auth.expires_in == 3600 and auth.x_refresh_token_expires_in == 100 * 86400
    spent = auth.refresh_token
    auth.refresh()
    assert auth.refresh_token != spent

    qb = QuickBooks(
        auth_client=auth, refresh_token=auth.refresh_token, company_id=grant["realm_id"], minorversion=75
    )
    qb.api_url_v3 = f"{server}/quickbooks/v3"
    active = Customer.count(qb=qb)
    assert 0 < active < Customer.count("Active IN (true, false)", qb=qb) == 30
    listed = Customer.all(qb=qb, max_results=1000)
    assert len(listed) == active
    assert [c.Id for c in Customer.filter(DisplayName=listed[0].DisplayName, qb=qb)] == [listed[0].Id]

    created = Customer()
    created.DisplayName, created.GivenName, created.FamilyName = "O'Brien Tax Advisors", "Pat", "O'Brien"
    created = created.save(qb=qb)
    assert (created.SyncToken, created.DisplayName) == ("0", "O'Brien Tax Advisors")
    fetched = Customer.get(created.Id, qb=qb)
    fetched.Notes = "Engagement letter signed."
    assert fetched.save(qb=qb).SyncToken == "1"
    fetched.Notes = "a concurrent edit"
    with pytest.raises(QuickbooksException) as stale:
        fetched.save(qb=qb)  # still holds SyncToken 0
    assert stale.value.error_code == 5010

    # A datetime object would lose its offset in the SDK's formatting (and be read in company time).
    changes = change_data_capture([Customer], (datetime.now(UTC) - timedelta(hours=1)).isoformat(), qb=qb)
    assert [c.Id for c in changes.Customer] == [created.Id]

    auth.revoke(token=auth.refresh_token)
    with pytest.raises(AuthorizationException):
        Customer.count(qb=qb)


def test_tokens_survive_a_restart(start_sandbox) -> None:
    port = _free_port()
    env = {"SANDBOX_HOST": "127.0.0.1", "SANDBOX_PORT": str(port)}
    base, first = start_sandbox(port, args=[], **env)  # host and port from the environment only
    grant = httpx.post(f"{base}/quickbooks/_sandbox/realms/{DEMO}/grant").json()
    listed = _first_customer(base, grant["access_token"])
    first.stop()

    base, _ = start_sandbox(port, args=[], **env)
    token = httpx.post(
        f"{base}/quickbooks/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]},
        auth=(grant["client_id"], grant["client_secret"]),
    )
    assert token.status_code == 200, token.text
    assert _first_customer(base, grant["access_token"]) == listed  # old access token, same demo data


def _first_customer(base: str, access_token: str) -> dict:
    response = httpx.get(
        f"{base}/quickbooks/v3/company/{DEMO}/query",
        params={"query": "SELECT * FROM Customer MAXRESULTS 1"},
        headers={"Authorization": f"Bearer {access_token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()["QueryResponse"]["Customer"][0]


def test_the_sandbox_serves_the_same_state_over_tls_trusted_only_through_its_ca(tmp_path: Path) -> None:
    """msal and simple-salesforce insist on https: the same app (one state) answers on the TLS port, its
    certificate verifies against the generated CA for localhost and 127.0.0.1, and not without it; the CA
    is kept across restarts so a CA bundle in a connection stays valid."""
    import ssl

    import requests

    from tests.support.processes import SandboxServer

    server = SandboxServer(tmp_path)
    try:
        ca = server.ca_bundle
        realm = httpx.post(f"{server.quickbooks}/_sandbox/realms", json={"customers": 1}).json()
        over_tls = httpx.get(
            f"https://127.0.0.1:{server.tls_port}/quickbooks/_sandbox/realms/{realm['realm_id']}",
            verify=ssl.create_default_context(cafile=ca),
        )
        assert over_tls.status_code == 200, over_tls.text  # the realm made over http exists over https
        assert requests.get(f"{server.https_url}/healthz", verify=ca, timeout=10).json()["status"] == "ok"
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(
                f"{server.https_url}/healthz", verify=True, timeout=10
            )  # the public roots do not trust it
        first_ca = Path(ca).read_bytes()
    finally:
        server.stop()
    again = SandboxServer(tmp_path)
    try:
        assert Path(again.ca_bundle).read_bytes() == first_ca
        assert (
            requests.get(f"{again.https_url}/healthz", verify=again.ca_bundle, timeout=10).status_code == 200
        )
    finally:
        again.stop()
