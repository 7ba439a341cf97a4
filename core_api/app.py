"""The FastAPI application factory (`uvicorn --factory core_api.app:create_app`)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from core_api import errors, metrics, spa, telemetry
from core_api.logging_setup import configure_logging
from core_api.nul_guard import NulGuard
from core_api.request_context import RequestContext
from core_api.routers import ROUTERS
from core_api.security.headers import SecurityHeaders
from core_api.settings import Settings, load_settings
from core_api.version import VERSION


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    telemetry.setup_sentry(settings)
    app = FastAPI(
        title="firmsync API",
        version=VERSION,
        description=(
            "The firm's own records, integrations and sync requests. Errors are application/problem+json."
        ),
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "Location", "X-Request-ID"],
        )
    app.add_middleware(NulGuard)
    # Outermost of ours, so problem+json errors and the SPA's files carry the headers too.
    app.add_middleware(
        SecurityHeaders, https_only=settings.https_only, hsts_max_age=settings.hsts_max_age_seconds
    )
    errors.install(app)
    metrics.install(app)
    app.add_middleware(RequestContext)  # added last, so outermost: everything inside logs the request id
    for router in ROUTERS:
        app.include_router(router)
    spa.install(app, settings.spa_dir)  # last: its catch-all must not shadow an API route
    telemetry.setup_tracing(app, settings)
    return app
