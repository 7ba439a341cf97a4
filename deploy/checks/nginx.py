"""deploy/compose/nginx.conf for tests: a rendered copy that real nginx can load on this machine, and the
console rule (/dagster/ behind auth_request to core_api's operator gate).

Rendering replaces exactly what only exists inside compose: the upstream service names (api,
dagster-webserver) become 127.0.0.1 ports, the listen ports become free local ones, the TLS files, logs and
pid/temp paths move into a temporary directory. Nothing else changes, and each replaced string must be
present, so a drifted config fails the render instead of being silently tested as something else.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/bin/nginx")
GATE = "/api/v1/auth/operator"


def nginx_binary() -> str:
    found = next((c for c in NGINX_CANDIDATES if Path(c).is_file()), None) or shutil.which("nginx")
    if not found:
        raise FileNotFoundError("nginx is not installed: `make nginx` installs Debian's nginx-light")
    return found


def render(
    conf: str, *, api: str, dagster: str, http_port: int, https_port: int, tls_dir: Path, run_dir: Path
) -> str:
    replacements = [
        ("server api:8000;", f"server {api};", 1),
        ("server dagster-webserver:3000;", f"server {dagster};", 1),
        ("listen 80;", f"listen 127.0.0.1:{http_port};", 1),
        ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;", 1),
        ("/etc/nginx/tls/", f"{tls_dir}/", 2),
        ("pid /var/run/nginx.pid;", f"pid {run_dir}/nginx.pid;", 1),
        ("access_log /dev/stdout;", f"access_log {run_dir}/access.log;", 1),
    ]
    for old, new, count in replacements:
        if conf.count(old) != count:
            raise ValueError(f"nginx.conf: expected {count} x {old!r}, found {conf.count(old)}")
        conf = conf.replace(old, new)
    temp = "".join(
        f"    {kind}_temp_path {run_dir}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return conf.replace("http {\n", "http {\n" + temp, 1)


def nginx_test(conf_path: Path, run_dir: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on a config file: the real parser, modules and certificate loading."""
    return subprocess.run(
        [
            nginx_binary(),
            "-t",
            "-q",
            "-c",
            str(conf_path),
            "-p",
            str(run_dir),
            "-e",
            str(run_dir / "error.log"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _block(conf: str, header: str) -> str | None:
    """The body of the first `header {…}` block (braces balanced), or None."""
    match = re.search(re.escape(header) + r"\s*\{", conf)
    if match is None:
        return None
    depth, start = 1, match.end()
    for i in range(start, len(conf)):
        depth += {"{": 1, "}": -1}.get(conf[i], 0)
        if depth == 0:
            return conf[start:i]
    return None


def console_problems(conf: str) -> list[str]:
    """The Dagster UI location must be gated by auth_request on an internal location that asks the gate."""
    problems: list[str] = []
    console = _block(conf, "location /dagster/")
    if console is None:
        return ["no `location /dagster/` for the Dagster UI"]
    auth = re.search(r"^\s*auth_request\s+(\S+);", console, re.MULTILINE)
    if auth is None or auth.group(1) == "off":
        return ["`location /dagster/` is not behind auth_request"]
    target = _block(conf, f"location = {auth.group(1)}")
    if target is None:
        return [f"auth_request names {auth.group(1)}, which has no exact location"]
    if not re.search(r"^\s*internal;", target, re.MULTILINE):
        problems.append(f"{auth.group(1)} is not internal")
    if not re.search(rf"proxy_pass\s+http://firmsync_api{re.escape(GATE)};", target):
        problems.append(f"{auth.group(1)} does not ask core_api's {GATE}")
    if "proxy_pass_request_body off;" not in target:
        problems.append(f"{auth.group(1)} forwards request bodies to the gate")
    return problems
