"""deploy/compose: compose.yaml against the Compose Specification (check-jsonschema's vendored schema) and our
rules (deploy/checks/compose.py), the Dagster instance and workspace it mounts, and broken copies rejected."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config

from deploy.checks.compose import problems

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "deploy" / "compose"
COMPOSE = COMPOSE_DIR / "compose.yaml"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def load() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_file_matches_the_compose_specification() -> None:
    result = schema_check(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_file_passes_the_rules() -> None:
    assert problems(load()) == []


def test_the_stack_has_every_service_and_only_nginx_is_published() -> None:
    services = load()["services"]
    assert set(services) == {
        "postgres",
        "migrate",
        "dagster-migrate",
        "api",
        "dagster-code",
        "dagster-webserver",
        "dagster-daemon",
        "nginx",
    }
    assert services["migrate"]["entrypoint"] + services["migrate"]["command"] == [
        "python",
        "-m",
        "core_api.manage",
        "migrate",
    ]
    assert services["dagster-migrate"]["command"] == ["dagster", "instance", "migrate"]
    webserver = services["dagster-webserver"]["command"]
    assert webserver[webserver.index("--path-prefix") + 1] == "/dagster"
    assert [name for name, s in services.items() if s.get("ports")] == ["nginx"]
    # Everything but PostgreSQL reads the same env file; nothing is configured inline but non-secrets.
    for name in ("migrate", "api", "dagster-code", "dagster-webserver", "dagster-daemon"):
        assert services[name]["env_file"] == [{"path": "./firmsync.env", "required": True}]


def test_mounted_dagster_instance_is_valid_and_queues_runs_like_the_root_config(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("DAGSTER_PG_URL", "postgresql://u@/dagster?host=/tmp")
    compose_config, _ = dagster_instance_config(str(COMPOSE_DIR))
    root_config, _ = dagster_instance_config(str(ROOT))
    assert compose_config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    runs = compose_config["concurrency"]["runs"]
    assert runs["max_concurrent_runs"] > 0
    assert {limit["key"] for limit in runs["tag_concurrency_limits"]} >= {
        "dagster/partition",
        "firmsync/vendor",
    }
    for key in ("run_storage", "event_log_storage", "schedule_storage", "concurrency", "run_launcher"):
        assert compose_config[key] == root_config[key], key
    assert compose_config["compute_logs"]["config"]["base_dir"].startswith("/opt/dagster/storage")


def test_mounted_workspace_points_at_the_code_location_service() -> None:
    workspace = yaml.safe_load((COMPOSE_DIR / "workspace.yaml").read_text())
    server = workspace["load_from"][0]["grpc_server"]
    assert server["host"] == "dagster-code" and server["port"] == 4266
    assert "4266" in load()["services"]["dagster-code"]["expose"]


def test_a_file_that_breaks_the_specification_is_rejected(tmp_path: Path) -> None:
    broken = load()
    broken["services"]["api"]["depends_on"]["postgres"]["condition"] = "when_it_feels_like_it"
    broken["services"]["nginx"]["restart"] = ["always"]
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(broken))
    result = schema_check(path)
    assert result.returncode != 0
    assert "when_it_feels_like_it" in result.stdout + result.stderr


def _broken(change) -> list[str]:
    compose = copy.deepcopy(load())
    change(compose["services"])
    return problems(compose)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda s: s["api"]["depends_on"].update({"redis": {"condition": "service_healthy"}}),
            "unknown service",
        ),
        (lambda s: s["api"]["depends_on"]["migrate"].update(condition="service_started"), "should wait"),
        (lambda s: s["dagster-daemon"].pop("healthcheck"), "without a healthcheck"),
        (lambda s: [s["dagster-daemon"].pop(k) for k in ("healthcheck", "restart")], "without a healthcheck"),
        (lambda s: s["postgres"].update(image="postgres:latest"), "not pinned"),
        (lambda s: s["nginx"].update(image="nginx"), "not pinned"),
        (lambda s: s["dagster-webserver"].update(ports=["3000:3000"]), "publishes ports"),
        (lambda s: s["api"].update(environment={"FIRMSYNC_JWT_SECRET": "x" * 40}), "inline"),
        (lambda s: s["postgres"]["environment"].update(POSTGRES_PASSWORD="hunter2"), "inline"),
    ],
    ids=[
        "unknown-dep",
        "unhealthy-wait",
        "no-healthcheck",
        "no-restart-no-healthcheck",
        "latest",
        "untagged",
        "webserver-port",
        "jwt",
        "pgpw",
    ],
)
def test_a_broken_compose_file_is_rejected_by_the_rules(change, expected: str) -> None:
    assert any(expected in p for p in _broken(change)), _broken(change)
