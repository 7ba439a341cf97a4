def test_healthz_and_readyz(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200 and ready.json()["schema"] == "0001"


def test_metrics_count_requests_by_route_template(api):
    api.get("/healthz")
    body = api.get("/metrics").text
    assert 'firmsync_http_requests_total{method="GET",route="/healthz",status="200"}' in body
