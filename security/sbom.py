"""CycloneDX SBOMs of what firmsync ships (ADR 0020), written to build/sbom/ (a build output, gitignored):

- python.cdx.json: the Python runtime dependencies exactly as uv.lock pins them (uv export → cyclonedx-py);
- npm.cdx.json: the SPA's packages from package-lock.json (`npm sbom`, built into npm ≥ 10); build-time
  packages are included and carry the property cdx:npm:package:development=true. (`npm sbom --omit dev`
  is not used: npm 11 drops react and react-dom from it, as they are also peers of dev packages.)

    python -m security.sbom [--out build/sbom]   # generate, then validate; non-zero on any problem

Validation is CycloneDX's own JSON schema (cyclonedx-python-lib, offline) plus the components we know
must be there.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "sbom"
UV = ROOT / ".tools" / "bin" / "uv"
CYCLONEDX_PY = ROOT / ".venv" / "bin" / "cyclonedx-py"

# Components each SBOM must list: a bill that misses these is not the bill of this project.
REQUIRED = {
    "python.cdx.json": {"fastapi", "sqlalchemy", "dagster", "cryptography"},
    "npm.cdx.json": {"react", "react-dom", "@mantine/core"},
}


def generate(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    requirements = out / "requirements.lock.txt"
    subprocess.run(
        [str(UV), "export", "--frozen", "--no-dev", "--no-emit-project", "--no-header",
         "--format", "requirements-txt", "-o", str(requirements)],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    python_sbom = out / "python.cdx.json"
    subprocess.run(
        [str(CYCLONEDX_PY), "requirements", str(requirements), "--pyproject", str(ROOT / "pyproject.toml"),
         "--spec-version", "1.6", "--output-format", "JSON", "--output-reproducible",
         "--output-file", str(python_sbom)],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    npm_sbom = out / "npm.cdx.json"
    npm = subprocess.run(
        ["npm", "sbom", "--sbom-format", "cyclonedx", "--package-lock-only"],
        cwd=ROOT / "frontend", check=True, capture_output=True, text=True,
    )  # fmt: skip
    npm_sbom.write_text(npm.stdout)
    return [python_sbom, npm_sbom]


def _schema_version(spec: str) -> SchemaVersion:
    return SchemaVersion.from_version(spec)


def validate(path: Path, required: set[str] | None = None) -> list[str]:
    """Problems with one SBOM file; empty when it is a valid CycloneDX JSON document listing `required`."""
    try:
        text = path.read_text()
        bom = json.loads(text)
    except (OSError, ValueError) as exc:
        return [f"{path.name}: not readable JSON ({exc})"]
    if not isinstance(bom, dict) or bom.get("bomFormat") != "CycloneDX":
        return [f"{path.name}: bomFormat is not CycloneDX"]
    try:
        version = _schema_version(str(bom.get("specVersion")))
    except ValueError:
        return [f"{path.name}: unknown CycloneDX specVersion {bom.get('specVersion')!r}"]
    if version < SchemaVersion.V1_5:
        return [f"{path.name}: CycloneDX {version.to_version()} is older than the 1.5 we produce"]
    errors = JsonStrictValidator(version).validate_str(text, all_errors=True)
    problems = [f"{path.name}: schema: {e.data.message}" for e in (errors or [])]
    names = {c.get("name") for c in bom.get("components", [])}
    missing = sorted((required if required is not None else REQUIRED.get(path.name, set())) - names)
    if missing:
        problems.append(f"{path.name}: missing components {', '.join(missing)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m security.sbom")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    problems = [p for path in generate(args.out) for p in validate(path)]
    for problem in problems:
        print(f"FAIL: {problem}")
    if not problems:
        print(f"sbom: {', '.join(sorted(REQUIRED))} written to {args.out} and valid CycloneDX")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
