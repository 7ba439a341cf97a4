"""The API serves the built SPA from its own origin without shadowing any API route."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def spa_client(settings, tmp_path: Path):
    from core_api.app import create_app

    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=root></div>")
    (dist / "assets" / "index-abc123.js").write_text("console.log('app')")
    (dist / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("not for browsers")
    with TestClient(create_app(settings.model_copy(update={"spa_dir": dist}))) as client:
        yield client


def test_client_side_routes_get_index_html_uncached(spa_client) -> None:
    for path in (
        "/",
        "/clients",
        "/clients/4b9f0c1e-0000-0000-0000-000000000000",
        "/integrations?connected=x",
    ):
        response = spa_client.get(path)
        assert response.status_code == 200, path
        assert "<div id=root>" in response.text
        assert response.headers["cache-control"] == "no-cache"


def test_hashed_assets_are_cached_for_a_year_and_top_level_files_served(spa_client) -> None:
    asset = spa_client.get("/assets/index-abc123.js")
    assert asset.status_code == 200 and "console.log" in asset.text
    assert "immutable" in asset.headers["cache-control"]
    assert spa_client.get("/favicon.svg").text == "<svg/>"
    assert spa_client.get("/assets/missing.js").status_code == 404


def test_api_paths_keep_their_problem_json_404_and_nothing_outside_dist_leaks(spa_client) -> None:
    missing = spa_client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert spa_client.get("/api/v1/version").json()["version"]
    assert spa_client.get("/healthz").json() == {"status": "ok"}
    assert "not for browsers" not in spa_client.get("/../secret.txt").text
    assert "not for browsers" not in spa_client.get("/%2e%2e/secret.txt").text


def test_without_a_build_the_api_serves_no_pages(settings, tmp_path: Path) -> None:
    from core_api.app import create_app

    with TestClient(create_app(settings.model_copy(update={"spa_dir": tmp_path / "none"}))) as client:
        assert client.get("/clients").status_code == 404
        assert client.get("/healthz").status_code == 200
