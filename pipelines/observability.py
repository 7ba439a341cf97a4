"""Logging and tracing of the Dagster processes (code server, run workers), as the API has them (ADR 0019):
FIRMSYNC_LOG_FORMAT picks text or JSON, each run's records carry run_id and job, and with
OTEL_EXPORTER_OTLP_ENDPOINT set the vendor HTTP calls and SQL of a run are traced as firmsync-pipelines."""

from __future__ import annotations

import functools
import logging

from core_api import log_context, telemetry
from core_api.logging_setup import configure_logging
from core_api.settings import get_settings

SERVICE_NAME = "firmsync-pipelines"
log = logging.getLogger(__name__)


def setup_process() -> None:
    try:
        settings = get_settings()
    except Exception:  # the code location still loads (and says what is wrong) without valid settings
        log.warning("observability: settings invalid, keeping default logging")
        return
    configure_logging(settings.log_level, settings.log_format)
    provider = telemetry.tracer_provider(settings, SERVICE_NAME)
    if provider is not None:
        telemetry.instrument_libraries(provider)
    telemetry.setup_sentry(settings)


def bind_run(context) -> None:
    """The run's id and job on every log record of this step (a run is its own process: no reset needed;
    in tests, the next run replaces it)."""
    log_context.start(run_id=context.run.run_id, job=context.job_name)


def in_run_context(fn):
    """`fn` for a thread pool: each call runs in a copy of the caller's context (taken now, in the op's
    thread), so its log records carry the run's fields; pool threads do not inherit context on their own."""
    import contextvars

    caller = contextvars.copy_context()

    def run(*args, **kwargs):
        return caller.copy().run(
            fn, *args, **kwargs
        )  # a copy per call: a Context runs in one thread at a time

    return functools.update_wrapper(run, fn)
