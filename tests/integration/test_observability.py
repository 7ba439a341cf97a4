"""Logs, traces and error reports of the API (ADR 0019), with the real libraries: JSON log lines carry the
request id (echoed as X-Request-ID), the firm and the user; a request's server span and its SQL spans share
one trace (OpenTelemetry SDK, in-memory exporter); an unexpected error reaches a Sentry DSN served by a
local HTTP server, secrets scrubbed."""

from __future__ import annotations

import gzip
import io
import json
import logging
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import sessionmaker

from tests.integration.conftest import login

SECRET = "hunter2-" + "s" * 24


def _app(settings, app_connection, tmp_path, **overrides):
    """The real app (no SPA, so test routes added later are reachable), sharing the test's transaction."""
    from core_api.app import create_app
    from core_api.auth.dependencies import current_tenant, db_sessions

    app = create_app(settings.model_copy(update={"spa_dir": tmp_path, **overrides}))
    factory = sessionmaker(
        bind=app_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.dependency_overrides[db_sessions] = lambda: factory

    @app.get("/_test/log")
    def log_something(tenant=Depends(current_tenant)) -> dict:
        logging.getLogger("firmsync.test").info("did a thing with password=%s", SECRET)
        return {}

    @app.get("/_test/boom")
    def boom() -> dict:
        raise RuntimeError(f"vendor said: Authorization: Bearer {SECRET}")

    return app


@pytest.fixture
def json_logs(settings):
    from core_api.logging_setup import configure_logging

    buffer = io.StringIO()
    yield buffer, lambda: configure_logging("INFO", "json", stream=buffer)
    configure_logging(settings.log_level, settings.log_format)


def _lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]


def test_json_logs_carry_request_firm_and_user_and_never_the_secret(
    settings, app_connection, tmp_path, firm_admin, json_logs
):
    buffer, use_json = json_logs
    app = _app(settings, app_connection, tmp_path)
    use_json()
    with TestClient(app) as client:
        headers = login(client, firm_admin)
        response = client.get("/_test/log", headers={**headers, "X-Request-ID": "req-1234.abc"})
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "req-1234.abc"
    (line,) = [r for r in _lines(buffer) if r["logger"] == "firmsync.test"]
    assert line["request_id"] == "req-1234.abc"
    assert line["firm_id"] == str(firm_admin.firm_id) and line["user_id"] == str(firm_admin.user_id)
    assert line["level"] == "INFO" and "timestamp" in line
    assert SECRET not in buffer.getvalue() and "password=[redacted]" in line["message"]


def test_a_request_id_is_generated_when_missing_or_unsafe(settings, app_connection, tmp_path):
    with TestClient(_app(settings, app_connection, tmp_path)) as client:
        generated = client.get("/healthz").headers["X-Request-ID"]
        forged = client.get("/healthz", headers={"X-Request-ID": "bad\nid injected"}).headers["X-Request-ID"]
    assert uuid.UUID(generated) and uuid.UUID(forged) and generated != forged


def test_unexpected_errors_are_logged_with_their_request_id(settings, app_connection, tmp_path, json_logs):
    buffer, use_json = json_logs
    app = _app(settings, app_connection, tmp_path)
    use_json()
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/_test/boom", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    errors = [r for r in _lines(buffer) if r["level"] == "ERROR"]
    assert errors and all(r["request_id"] == "boom-1" for r in errors)
    assert SECRET not in buffer.getvalue()


@pytest.fixture
def traced():
    """An in-memory span exporter; every instrumentation undone afterwards (they are process-wide)."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    yield exporter
    for instrumentor in (SQLAlchemyInstrumentor(), HTTPXClientInstrumentor(), RequestsInstrumentor()):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


def test_a_request_produces_a_server_span_and_db_spans_in_one_trace(
    settings, app_connection, tmp_path, traced, firm_admin
):
    from opentelemetry.trace import SpanKind

    from core_api import telemetry

    app = _app(settings, app_connection, tmp_path)
    assert telemetry.setup_tracing(app, settings, exporter=traced) is not None
    with TestClient(app) as client:
        headers = login(client, firm_admin)
        traced.clear()
        assert client.get("/api/v1/clients", headers=headers).status_code == 200
    spans = traced.get_finished_spans()
    (server,) = [s for s in spans if s.kind == SpanKind.SERVER]
    assert server.attributes.get("http.route") == "/api/v1/clients"
    db_spans = [s for s in spans if s.attributes.get("db.system") == "postgresql"]
    assert db_spans, [s.name for s in spans]
    assert {s.context.trace_id for s in db_spans} == {server.context.trace_id}
    assert all(s.parent is not None for s in db_spans)


def test_no_tracing_without_an_endpoint(settings):
    from core_api import telemetry

    assert settings.otel_exporter_otlp_endpoint is None
    assert telemetry.tracer_provider(settings, "firmsync-api") is None


class _SentryServer:
    """A local HTTP server standing in for Sentry's ingest: it keeps every envelope it is sent."""

    def __init__(self) -> None:
        received = self.envelopes = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                received.append((self.path, body.decode()))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sentry_server():
    import sentry_sdk

    server = _SentryServer()
    yield server
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # back to a disabled client for the rest of the session
    server.stop()


def test_sentry_receives_unexpected_errors_with_secrets_scrubbed(
    settings, app_connection, tmp_path, sentry_server, firm_admin
):
    import sentry_sdk

    dsn = f"http://publickey@127.0.0.1:{sentry_server.port}/42"
    app = _app(settings, app_connection, tmp_path, sentry_dsn=SecretStr(dsn), sentry_environment="test")
    assert sentry_sdk.get_client().is_active()
    with TestClient(app, raise_server_exceptions=False) as client:
        headers = login(client, firm_admin)
        response = client.get("/_test/boom", headers={**headers, "Cookie": f"session={SECRET}"})
    assert response.status_code == 500
    sentry_sdk.flush(timeout=10)
    events = [body for path, body in sentry_server.envelopes if path == "/api/42/envelope/"]
    errors = [e for e in events if '"type":"event"' in e.replace(" ", "") and "RuntimeError" in e]
    assert errors, sentry_server.envelopes
    assert SECRET not in "".join(events)
    assert "vendor said: Authorization: [redacted]" in errors[0]
    assert '"environment":"test"' in errors[0].replace(" ", "")
    # The caller's access token (Authorization header) was scrubbed too.
    assert headers["Authorization"].split()[1] not in "".join(events)


def test_sentry_stays_off_without_a_dsn(settings):
    from core_api import telemetry

    assert settings.sentry_dsn is None and telemetry.setup_sentry(settings) is False


def test_scrubbing_removes_secrets_from_event_parts():
    from core_api.telemetry import scrub_event

    event = {
        "request": {
            "headers": {"Authorization": "Bearer abc.def", "X-Api-Key": "k", "Accept": "json"},
            "cookies": {"session": "x"},
            "data": {"client_secret": "cs", "name": "Acme"},
            "query_string": "code=1&access_token=tok123",
        },
        "exception": {"values": [{"value": "postgresql://user:pw@db/app failed"}]},
        "extra": {"refresh_token": "rt", "count": 3},
    }
    scrubbed = json.dumps(scrub_event(event))
    for secret in ("abc.def", '"k"', '"cs"', "tok123", ":pw@", '"rt"', "cookies"):
        assert secret not in scrubbed, secret
    assert "Acme" in scrubbed and '"count": 3' in scrubbed and "json" in scrubbed
