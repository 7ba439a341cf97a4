def test_healthz_and_readyz(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    from core_api.migrate import head_revisions

    assert ready.status_code == 200 and ready.json()["schema"] == ",".join(sorted(head_revisions()))


def test_metrics_count_requests_by_route_template(api):
    api.get("/healthz")
    body = api.get("/metrics").text
    assert 'firmsync_http_requests_total{method="GET",route="/healthz",status="200"}' in body


def test_unexpected_errors_are_problem_json_without_internals(app_connection, settings, tmp_path):
    from fastapi.testclient import TestClient

    from core_api.app import create_app

    # No SPA: its catch-all route (registered last by create_app) would answer the route added below.
    app = create_app(settings.model_copy(update={"spa_dir": tmp_path}))

    @app.get("/boom")
    def boom():
        raise RuntimeError("database password is hunter2")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "hunter2" not in response.text and "reference" in response.json()["detail"]


def test_nul_characters_are_a_422_not_a_database_error(api, admin_headers):
    body = api.post("/api/v1/clients", json={"name": "Bad\u0000Name"}, headers=admin_headers)
    assert body.status_code == 422 and body.headers["content-type"] == "application/problem+json"
    assert body.json()["errors"] == [{"field": "name", "message": "contains a NUL character"}]
    query = api.get("/api/v1/clients", params={"q": "a\x00b"}, headers=admin_headers)
    assert query.status_code == 422
    fine = api.post("/api/v1/clients", json={"name": "Good Name"}, headers=admin_headers)
    assert fine.status_code == 201 and fine.json()["name"] == "Good Name"
