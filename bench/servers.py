"""The vendor sandbox as a real process for a benchmark: a free port, its admin API, stopped by PID.

The same shape as tests/support/processes.py (which benchmarks do not import: `bench/` must run from
a clone without the test tree on the path). The sandbox's own output goes to this process's stderr,
so a benchmark's stdout stays one JSON line.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sandbox_command(port: int, *, tls_port: int | None = None, tls_dir: Path | None = None) -> list[str]:
    """The vendor sandbox on 127.0.0.1:<port> (and https on <tls_port>), as benches and tests start it."""
    command = [sys.executable, "-m", "connectors.sandbox", "--host", "127.0.0.1", "--port", str(port)]
    if tls_port is not None:
        command += ["--tls-port", str(tls_port)]
    if tls_dir is not None:
        command += ["--tls-dir", str(tls_dir)]
    return [*command, "--log-level", "warning"]


class Sandbox:
    """`python -m connectors.sandbox` on a free port; use as a context manager."""

    def __init__(self, env: dict[str, str] | None = None, *, start_timeout: float = 60.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.quickbooks = f"{self.url}/quickbooks"
        self.proc = subprocess.Popen(
            sandbox_command(self.port),
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=sys.stderr.fileno(),
            stderr=sys.stderr.fileno(),
            start_new_session=True,
        )
        # Seeding 100k customers takes a while; admin calls get a generous timeout.
        self.http = httpx.Client(base_url=self.quickbooks, timeout=600.0)
        try:
            self._wait_ready(start_timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sandbox exited with {self.proc.returncode} before it was ready")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"sandbox not ready on {self.url} after {timeout}s")

    def stop(self, timeout: float = 20.0) -> None:
        self.http.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: the group is just the sandbox
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---- QuickBooks admin API (/quickbooks/_sandbox)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/_sandbox{path}", **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def new_realm(self, customers: int = 0, seed: int = 0) -> dict[str, Any]:
        """A new company with tokens: realm_id, client_id, client_secret, access/refresh tokens."""
        return self._call("POST", "/realms", json={"customers": customers, "seed": seed})

    def add_customers(self, realm_id: str, count: int, seed: int = 0) -> dict[str, Any]:
        return self._call("POST", f"/realms/{realm_id}/customers/bulk", json={"count": count, "seed": seed})

    def add_invoices(self, realm_id: str, count: int, seed: int = 0, **spread: float) -> dict[str, Any]:
        """Invoices for active customers, some paid. ``spread``: days, paid_share, partly_paid_share."""
        return self._call(
            "POST", f"/realms/{realm_id}/invoices/bulk", json={"count": count, "seed": seed, **spread}
        )

    def touch_customers(self, realm_id: str, count: int, seed: int = 0) -> dict[str, Any]:
        return self._call("POST", f"/realms/{realm_id}/customers/touch", json={"count": count, "seed": seed})

    def set_limits(self, realm_id: str, **limits: int) -> dict[str, Any]:
        return self._call("PUT", f"/realms/{realm_id}/limits", json=limits)

    def stats(self, realm_id: str) -> dict[str, Any]:
        """`{"total", "by_status": {"200": n, "429": n, …}, "by_path"}` since the last reset."""
        return self._call("GET", f"/realms/{realm_id}/stats")

    def reset_stats(self, realm_id: str) -> None:
        self._call("DELETE", f"/realms/{realm_id}/stats")

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox clock (every vendor's) forward; real time is untouched."""
        response = httpx.post(f"{self.url}/_sandbox/clock/advance", json={"seconds": seconds}, timeout=30)
        response.raise_for_status()

    def quickbooks_config(self, realm: dict[str, Any], **overrides: Any) -> dict[str, Any]:
        """A QuickBooksConfig for a sandbox realm: configuration alone points the client here."""
        return {
            "realm_id": realm["realm_id"],
            "environment": "sandbox",
            "api_base_url": self.quickbooks,
            "discovery_url": f"{self.quickbooks}/.well-known/openid_sandbox_configuration",
            "client_id": realm["client_id"],
            **overrides,
        }
