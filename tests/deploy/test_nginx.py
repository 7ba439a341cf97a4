"""deploy/compose/nginx.conf with real nginx (Debian's nginx-light, `make nginx`): `nginx -t` on the rendered
config (deploy/checks/nginx.py says what rendering changes), broken configs rejected, and nginx started
on free ports in front of the real core_api app (real database) and a stand-in Dagster webserver, proving that
/dagster/ answers 401 signed out, 403 to a non-operator, and passes an operator holding the console cookie."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy.orm import sessionmaker

from core_api.tenancy import Role
from deploy.checks.nginx import console_problems, nginx_binary, nginx_test, render
from tests.factories import PASSWORD, create_firm_user
from tests.support.processes import free_port, stop

ROOT = Path(__file__).resolve().parents[2]
CONF = (ROOT / "deploy" / "compose" / "nginx.conf").read_text()


def _self_signed(tls_dir: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    tls_dir.mkdir(parents=True, exist_ok=True)
    (tls_dir / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tls_dir / "privkey.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return tls_dir / "fullchain.pem"


def _render(tmp_path: Path, conf: str = CONF, **ports: int) -> Path:
    run_dir = tmp_path / "run"
    run_dir.mkdir(exist_ok=True)
    _self_signed(tmp_path / "tls")
    path = tmp_path / "nginx.conf"
    path.write_text(
        render(
            conf,
            api=f"127.0.0.1:{ports.get('api', 9)}",
            dagster=f"127.0.0.1:{ports.get('dagster', 9)}",
            http_port=ports.get("http", free_port()),
            https_port=ports.get("https", free_port()),
            tls_dir=tmp_path / "tls",
            run_dir=run_dir,
        )
    )
    return path


def test_nginx_accepts_the_rendered_config(tmp_path: Path) -> None:
    result = nginx_test(_render(tmp_path), tmp_path / "run")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("location = /dagster {", "location = /dagster "),  # unbalanced braces
        ("auth_request /_operator_auth;", "auth_request_bogus /_operator_auth;"),  # unknown directive
        ("proxy_pass http://dagster_webserver;", "proxy_pass http://no_such_upstream;"),  # unresolvable host
    ],
)
def test_nginx_rejects_a_broken_config(tmp_path: Path, old: str, new: str) -> None:
    assert old in CONF
    result = nginx_test(_render(tmp_path, CONF.replace(old, new)), tmp_path / "run")
    assert result.returncode != 0


def test_render_refuses_a_config_that_drifted(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="server api:8000"):
        _render(tmp_path, CONF.replace("server api:8000;", "server api:8080;"))


def test_console_is_gated_and_a_removed_gate_is_caught() -> None:
    assert console_problems(CONF) == []
    assert console_problems(CONF.replace("auth_request /_operator_auth;", "")) == [
        "`location /dagster/` is not behind auth_request"
    ]
    assert "is not internal" in console_problems(CONF.replace("internal;", ""))[0]
    assert "does not ask" in console_problems(CONF.replace("/api/v1/auth/operator;", "/healthz;"))[0]


# --- real nginx in front of the real API ----------------------------------------------------------------


class _FakeDagster(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:
        _FakeDagster.seen.append(self.path)
        body = f"dagster-ui {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Proxy:
    https: str
    http: str
    ca: Path


@pytest.fixture
def proxy(tmp_path: Path, app_connection, settings) -> Iterator[Proxy]:
    from core_api.app import create_app
    from core_api.auth.dependencies import db_sessions

    app = create_app(settings)
    factory = sessionmaker(
        bind=app_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.dependency_overrides[db_sessions] = lambda: factory
    api_port, dagster_port, http_port, https_port = free_port(), free_port(), free_port(), free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=api_port,
            log_level="warning",
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1",
        )
    )
    api_thread = threading.Thread(target=server.run, daemon=True)
    api_thread.start()
    dagster = http.server.ThreadingHTTPServer(("127.0.0.1", dagster_port), _FakeDagster)
    threading.Thread(target=dagster.serve_forever, daemon=True).start()
    _FakeDagster.seen = []
    conf = _render(tmp_path, api=api_port, dagster=dagster_port, http=http_port, https=https_port)
    nginx = subprocess.Popen(
        [
            nginx_binary(),
            "-c",
            str(conf),
            "-p",
            str(tmp_path / "run"),
            "-e",
            str(tmp_path / "run" / "error.log"),
            "-g",
            "daemon off;",
        ],
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (server.started and _answers(f"http://127.0.0.1:{http_port}")):
            assert nginx.poll() is None, (tmp_path / "run" / "error.log").read_text()
            assert time.monotonic() < deadline, "nginx or the API did not start"
            time.sleep(0.1)
        yield Proxy(
            f"https://127.0.0.1:{https_port}",
            f"http://127.0.0.1:{http_port}",
            tmp_path / "tls" / "fullchain.pem",
        )
    finally:
        stop(nginx)
        dagster.shutdown()
        server.should_exit = True
        api_thread.join(timeout=10)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/nginx-health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _login(client: httpx.Client, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_dagster_ui_only_for_operators_through_nginx(proxy: Proxy, app_connection, operator_firms) -> None:
    admin = create_firm_user(app_connection, role=Role.firm_admin)
    operator_firms.append(admin.firm_id)
    staff = create_firm_user(app_connection, role=Role.staff)
    tenant_admin = create_firm_user(app_connection, role=Role.firm_admin)
    with httpx.Client(
        base_url=proxy.https, verify=ssl.create_default_context(cafile=str(proxy.ca)), timeout=10
    ) as client:
        # The SPA and API at / come from core_api.
        assert client.get("/healthz").json() == {"status": "ok"}
        # Signed out: 401, and the Dagster webserver never sees the request.
        assert client.get("/dagster/runs").status_code == 401
        assert _FakeDagster.seen == []
        # A signed-in non-operator: 403 with the bearer, and no console cookie for them.
        staff_headers = _login(client, staff.email)
        assert client.get("/dagster/runs", headers=staff_headers).status_code == 403
        assert client.post("/api/v1/auth/operator-session", headers=staff_headers).status_code == 403
        # The admin of a firm that does not operate the platform: refused too (every firm's runs are there).
        assert client.get("/dagster/runs", headers=_login(client, tenant_admin.email)).status_code == 403
        assert _FakeDagster.seen == []
        # An operator trades the bearer for the console cookie (Secure: nginx said https), then navigates.
        opened = client.post("/api/v1/auth/operator-session", headers=_login(client, admin.email))
        assert opened.status_code == 204
        assert "secure" in {p.strip().lower() for p in opened.headers["set-cookie"].split(";")}
        cookie = opened.headers["set-cookie"].split(";")[0]
        client.cookies.clear()
        page = client.get("/dagster/runs?view=all", headers={"Cookie": cookie})
        assert page.status_code == 200 and page.text == "dagster-ui /dagster/runs?view=all"
        assert client.get("/dagster", headers={"Cookie": cookie}).headers["location"].endswith("/dagster/")
    # Plain http redirects to https.
    redirect = httpx.get(f"{proxy.http}/dagster/", timeout=5)
    assert redirect.status_code == 301 and redirect.headers["location"].startswith("https://")
