"""The CycloneDX SBOMs (security/sbom.py): generated from uv.lock and package-lock.json, validated against
CycloneDX's schema; a broken or incomplete bill is rejected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from security.sbom import generate, validate


@pytest.fixture(scope="module")
def sboms(tmp_path_factory) -> dict[str, Path]:
    return {p.name: p for p in generate(tmp_path_factory.mktemp("sbom"))}


def test_both_sboms_are_valid_cyclonedx_listing_the_known_components(sboms) -> None:
    assert set(sboms) == {"python.cdx.json", "npm.cdx.json"}
    for path in sboms.values():
        assert validate(path) == []

    python = json.loads(sboms["python.cdx.json"].read_text())
    assert python["bomFormat"] == "CycloneDX" and python["specVersion"] == "1.6"
    by_name = {c["name"]: c for c in python["components"]}
    assert by_name["fastapi"]["version"] == "0.118.0"
    assert by_name["fastapi"]["purl"] == "pkg:pypi/fastapi@0.118.0"
    assert "pytest" not in by_name  # runtime only: the dev group is not shipped

    npm = json.loads(sboms["npm.cdx.json"].read_text())
    assert npm["specVersion"] in ("1.5", "1.6")
    versions = {c["name"]: c.get("version") for c in npm["components"]}
    lock = json.loads((Path(__file__).resolve().parents[2] / "frontend" / "package-lock.json").read_text())
    assert versions["react"] == lock["packages"]["node_modules/react"]["version"]
    # Build tools are listed and marked as such.
    vite = next(c for c in npm["components"] if c["name"] == "vite")
    assert {"name": "cdx:npm:package:development", "value": "true"} in vite["properties"]


def test_a_broken_sbom_is_rejected(sboms, tmp_path: Path) -> None:
    bom = json.loads(sboms["python.cdx.json"].read_text())

    not_json = tmp_path / "python.cdx.json"
    not_json.write_text(sboms["python.cdx.json"].read_text()[:-200])
    assert "not readable JSON" in validate(not_json)[0]

    bad_schema = tmp_path / "bad-schema.cdx.json"
    broken = json.loads(json.dumps(bom))
    broken["components"][0]["type"] = "spaceship"  # not a CycloneDX component type
    del broken["components"][1]["name"]
    bad_schema.write_text(json.dumps(broken))
    problems = validate(bad_schema, required=set())
    assert len(problems) >= 2 and all("schema:" in p for p in problems)

    old = tmp_path / "old.cdx.json"
    old.write_text(json.dumps({**bom, "specVersion": "1.2"}))
    assert "older than" in validate(old)[0]

    incomplete = tmp_path / "python.cdx.json"
    bom["components"] = [c for c in bom["components"] if c["name"] != "fastapi"]
    incomplete.write_text(json.dumps(bom))
    assert validate(incomplete) == ["python.cdx.json: missing components fastapi"]
