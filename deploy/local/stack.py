"""`make run`: the whole firmsync stack on one machine, in the production topology.

Starts (or reuses) the embedded PostgreSQL when DATABASE_URL is unset, migrates the app schema and
Dagster's instance storage, seeds the demo firm, then runs: the sandbox vendors, the API, a Dagster
code-location gRPC server, dagster-webserver and dagster-daemon. Ctrl-C or SIGTERM stops all of them
(and the embedded database). Everything lives under FIRMSYNC_DATA_DIR (default ./.data), so a second
run reuses the data. The end-to-end tests start the stack through this same script.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass
class Ports:
    api: int = int(os.environ.get("FIRMSYNC_API_PORT", 8000))
    sandbox: int = int(os.environ.get("SANDBOX_PORT", 8900))
    sandbox_tls: int = int(os.environ.get("SANDBOX_TLS_PORT", 8943))
    webserver: int = int(os.environ.get("DAGSTER_WEBSERVER_PORT", 3000))
    grpc: int = int(os.environ.get("DAGSTER_GRPC_PORT", 4266))
    moto: int = int(os.environ.get("MOTO_PORT", 8901))
    ldap: int = int(os.environ.get("LDAP_PORT", 8389))
    ldaps: int = int(os.environ.get("LDAPS_PORT", 8636))


@dataclass
class Stack:
    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    children: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    embedded: object | None = None
    stopping: bool = False

    # ---- preparation -------------------------------------------------------------------------

    def load_secrets(self) -> None:
        """Dev secrets, generated once per data dir and reused; explicit environment wins."""
        path = self.data_dir / "secrets.env"
        if not path.exists():
            path.write_text(
                f"FIRMSYNC_JWT_SECRET={secrets.token_urlsafe(48)}\n"
                f"FIRMSYNC_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
            )
            path.chmod(0o600)
        for line in path.read_text().splitlines():
            key, _, value = line.partition("=")
            self.env.setdefault(key, value)

    def database(self) -> None:
        if self.env.get("DATABASE_URL"):
            self.env.setdefault("DAGSTER_PG_URL", self.env["DATABASE_URL"].replace("+psycopg", ""))
            return
        from core_api import embedded_db

        step("starting embedded PostgreSQL")
        self.embedded = embedded_db.start(self.data_dir, stop_on_exit=False)
        self.env["DATABASE_URL"] = self.embedded.url(embedded_db.APP_DATABASE)
        self.env["DAGSTER_PG_URL"] = self.embedded.url(embedded_db.DAGSTER_DATABASE)

    def dagster_home(self) -> None:
        home = self.data_dir / "dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        (home / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
        workspace = (
            (ROOT / "workspace.yaml").read_text().replace("${DAGSTER_GRPC_PORT}", str(self.ports.grpc))
        )
        (home / "workspace.yaml").write_text(workspace)
        self.env["DAGSTER_HOME"] = str(home)

    def run_once(self, name: str, *args: str) -> None:
        step(name)
        log = self.data_dir / "logs" / f"{name.replace(' ', '_')}.log"
        with log.open("ab") as out:
            result = subprocess.run(args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        if result.returncode != 0:
            raise StartupError(name, log)

    # ---- long-running processes ---------------------------------------------------------------

    def start(self, name: str, *args: str) -> None:
        log = (self.data_dir / "logs" / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: we stop it and everything it spawned
            preexec_fn=_default_signals,
        )
        self.children.append((name, proc))

    def wait_http(self, name: str, url: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_children()
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise StartupError(name, self.data_dir / "logs" / f"{name}.log")

    def wait_grpc(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_children()
            probe = subprocess.run(
                [
                    str(BIN / "dagster"),
                    "api",
                    "grpc-health-check",
                    "-p",
                    str(self.ports.grpc),
                    "-h",
                    "127.0.0.1",
                ],
                env=self.env,
                capture_output=True,
            )
            if probe.returncode == 0:
                return
            time.sleep(1)
        raise StartupError("code-server", self.data_dir / "logs" / "code-server.log")

    def check_children(self) -> None:
        for name, proc in self.children:
            if proc.poll() is not None and not self.stopping:
                raise StartupError(name, self.data_dir / "logs" / f"{name}.log", exited=proc.returncode)

    def stop(self) -> None:
        self.stopping = True
        for _name, proc in reversed(self.children):
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _name, proc in reversed(self.children):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
        if self.embedded is not None:
            self.embedded.stop()  # type: ignore[attr-defined]
            self.embedded = None

    def directory(self) -> None:
        """The demo firm's Active Directory: Debian's slapd playing a domain (directory_server.py),
        its data kept under the data dir. Without slapd (`make slapd` installs it): no demo directory."""
        from deploy.local.directory_server import SLAPD, LdapServer, seed_demo_domain

        if not os.access(SLAPD, os.X_OK):
            step("slapd is not installed: the demo firm gets no Active Directory connection (make slapd)")
            return
        step(
            f"starting directory server (slapd playing Active Directory) on ldaps://127.0.0.1:{self.ports.ldaps}"
        )
        server = LdapServer(
            directory=self.data_dir / "ldap", port=self.ports.ldap, ldaps_port=self.ports.ldaps
        )
        self.children.append(("directory", server.proc))
        body = seed_demo_domain(server)
        server.directory_writer.close()
        self.env["FIRMSYNC_DEMO_DIRECTORY"] = json.dumps(body)

    def s3(self) -> None:
        """Documents' S3: moto in server mode, unless FIRMSYNC_S3_ENDPOINT_URL names another endpoint."""
        if self.env.get("FIRMSYNC_S3_ENDPOINT_URL"):
            return
        url = f"http://127.0.0.1:{self.ports.moto}"
        step(f"starting S3 (moto) on {url}")
        self.start("moto", sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.ports.moto))
        self.env["FIRMSYNC_S3_ENDPOINT_URL"] = url
        self.env["FIRMSYNC_S3_CREATE_BUCKET"] = "true"  # moto starts empty: the API creates the bucket
        self.env.setdefault("FIRMSYNC_S3_ACCESS_KEY_ID", "firmsync-dev")
        self.env.setdefault("FIRMSYNC_S3_SECRET_ACCESS_KEY", "firmsync-dev")
        self.wait_http("moto", f"{url}/moto-api/")

    def operators(self) -> None:
        """The demo firm operates this stack: its admin gets the Dagster UI (FIRMSYNC_OPERATOR_FIRM_IDS)."""
        if self.env.get("FIRMSYNC_OPERATOR_FIRM_IDS"):
            return
        import psycopg

        from core_api.demo import DEMO_SLUG

        with psycopg.connect(self.env["DATABASE_URL"].replace("+psycopg", "")) as conn:
            row = conn.execute("select id from app.firms where slug = %s", (DEMO_SLUG,)).fetchone()
        if row is not None:
            self.env["FIRMSYNC_OPERATOR_FIRM_IDS"] = json.dumps([str(row[0])])

    # ---- the whole sequence -------------------------------------------------------------------

    def up(self) -> None:
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        self.load_secrets()
        self.database()
        self.dagster_home()
        py = sys.executable
        sandbox_url = f"http://127.0.0.1:{self.ports.sandbox}"
        self.env["FIRMSYNC_SANDBOX_URL"] = sandbox_url
        tls_dir = self.data_dir / "sandbox-tls"
        self.env["FIRMSYNC_SANDBOX_TLS_URL"] = f"https://localhost:{self.ports.sandbox_tls}"
        self.env["FIRMSYNC_SANDBOX_CA_BUNDLE"] = str(tls_dir / "ca.pem")
        self.env["FIRMSYNC_DATA_DIR"] = str(self.data_dir)
        # "Connect QuickBooks/Xero" goes through the sandbox's OAuth apps, back to this API's callback.
        api_url = f"http://127.0.0.1:{self.ports.api}"
        apps = sandbox_oauth_apps(
            sandbox_url,
            tls_url=self.env["FIRMSYNC_SANDBOX_TLS_URL"],
            ca_bundle=self.env["FIRMSYNC_SANDBOX_CA_BUNDLE"],
        )
        self.env.setdefault("FIRMSYNC_OAUTH_APPS", json.dumps(apps))
        self.env.setdefault("FIRMSYNC_OAUTH_REDIRECT_BASE_URL", api_url)
        self.env.setdefault("FIRMSYNC_APP_URL", api_url)  # the SPA, served by the API (frontend/dist)
        self.env.setdefault("FIRMSYNC_DAGSTER_UI_URL", f"http://127.0.0.1:{self.ports.webserver}")

        self.run_once("migrate app schema", py, "-m", "core_api.manage", "migrate")
        self.run_once("migrate dagster storage", str(BIN / "dagster"), "instance", "migrate")

        step(f"starting sandbox vendors on {sandbox_url}")
        self.start(
            "sandbox",
            py,
            "-m",
            "connectors.sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.ports.sandbox),
            "--tls-port",
            str(self.ports.sandbox_tls),
            "--tls-dir",
            str(tls_dir),
        )
        self.wait_http("sandbox", f"{sandbox_url}/healthz")
        self.directory()
        self.run_once(
            "seed demo firm", py, "-m", "core_api.manage", "seed-demo", "--sandbox-url", sandbox_url
        )
        self.operators()

        self.s3()
        step(f"starting API on http://127.0.0.1:{self.ports.api}")
        self.start(
            "api",
            py,
            "-m",
            "uvicorn",
            "--factory",
            "core_api.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.ports.api),
            "--no-access-log",
        )
        step(f"starting Dagster code server (gRPC :{self.ports.grpc}), webserver and daemon")
        self.start(
            "code-server",
            str(BIN / "dagster"),
            "api",
            "grpc",
            "-m",
            "pipelines.definitions",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.ports.grpc),
        )
        self.wait_http("api", f"http://127.0.0.1:{self.ports.api}/readyz")
        self.wait_grpc()
        workspace = str(Path(self.env["DAGSTER_HOME"]) / "workspace.yaml")
        self.start(
            "dagster-webserver",
            str(BIN / "dagster-webserver"),
            "-w",
            workspace,
            "-h",
            "127.0.0.1",
            "-p",
            str(self.ports.webserver),
        )
        self.start("dagster-daemon", str(BIN / "dagster-daemon"), "run", "-w", workspace)
        self.wait_http("dagster-webserver", f"http://127.0.0.1:{self.ports.webserver}/server_info")

    def banner(self) -> str:
        email = self.env.get("FIRMSYNC_DEMO_EMAIL", "admin@demo.firmsync.test")
        password = self.env.get("FIRMSYNC_DEMO_PASSWORD", "demo-password")
        return "\n".join(
            [
                "",
                "firmsync is running.",
                f"  App        http://127.0.0.1:{self.ports.api}  (the SPA; API reference at /docs)",
                f"  Dagster UI http://127.0.0.1:{self.ports.webserver}",
                f"  Sandbox    http://127.0.0.1:{self.ports.sandbox}  (https://localhost:{self.ports.sandbox_tls},"
                f" CA {self.data_dir / 'sandbox-tls' / 'ca.pem'})",
                f"  Log in     {email}  /  {password}  (as firm admin; or POST /api/v1/auth/login)",
                f"  Directory  ldaps://127.0.0.1:{self.ports.ldaps} (slapd playing Active Directory; CA in"
                f" {self.data_dir / 'ldap' / 'tls' / 'ca.pem'})",
                f"  Data       {self.data_dir}   logs: {self.data_dir / 'logs'}",
                "Press Ctrl-C to stop everything.",
                "",
            ]
        )


class StartupError(RuntimeError):
    def __init__(self, name: str, log: Path, exited: int | None = None) -> None:
        tail = log.read_text(errors="replace").splitlines()[-30:] if log.exists() else []
        what = f"exited with {exited}" if exited is not None else "failed"
        super().__init__(f"{name} {what}; last lines of {log}:\n" + "\n".join(tail))


def _default_signals() -> None:
    # Dagster processes ignore SIGINT/SIGTERM if they inherit SIG_IGN (e.g. from a background shell).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def sandbox_oauth_apps(
    sandbox_url: str, *, tls_url: str | None = None, ca_bundle: str | None = None
) -> dict[str, dict]:
    """FIRMSYNC_OAUTH_APPS for the sandbox: its one QuickBooks, Xero, Google and Slack app (the sandbox's own
    settings, so SANDBOX_* overrides apply to both sides), with every base URL on the sandbox — and, given
    its https URL and CA file, its Microsoft app (msal insists on https)."""
    from connectors.sandbox.settings import SandboxSettings

    sandbox = SandboxSettings()
    qbo, xero, slack = f"{sandbox_url}/quickbooks", f"{sandbox_url}/xero", f"{sandbox_url}/slack"
    google = f"{sandbox_url}/google"
    microsoft = {}
    if tls_url and ca_bundle:
        base = f"{tls_url}/microsoft"
        microsoft["microsoft_calendar"] = {
            "client_id": sandbox.microsoft_client_id,
            "client_secret": sandbox.microsoft_client_secret.get_secret_value(),
            "config": {
                "authority_host": base,
                "tenant_id": "organizations",
                "instance_discovery": False,
                "graph_url": f"{base}/v1.0",
                "ca_bundle": ca_bundle,
            },
        }
    return {
        **microsoft,
        "quickbooks": {
            "client_id": sandbox.qbo_client_id,
            "client_secret": sandbox.qbo_client_secret.get_secret_value(),
            "config": {
                "environment": "sandbox",
                "api_base_url": qbo,
                "discovery_url": f"{qbo}/.well-known/openid_sandbox_configuration",
            },
        },
        "xero": {
            "client_id": sandbox.xero_client_id,
            "client_secret": sandbox.xero_client_secret.get_secret_value(),
            "config": {
                "accounting_url": f"{xero}/api.xro/2.0",
                "connections_url": f"{xero}/connections",
                "authorize_url": f"{xero}/identity/connect/authorize",
                "token_url": f"{xero}/identity/connect/token",
                "revocation_url": f"{xero}/identity/connect/revocation",
            },
        },
        # A staff member connects their own calendar; the sandbox's consent screen approves as its demo user.
        "google_calendar": {
            "client_id": sandbox.google_client_id,
            "client_secret": sandbox.google_client_secret.get_secret_value(),
            "config": {
                "api_endpoint": f"{google}/calendar/v3/",
                "authorize_url": f"{google}/o/oauth2/v2/auth",
                "token_url": f"{google}/token",
                "revocation_url": f"{google}/revoke",
            },
        },
        # The sandbox's consent screen installs into its demo workspace, whose signing secret this is.
        "slack": {
            "client_id": sandbox.slack_client_id,
            "client_secret": sandbox.slack_client_secret.get_secret_value(),
            "config": {
                "authorize_url": f"{slack}/oauth/v2/authorize",
                "api_base_url": f"{slack}/api",
                "signing_secret": sandbox.slack_demo_signing_secret.get_secret_value(),
                "channel": "firmsync-alerts",
            },
        },
    }


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def main() -> int:
    data_dir = Path(os.environ.get("FIRMSYNC_DATA_DIR", ROOT / ".data")).resolve()
    stack = Stack(data_dir=data_dir)

    def _stop(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        stack.up()
        print(stack.banner(), flush=True)
        while True:
            stack.check_children()
            time.sleep(1)
    except KeyboardInterrupt:
        step("stopping")
        return 0
    except StartupError as exc:
        print(f"firmsync: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
