"""deploy/release.py on a throw-away copy of the release files in a real git repository."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from deploy import release

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "frontend").mkdir()
    for name in ("VERSION", "CHANGELOG.md", "frontend/package.json", "frontend/package-lock.json"):
        shutil.copy(ROOT / name, tmp_path / name)
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "x"],
    ):
        subprocess.run(["git", *args], cwd=tmp_path, check=True)
    return tmp_path


def _commit(repo: Path) -> None:
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "y"], cwd=repo, check=True
    )


def test_the_repository_itself_is_consistent():
    assert release.check(ROOT) == []


def test_check_names_every_disagreement(repo: Path):
    package = json.loads((repo / "frontend/package.json").read_text())
    package["version"] = "9.9.9"
    (repo / "frontend/package.json").write_text(json.dumps(package))
    (repo / "CHANGELOG.md").write_text("# Changelog\n\n## [0.1.0] - 2026-01-01\n- x\n")
    problems = release.check(repo)
    assert any("frontend/package.json has version '9.9.9'" in p for p in problems)
    assert any("must open with '## [Unreleased]'" in p for p in problems)

    (repo / "VERSION").write_text("1.2\n")
    assert release.check(repo) == ["VERSION '1.2' is not a SemVer version (MAJOR.MINOR.PATCH)"]


def test_cut_then_tag_makes_a_release_and_a_tag_without_its_section_is_caught(repo: Path):
    current = release.read_version(repo)
    major, minor, _ = current.split(".")
    new = f"{major}.{int(minor) + 1}.0"
    with pytest.raises(release.ReleaseError, match="not newer"):
        release.cut(current, repo)

    release.cut(new, repo, today="2026-12-03")
    changelog = (repo / "CHANGELOG.md").read_text()
    assert changelog.index("## [Unreleased]") < changelog.index(f"## [{new}] - 2026-12-03")
    assert release.read_version(repo) == new
    assert json.loads((repo / "frontend/package-lock.json").read_text())["packages"][""]["version"] == new
    assert release.check(repo) == []

    with pytest.raises(release.ReleaseError, match="uncommitted"):
        release.tag(repo)
    _commit(repo)
    assert release.tag(repo) == f"v{new}"
    described = subprocess.run(["git", "describe"], cwd=repo, capture_output=True, text=True, check=True)
    assert described.stdout.strip() == f"v{new}"

    # A tagged version whose CHANGELOG section went missing is reported.
    (repo / "CHANGELOG.md").write_text(changelog.replace(f"## [{new}] - 2026-12-03", "## Older"))
    assert any(f"tag v{new} exists" in p for p in release.check(repo))


def test_an_empty_unreleased_section_is_not_released(repo: Path):
    (repo / "CHANGELOG.md").write_text("# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-01-01\n- x\n")
    with pytest.raises(release.ReleaseError, match="empty"):
        release.cut("0.2.0", repo)
    assert release.read_version(repo) == "0.1.0"
