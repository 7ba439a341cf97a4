"""Process logging: text for people (dev), JSON for machines (deploy), chosen by FIRMSYNC_LOG_FORMAT.

Every record carries the log context (core_api/log_context.py): request_id, firm_id, user_id in the API,
run_id and job in Dagster runs. One handler on the root logger, replaced (not added to) on each call.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from core_api.log_context import FIELDS, ContextFilter
from core_api.redaction import redact_text

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [request_id=%(request_id)s run_id=%(run_id)s] %(message)s"
_HANDLER_NAME = "firmsync"


class _TextFormatter(logging.Formatter):
    def formatException(self, ei) -> str:  # noqa: N802 - logging's naming
        return redact_text(super().formatException(ei))  # a traceback may quote a secret


class _JsonFormatter(JsonFormatter):
    """Drops the context fields that are unknown ("-") instead of printing placeholders."""

    def formatException(self, ei) -> str:  # noqa: N802 - logging's naming
        return redact_text(super().formatException(ei))

    def process_log_record(self, log_data: dict) -> dict:
        for name in FIELDS:
            if log_data.get(name) == "-":
                del log_data[name]
        return log_data


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return _JsonFormatter(
            "%(levelname)s %(name)s %(message)s " + " ".join(f"%({f})s" for f in FIELDS),
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,  # ISO-8601 UTC
        )
    return _TextFormatter(TEXT_FORMAT)


def configure_logging(level: str = "INFO", fmt: str = "text", stream=None) -> logging.Handler:
    root = logging.getLogger()
    for existing in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(existing)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(ContextFilter())
    handler.setFormatter(formatter(fmt))
    root.addHandler(handler)
    root.setLevel(level)
    return handler
