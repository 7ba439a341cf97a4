"""Security headers on real responses of the real app (ADR 0020): the SPA, its assets, API errors, /docs."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient


def _directives(header: str) -> dict[str, str]:
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in (p.strip() for p in header.split(";")) if d}


@pytest.fixture
def app_factory(settings, tmp_path: Path):
    from core_api.app import create_app

    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=root></div>")
    (dist / "assets" / "index-abc123.js").write_text("console.log('app')")

    def make(**overrides) -> TestClient:
        return TestClient(create_app(settings.model_copy(update={"spa_dir": dist, **overrides})))

    return make


def test_the_spa_its_assets_and_api_errors_get_the_strict_policy(app_factory) -> None:
    with app_factory() as client:
        for path in ("/", "/clients", "/assets/index-abc123.js", "/api/v1/clients", "/api/v1/no-such-thing"):
            response = client.get(path)
            headers = response.headers
            assert headers["x-content-type-options"] == "nosniff", path
            assert headers["x-frame-options"] == "DENY", path
            assert headers["referrer-policy"] == "strict-origin-when-cross-origin", path
            assert "camera=()" in headers["permissions-policy"], path
            csp = _directives(headers["content-security-policy"])
            assert csp["default-src"] == "'self'", path
            assert csp["script-src"] == "'self'", path  # no inline script, no CDN, no eval
            assert csp["style-src"] == "'self' 'unsafe-inline'", path
            assert csp["img-src"] == "'self' data:", path
            assert csp["connect-src"] == "'self'", path
            assert csp["frame-ancestors"] == "'none'", path
            assert csp["base-uri"] == "'self'" and csp["form-action"] == "'self'", path
            # Plain http: no HSTS (a browser ignores it there, and it would pin a dev host to https).
            assert "strict-transport-security" not in headers, path


def test_docs_pages_get_their_own_looser_policy_for_the_cdn_they_load(app_factory) -> None:
    with app_factory() as client:
        for path in ("/docs", "/redoc"):
            response = client.get(path)
            assert response.status_code == 200
            csp = _directives(response.headers["content-security-policy"])
            assert "https://cdn.jsdelivr.net" in csp["script-src"], path
            assert csp["frame-ancestors"] == "'none'", path
            # Every script the page loads is allowed by its policy.
            for src in ("https://cdn.jsdelivr.net/npm/swagger-ui-dist", "https://cdn.jsdelivr.net/npm/redoc"):
                if src in response.text:
                    assert "https://cdn.jsdelivr.net" in csp["script-src"]
        # The JSON it reads, like every other path, keeps the strict one.
        strict = _directives(client.get("/openapi.json").headers["content-security-policy"])
        assert strict["script-src"] == "'self'"


def test_hsts_over_https_or_when_https_only_is_set(app_factory) -> None:
    with app_factory() as client:
        assert "strict-transport-security" not in client.get("/").headers
    with app_factory() as client:
        client.base_url = client.base_url.copy_with(scheme="https")
        hsts = client.get("https://testserver/").headers["strict-transport-security"]
        assert hsts == "max-age=31536000; includeSubDomains"
    with app_factory(https_only=True, hsts_max_age_seconds=600) as client:
        assert client.get("/healthz").headers["strict-transport-security"] == "max-age=600; includeSubDomains"


def test_a_header_a_route_sets_itself_is_kept(app_factory) -> None:
    from fastapi import Response

    client = app_factory()
    app = client.app

    @app.get("/api/v1/_framed", include_in_schema=False)
    def framed() -> Response:
        return Response("ok", headers={"X-Frame-Options": "SAMEORIGIN"})

    # Routes registered after the SPA's catch-all are shadowed by it; move this one first.
    app.router.routes.insert(0, app.router.routes.pop())
    with client:
        assert client.get("/api/v1/_framed").headers["x-frame-options"] == "SAMEORIGIN"
