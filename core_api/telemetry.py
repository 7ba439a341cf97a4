"""Traces (OpenTelemetry) and error reports (Sentry), both off unless configured (ADR 0019).

- Traces: with OTEL_EXPORTER_OTLP_ENDPOINT set, spans of API requests (FastAPI), SQL (SQLAlchemy) and vendor
  HTTP calls (httpx, requests: what the connectors' SDKs use) go to that OTLP/HTTP collector. Unset, no
  provider is installed and instrumentation costs nothing. Tests pass their own exporter.
- Errors: with FIRMSYNC_SENTRY_DSN set, unexpected errors go to Sentry; `scrub_event` removes secrets first
  (headers, cookies, secret-named fields, tokens in messages), and personal data is not sent.
"""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter

from core_api.redaction import redact
from core_api.settings import Settings
from core_api.version import VERSION

log = logging.getLogger(__name__)
# Probes and scrapes would be most of the spans and tell nothing.
UNTRACED_URLS = "healthz,readyz,metrics"


def tracer_provider(
    settings: Settings, service_name: str, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """A provider exporting to `exporter` (tests) or to the configured OTLP endpoint; None when neither."""
    if exporter is None and not settings.otel_exporter_otlp_endpoint:
        return None
    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name, "service.version": VERSION})
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"  # type: ignore[union-attr]
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        log.info("tracing to %s as %s", endpoint, service_name)
    return provider


def instrument_libraries(provider: TracerProvider) -> None:
    """SQLAlchemy (engines built so far and from now on), httpx and requests, process-wide, once."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    from core_api import db

    built = [f() for f in (db.app_engine, db.owner_engine) if f.cache_info().currsize]
    for instrumentor, kwargs in (
        (SQLAlchemyInstrumentor(), {"engines": built}),
        (HTTPXClientInstrumentor(), {}),
        (RequestsInstrumentor(), {}),
    ):
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=provider, **kwargs)


def setup_tracing(app, settings: Settings, exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Trace the API: each request a server span, its SQL and outgoing HTTP calls child spans."""
    provider = tracer_provider(settings, settings.otel_service_name, exporter)
    if provider is None:
        return None
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    instrument_libraries(provider)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls=UNTRACED_URLS)
    return provider


def scrub_event(event: dict[str, Any], _hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's before_send: secrets out of the request (headers, cookies, query, body), the exception
    messages, breadcrumbs and extras. Nothing is dropped but the secrets."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        for key in ("headers", "data", "query_string", "env"):
            if key in request:
                request[key] = redact(request[key])
    for exception in (event.get("exception") or {}).get("values") or []:
        if isinstance(exception.get("value"), str):
            exception["value"] = redact(exception["value"])
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            if "vars" in frame:
                frame["vars"] = redact(frame["vars"])
    for key in ("extra", "contexts", "logentry", "message"):
        if key in event:
            event[key] = redact(event[key])
    crumbs = event.get("breadcrumbs")
    if isinstance(crumbs, dict) and "values" in crumbs:
        crumbs["values"] = redact(crumbs["values"])
    return event


def setup_sentry(settings: Settings, **options: Any) -> bool:
    """Report unexpected errors to Sentry when a DSN is configured; returns whether it is on."""
    if settings.sentry_dsn is None:
        return False
    import sentry_sdk

    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.sentry_environment,
        release=f"firmsync@{VERSION}",
        # send_default_pii left unset (deprecated in 2.x): no personal data, and Sentry's own EventScrubber
        # runs as well as scrub_event.
        include_local_variables=False,  # locals may hold credentials
        before_send=scrub_event,
        traces_sample_rate=0,  # traces go through OpenTelemetry
        **options,
    )
    return True
