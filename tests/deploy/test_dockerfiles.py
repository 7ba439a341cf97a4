"""deploy/docker/*.Dockerfile: hadolint (warnings fail) and our own rules (deploy/checks/dockerfiles.py), on
the real files and on broken copies that must be rejected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deploy.checks.dockerfiles import base_image_problems, context_problems, runtime_problems

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "deploy" / "docker"
API = DOCKER / "api.Dockerfile"
DAGSTER = DOCKER / "dagster.Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HADOLINT), "--config", str(ROOT / ".hadolint.yaml"), "--no-color", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("path", [API, DAGSTER], ids=lambda p: p.name)
def test_hadolint_passes_with_warnings_as_failures(path: Path) -> None:
    result = hadolint(path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", [API, DAGSTER], ids=lambda p: p.name)
def test_rules_pass(path: Path) -> None:
    assert base_image_problems(path) == []
    assert runtime_problems(path, requires_spa=path == API) == []
    assert context_problems(path, ROOT) == []


def test_api_image_builds_the_spa_in_a_node_stage_and_syncs_from_the_lock() -> None:
    text = API.read_text()
    assert "FROM node:20." in text and "npm ci" in text and "npm run build" in text
    assert "uv sync --locked --no-dev" in text


def test_dagster_image_serves_the_real_code_location() -> None:
    text = DAGSTER.read_text()
    assert '"--module-name", "pipelines.definitions"' in text
    assert "pipelines.definitions" in (ROOT / "workspace.yaml").read_text()
    assert '"grpc-health-check"' in text


def broken(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text()
    assert old in text, f"{old!r} not in {source.name}: update this test"
    target = tmp_path / source.name
    target.write_text(text.replace(old, new))
    return target


def test_unpinned_base_is_rejected_by_both_checks(tmp_path: Path) -> None:
    bad = broken(
        tmp_path, API, "FROM python:3.11.13-slim-bookworm AS runtime", "FROM python:latest AS runtime"
    )
    assert any("latest" in p for p in base_image_problems(bad))
    assert "DL3007" in hadolint(bad).stdout


def test_untagged_and_minor_only_bases_are_rejected(tmp_path: Path) -> None:
    bad = broken(tmp_path, DAGSTER, "FROM python:3.11.13-slim-bookworm AS runtime", "FROM python AS runtime")
    assert any("no tag" in p for p in base_image_problems(bad))
    loose = broken(
        tmp_path, DAGSTER, "FROM python:3.11.13-slim-bookworm AS runtime", "FROM python:3.11 AS runtime"
    )
    assert any("exact" in p for p in base_image_problems(loose))


def test_a_digest_pin_is_accepted(tmp_path: Path) -> None:
    digest = "sha256:" + "a" * 64
    pinned = broken(
        tmp_path,
        DAGSTER,
        "FROM python:3.11.13-slim-bookworm AS runtime",
        f"FROM python:3.11.13-slim-bookworm@{digest} AS runtime",
    )
    assert base_image_problems(pinned) == []


@pytest.mark.parametrize("user", ["USER 0", "USER 0:0", "USER root"])
def test_root_user_is_rejected_by_both_checks(tmp_path: Path, user: str) -> None:
    bad = broken(tmp_path, API, "USER 10001:10001", user)
    assert any("root" in p or "not numeric" in p for p in runtime_problems(bad, requires_spa=True))
    assert "DL3002" in hadolint(bad).stdout


def test_missing_user_is_rejected(tmp_path: Path) -> None:
    bad = broken(tmp_path, DAGSTER, "USER 10001:10001\n", "")
    assert any("no USER" in p for p in runtime_problems(bad))


def test_missing_healthcheck_is_rejected(tmp_path: Path) -> None:
    text = DAGSTER.read_text()
    start = text.index("HEALTHCHECK")
    end = text.index("\n", text.index("CMD [", start)) + 1
    bad = tmp_path / "dagster.Dockerfile"
    bad.write_text(text[:start] + text[end:])
    assert any("HEALTHCHECK" in p for p in runtime_problems(bad))


def test_single_stage_and_missing_spa_are_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "single.Dockerfile"
    bad.write_text(
        "FROM python:3.11.13-slim-bookworm\nUSER 10001\nEXPOSE 8000\n"
        'HEALTHCHECK CMD ["true"]\nCMD ["python"]\n'
    )
    problems = runtime_problems(bad, requires_spa=True)
    assert any("multi-stage" in p for p in problems)
    assert any("frontend/dist" in p for p in problems)


def test_baked_secret_is_rejected(tmp_path: Path) -> None:
    bad = broken(
        tmp_path, API, "PYTHONUNBUFFERED=1 \\", "PYTHONUNBUFFERED=1 \\\n    FIRMSYNC_JWT_SECRET=abc \\"
    )
    assert any("secret" in p for p in runtime_problems(bad, requires_spa=True))


def test_copying_what_the_context_lacks_or_dockerignore_drops_is_rejected(tmp_path: Path) -> None:
    missing = broken(tmp_path, DAGSTER, "COPY bench/ bench/", "COPY bench/ bench/\nCOPY no_such_dir/ x/")
    assert any("not in the build context" in p for p in context_problems(missing, ROOT))
    ignored = broken(tmp_path, DAGSTER, "COPY bench/ bench/", "COPY bench/ bench/\nCOPY tests/ tests/")
    assert any("excluded by .dockerignore" in p for p in context_problems(ignored, ROOT))
    secret = broken(tmp_path, DAGSTER, "COPY bench/ bench/", "COPY bench/ bench/\nCOPY .env /app/.env")
    assert context_problems(secret, ROOT) != []  # absent here, and excluded wherever it exists
