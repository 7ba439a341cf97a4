from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from core_api.settings import Settings, describe_errors
from tests.support.processes import ROOT


def test_missing_and_malformed_variables_get_one_clear_line_each(monkeypatch):
    for name in ("FIRMSYNC_JWT_SECRET", "FIRMSYNC_ENCRYPTION_KEYS", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FIRMSYNC_ENCRYPTION_KEYS", "not-a-key")
    monkeypatch.setenv("DATABASE_URL", "mysql://nope")
    with pytest.raises(ValidationError) as exc:
        Settings()
    lines = describe_errors(exc.value)
    assert "FIRMSYNC_JWT_SECRET: is required but not set" in lines
    assert any(line.startswith("FIRMSYNC_ENCRYPTION_KEYS:") and "Fernet" in line for line in lines)
    assert any(line.startswith("DATABASE_URL:") and "PostgreSQL" in line for line in lines)
    assert len(lines) == 3


def test_the_api_refuses_to_start_with_bad_configuration(monkeypatch):
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "FIRMSYNC_ENCRYPTION_KEYS": "nope"}
    result = subprocess.run(
        [sys.executable, "-m", "core_api.manage", "check-config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "FIRMSYNC_JWT_SECRET: is required but not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_env_example_lists_every_variable_the_code_reads():
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, flags=re.M))
    from core_api.settings import _env_name

    # Each setting by its documented name: its first alias (DATABASE_URL, OTEL_*), else FIRMSYNC_*.
    wanted = {_env_name(f) for f in Settings.model_fields}
    from connectors.sandbox.settings import SandboxSettings

    wanted |= {f"SANDBOX_{f.upper()}" for f in SandboxSettings.model_fields if f != "port"} | {"SANDBOX_PORT"}
    used_by_launcher = set(
        re.findall(r'environ\.get\("([A-Z_]+)"', (ROOT / "deploy/local/stack.py").read_text())
    )
    wanted |= used_by_launcher | {"DAGSTER_PG_URL", "DAGSTER_HOME", "TEST_DATABASE_URL", "BENCH_DATABASE_URL"}
    assert wanted - listed == set()
