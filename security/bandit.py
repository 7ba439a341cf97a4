"""Bandit over the shipped Python packages with the project's policy (ADR 0020): `[tool.bandit]` in
pyproject.toml, failing on medium-or-higher severity at medium-or-higher confidence. `make bandit` runs it;
a justified exception is an inline `# nosec BXXX` with the reason on the line above.

    python -m security.bandit [paths…]   # default: core_api pipelines connectors
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core_api", "pipelines", "connectors")
POLICY = ("--severity-level", "medium", "--confidence-level", "medium")


def run(paths: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [
        str(ROOT / ".venv" / "bin" / "bandit"),
        "-c",
        str(ROOT / "pyproject.toml"),
        "-r",
        *(paths or PACKAGES),
        *POLICY,
        "-q",
    ]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def main(argv: list[str] | None = None) -> int:
    result = run(list(argv if argv is not None else sys.argv[1:]) or None)
    print(result.stdout, end="")
    print("bandit: passed" if result.returncode == 0 else "bandit: FAILED", file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
