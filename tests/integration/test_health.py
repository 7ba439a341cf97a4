def test_healthz_and_readyz(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    from core_api.migrate import head_revisions

    assert ready.status_code == 200 and ready.json()["schema"] == ",".join(sorted(head_revisions()))


def test_metrics_count_requests_by_route_template(api):
    api.get("/healthz")
    body = api.get("/metrics").text
    assert 'firmsync_http_requests_total{method="GET",route="/healthz",status="200"}' in body


def test_unexpected_errors_are_problem_json_without_internals(app_connection, settings):
    from fastapi.testclient import TestClient

    from core_api.app import create_app

    app = create_app(settings)

    @app.get("/boom")
    def boom():
        raise RuntimeError("database password is hunter2")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "hunter2" not in response.text and "reference" in response.json()["detail"]
