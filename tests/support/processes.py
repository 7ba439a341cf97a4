"""Servers the tests start as real processes, on free ports, stopped by PID."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import time
from pathlib import Path

import httpx

from bench.servers import free_port, sandbox_command

__all__ = ["ROOT", "SandboxServer", "free_port", "stop", "wait_http"]

ROOT = Path(__file__).resolve().parents[2]


def wait_http(
    url: str, proc: subprocess.Popen, timeout: float = 60, *, verify: ssl.SSLContext | bool = True
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1, verify=verify).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout}s")


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class SandboxServer:
    """`python -m connectors.sandbox` on a free port, with helpers for its admin API."""

    def __init__(self, log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The same sandbox over https (msal and simple-salesforce insist on it), trusted through ca_bundle.
        self.tls_port = free_port()
        self.https_url = f"https://localhost:{self.tls_port}"
        self.ca_bundle = str(log_dir / "tls" / "ca.pem")
        self.log = (log_dir / "sandbox.log").open("ab")
        self.proc = subprocess.Popen(
            sandbox_command(self.port, tls_port=self.tls_port, tls_dir=log_dir / "tls"),
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_http(f"{self.url}/healthz", self.proc)
        trust = ssl.create_default_context(cafile=self.ca_bundle)
        wait_http(f"{self.https_url}/healthz", self.proc, verify=trust)

    @property
    def quickbooks(self) -> str:
        return f"{self.url}/quickbooks"

    def new_realm(self, customers: int = 50, seed: int = 1, invoices: int = 0) -> dict:
        response = httpx.post(
            f"{self.quickbooks}/_sandbox/realms",
            json={"customers": customers, "seed": seed, "invoices": invoices},
        )
        response.raise_for_status()
        return response.json()

    def quickbooks_connection_body(self, realm: dict) -> dict:
        """A POST /api/v1/connections body for a sandbox realm: configuration alone points at the sandbox."""
        return {
            "provider": "quickbooks",
            "config": {
                "realm_id": realm["realm_id"],
                "environment": "sandbox",
                "api_base_url": self.quickbooks,
                "discovery_url": f"{self.quickbooks}/.well-known/openid_sandbox_configuration",
                "client_id": realm["client_id"],
            },
            "credentials": {"client_secret": realm["client_secret"], "refresh_token": realm["refresh_token"]},
        }

    @property
    def xero(self) -> str:
        return f"{self.url}/xero"

    def new_xero_tenant(self, **spec) -> dict:
        """A fresh Xero organisation (`POST /xero/_sandbox/tenants` body) and the tokens of its consent."""
        response = httpx.post(f"{self.xero}/_sandbox/tenants", json=spec)
        response.raise_for_status()
        return response.json()

    def xero_connection_body(self, tenant: dict, **credentials: str) -> dict:
        """A POST /api/v1/connections body for a sandbox organisation (extra credentials: `webhook_key`)."""
        return {
            "provider": "xero",
            "config": {
                "tenant_id": tenant["tenant_id"],
                "client_id": tenant["client_id"],
                "accounting_url": f"{self.xero}/api.xro/2.0",
                "connections_url": f"{self.xero}/connections",
                "authorize_url": f"{self.xero}/identity/connect/authorize",
                "token_url": f"{self.xero}/identity/connect/token",
                "revocation_url": f"{self.xero}/identity/connect/revocation",
            },
            "credentials": {
                "client_secret": tenant["client_secret"],
                "refresh_token": tenant["refresh_token"],
                **credentials,
            },
        }

    @property
    def google(self) -> str:
        return f"{self.url}/google"

    def new_google_account(self, **spec) -> dict:
        """A Google user with calendars (`POST /google/_sandbox/accounts` body) and their consent's tokens."""
        response = httpx.post(f"{self.google}/_sandbox/accounts", json=spec)
        response.raise_for_status()
        return response.json()

    @property
    def stripe(self) -> str:
        """The Stripe emulator's API base (what a connection's `api_base_url` would be)."""
        return f"{self.url}/stripe"

    def new_stripe_account(self, **spec) -> dict:
        """A fresh Stripe account (`POST /stripe/_sandbox/accounts` body): `{account_id, secret_key, ...}`."""
        response = httpx.post(f"{self.stripe}/_sandbox/accounts", json=spec, timeout=60)
        response.raise_for_status()
        return response.json()

    def stripe_connection_body(self, account: dict, webhook_signing_secret: str = "whsec_unused") -> dict:
        """A POST /api/v1/connections body for a sandbox account: its configuration points at the sandbox."""
        return {
            "provider": "stripe",
            "config": {"account_id": account["account_id"], "api_base_url": self.stripe},
            "credentials": {
                "api_key": account["secret_key"],
                "webhook_signing_secret": webhook_signing_secret,
            },
        }

    @property
    def slack(self) -> str:
        """The Slack emulator's root: the Web API is `{slack}/api` (a connection's `api_base_url`)."""
        return f"{self.url}/slack"

    def slack_admin(self, method: str, path: str, **kwargs) -> dict:
        """The Slack emulator's admin API (not Slack), `/slack/_sandbox{path}`."""
        response = httpx.request(method, f"{self.slack}/_sandbox{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else {}

    def new_slack_workspace(self, **spec) -> dict:
        """A workspace with the app installed (`POST /slack/_sandbox/workspaces` body):
        `{team_id, bot_token, signing_secret, channels, ...}`."""
        return self.slack_admin("POST", "/workspaces", json=spec)

    def slack_messages(self, team_id: str, channel: str) -> list[dict]:
        return self.slack_admin("GET", f"/workspaces/{team_id}/channels/{channel}/messages")["messages"]

    @property
    def salesforce(self) -> str:
        """The Salesforce emulator's admin root (over http); its API answers over https (`https_url`)."""
        return f"{self.url}/salesforce"

    def salesforce_admin(self, method: str, path: str, **kwargs) -> dict:
        """The Salesforce emulator's admin API (not Salesforce), `/salesforce/_sandbox{path}`."""
        response = httpx.request(method, f"{self.salesforce}/_sandbox{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else {}

    def new_salesforce_org(self, **spec) -> dict:
        """An org with seeded records (`POST /salesforce/_sandbox/orgs` body) and its grant's tokens."""
        return self.salesforce_admin("POST", "/orgs", json=spec)

    def advance_clock(self, seconds: float) -> float:
        """Move the sandbox's clock (every vendor's) forward; returns its lead over the wall clock."""
        now = httpx.post(f"{self.url}/_sandbox/clock/advance", json={"seconds": seconds}, timeout=10).json()[
            "now"
        ]
        return now - time.time()

    def salesforce_connection_body(self, org: dict, **config) -> dict:
        """A POST /api/v1/connections body for a sandbox org, over https with the sandbox's CA bundle."""
        return {
            "provider": "salesforce",
            "config": {
                "org_id": org["org_id"],
                "instance_url": org["instance_url"],
                "login_url": f"{self.https_url}/salesforce",
                "client_id": org["client_id"],
                "ca_bundle": self.ca_bundle,
                **config,
            },
            "credentials": {"client_secret": org["client_secret"], "refresh_token": org["refresh_token"]},
        }

    @property
    def microsoft(self) -> str:
        """The Microsoft emulator over https (what msal and Graph clients are configured with)."""
        return f"{self.https_url}/microsoft"

    def microsoft_admin(self, method: str, path: str, **kwargs) -> dict:
        """The Microsoft emulator's admin API (not Microsoft), `/microsoft/_sandbox{path}`, over http."""
        response = httpx.request(method, f"{self.url}/microsoft/_sandbox{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else {}

    def new_microsoft_tenant(self, **spec) -> dict:
        """A tenant with users (`POST /microsoft/_sandbox/tenants` body) and each user's consent tokens."""
        return self.microsoft_admin("POST", "/tenants", json=spec)

    def microsoft_config(self, tenant: dict, user: dict, **overrides) -> dict:
        """A Microsoft 365 calendar connection's config: URLs at the sandbox's https port, its CA trusted."""
        return {
            "client_id": tenant["client_id"],
            "tenant_id": tenant["tenant_id"],
            "account_email": user["upn"],
            "authority_host": self.microsoft,
            "instance_discovery": False,  # msal's switch for a host Microsoft's discovery cannot vouch for
            "graph_url": f"{self.microsoft}/v1.0",
            "ca_bundle": self.ca_bundle,
            **overrides,
        }

    def microsoft_connection_body(self, tenant: dict, user: dict, **credentials: str) -> dict:
        """A POST /api/v1/connections body for a sandbox mailbox."""
        return {
            "provider": "microsoft_calendar",
            "config": self.microsoft_config(tenant, user),
            "credentials": {
                "client_secret": tenant["client_secret"],
                "refresh_token": user["refresh_token"],
                **credentials,
            },
        }

    def stop(self) -> None:
        stop(self.proc)
        self.log.close()
