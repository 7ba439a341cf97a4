from __future__ import annotations

import shutil

from dagster._core.instance.config import dagster_instance_config

from tests.support.processes import ROOT


def test_dagster_yaml_is_valid_and_on_postgres(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_PG_URL", "postgresql://u@/dagster?host=/tmp")
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    config, _ = dagster_instance_config(str(tmp_path))
    for key in ("run_storage", "event_log_storage", "schedule_storage"):
        assert (
            "dagster_postgres" in config[key]["module"]
            or config[key]["module"] == "pipelines.dagster_storage"
        )
        assert config[key]["config"]["postgres_url"] == {"env": "DAGSTER_PG_URL"}
    assert config["event_log_storage"]["class"] == "PooledPostgresEventLogStorage"
    runs = config["concurrency"]["runs"]
    assert {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in runs[
        "tag_concurrency_limits"
    ]
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"


def test_workspace_points_at_a_grpc_code_server():
    text = (ROOT / "workspace.yaml").read_text()
    assert "grpc_server:" in text and "${DAGSTER_GRPC_PORT}" in text
