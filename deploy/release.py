"""Release engineering from `VERSION`: one number, kept in step everywhere it appears.

`python -m deploy.release check`  — VERSION is SemVer; the SPA's package.json (and its lock) carry it;
                                     CHANGELOG.md opens with `## [Unreleased]`; if the tag `v<VERSION>`
                                     exists, CHANGELOG has that release's dated section. Run by `make test`.
`python -m deploy.release cut X.Y.Z` — moves the Unreleased entries into `## [X.Y.Z] - <today>`, writes the
                                     number into VERSION, package.json and package-lock.json.
`python -m deploy.release tag`     — an annotated tag `v<VERSION>` on HEAD, refused on a dirty tree or
                                     without the CHANGELOG section. CI and image builds key off the tag.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
UNRELEASED = "## [Unreleased]"


class ReleaseError(Exception):
    pass


def read_version(root: Path) -> str:
    version = (root / "VERSION").read_text().strip()
    if not SEMVER.match(version):
        raise ReleaseError(f"VERSION {version!r} is not a SemVer version (MAJOR.MINOR.PATCH)")
    return version


def _section(version: str) -> re.Pattern[str]:
    return re.compile(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", re.MULTILINE)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)


def check(root: Path = ROOT) -> list[str]:
    """Every disagreement about the version, as messages; empty when the tree is consistent."""
    problems: list[str] = []
    try:
        version = read_version(root)
    except ReleaseError as exc:
        return [str(exc)]
    package = json.loads((root / "frontend/package.json").read_text())
    lock = json.loads((root / "frontend/package-lock.json").read_text())
    for where, found in (
        ("frontend/package.json", package.get("version")),
        ("frontend/package-lock.json", lock.get("version")),
        ("frontend/package-lock.json packages['']", lock.get("packages", {}).get("", {}).get("version")),
    ):
        if found != version:
            problems.append(f"{where} has version {found!r}, VERSION has {version!r}")
    changelog = (root / "CHANGELOG.md").read_text()
    headings = [line for line in changelog.splitlines() if line.startswith("## ")]
    if not headings or headings[0] != UNRELEASED:
        problems.append(f"CHANGELOG.md must open with {UNRELEASED!r} (found {headings[:1]})")
    tagged = _git(root, "rev-parse", "-q", "--verify", f"refs/tags/v{version}").returncode == 0
    if tagged and not _section(version).search(changelog):
        problems.append(
            f"tag v{version} exists but CHANGELOG.md has no '## [{version}] - YYYY-MM-DD' section"
        )
    return problems


def cut(version: str, root: Path = ROOT, *, today: str | None = None) -> None:
    if not SEMVER.match(version):
        raise ReleaseError(f"{version!r} is not a SemVer version")
    current = read_version(root)
    if _key(version) <= _key(current):
        raise ReleaseError(f"{version} is not newer than the current VERSION {current}")
    changelog = (root / "CHANGELOG.md").read_text()
    if UNRELEASED not in changelog:
        raise ReleaseError(f"CHANGELOG.md has no {UNRELEASED!r} section to release")
    head, _, rest = changelog.partition(UNRELEASED)
    if not rest.split("\n## [", 1)[0].strip():
        raise ReleaseError("the Unreleased section is empty: nothing to release")
    date = today or datetime.now(UTC).date().isoformat()
    (root / "CHANGELOG.md").write_text(f"{head}{UNRELEASED}\n\n## [{version}] - {date}{rest}")
    (root / "VERSION").write_text(version + "\n")
    for name in ("package.json", "package-lock.json"):
        path = root / "frontend" / name
        data = json.loads(path.read_text())
        data["version"] = version
        if name == "package-lock.json":
            data["packages"][""]["version"] = version
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def tag(root: Path = ROOT) -> str:
    problems = check(root)
    version = read_version(root)
    if problems:
        raise ReleaseError("; ".join(problems))
    if not _section(version).search((root / "CHANGELOG.md").read_text()):
        raise ReleaseError(f"CHANGELOG.md has no '## [{version}] - YYYY-MM-DD' section: run `cut` first")
    if _git(root, "status", "--porcelain").stdout.strip():
        raise ReleaseError("the work tree has uncommitted changes")
    made = _git(root, "tag", "-a", f"v{version}", "-m", f"firmsync {version}")
    if made.returncode != 0:
        raise ReleaseError(made.stderr.strip())
    return f"v{version}"


def _key(version: str) -> tuple[int, int, int, int]:
    major, minor, patch = (int(x) for x in SEMVER.match(version).groups())  # type: ignore[union-attr]
    return (major, minor, patch, 0 if "-" in version.split("+")[0] else 1)  # a pre-release sorts first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.release", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check")
    cut_parser = sub.add_parser("cut")
    cut_parser.add_argument("version")
    sub.add_parser("tag")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            problems = check()
            for problem in problems:
                print(f"release check: {problem}", file=sys.stderr)
            if not problems:
                print(f"release check: {read_version(ROOT)} is consistent")
            return 1 if problems else 0
        if args.command == "cut":
            cut(args.version)
            print(
                f"VERSION, CHANGELOG.md and the SPA now say {args.version}; commit, then `make release-tag`"
            )
        else:
            print(f"tagged {tag()}")
    except ReleaseError as exc:
        print(f"release {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
