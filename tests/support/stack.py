"""The whole stack as `make run` starts it (deploy/local/stack.py), as a process the e2e tests drive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.processes import ROOT, free_port

DEMO = {"email": "admin@demo.firmsync.test", "password": "demo-password"}
PORT_VARIABLES = (
    "FIRMSYNC_API_PORT",
    "SANDBOX_PORT",
    "SANDBOX_TLS_PORT",
    "DAGSTER_WEBSERVER_PORT",
    "DAGSTER_GRPC_PORT",
    "MOTO_PORT",
    "LDAP_PORT",
    "LDAPS_PORT",
)


def stack_ports() -> dict[str, int]:
    """Free ports for every server, so a test stack never meets a `make run` left running."""
    return {name: free_port() for name in PORT_VARIABLES}


class RunningStack:
    def __init__(self, data_dir: Path, ports: dict[str, int]) -> None:
        self.ports = ports
        self.api = f"http://127.0.0.1:{ports['FIRMSYNC_API_PORT']}"
        self.dagster = f"http://127.0.0.1:{ports['DAGSTER_WEBSERVER_PORT']}"
        self.sandbox = f"http://127.0.0.1:{ports['SANDBOX_PORT']}"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("FIRMSYNC_", "DAGSTER_", "SANDBOX_", "MOTO_"))
        }
        env.pop("DATABASE_URL", None)  # the stack must start its own embedded PostgreSQL, as `make run` does
        env.update({k: str(v) for k, v in ports.items()}, FIRMSYNC_DATA_DIR=str(data_dir))
        self.log_path = data_dir.parent / f"stack-{time.time_ns()}.log"
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "deploy/local/stack.py"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"stack exited early:\n{self.output()[-4000:]}"
            if "firmsync is running." in self.output():
                return
            time.sleep(1)
        raise AssertionError(f"stack not ready in {timeout}s:\n{self.output()[-4000:]}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=90)
        finally:
            self.log.close()
