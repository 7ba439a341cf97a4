"""What every log record carries (ADR 0019): request_id, firm_id and user_id in the API, run_id and job in
Dagster runs, held in a context variable so concurrent requests and threads never mix them up.

The variable holds a dict that is updated in place within a request: FastAPI runs sync dependencies in a
worker thread on a copy of the request's context, so a value *set* there would be lost when the thread
returns; a value *stored into* the shared dict is seen by the endpoint and the middleware alike.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any

from core_api.redaction import redact_text

FIELDS = ("request_id", "firm_id", "user_id", "run_id", "job")
_context: ContextVar[dict[str, str] | None] = ContextVar("firmsync_log_context", default=None)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def start(**fields: Any) -> dict[str, str]:
    """A fresh context for this request or run (replacing whatever this context held)."""
    values = {k: str(v) for k, v in fields.items() if v is not None}
    _context.set(values)
    return values


def update(**fields: Any) -> None:
    """Add what became known (the caller's firm and user) to the current request's or run's context."""
    values = _context.get()
    if values is None:
        values = start()
    values.update({k: str(v) for k, v in fields.items() if v is not None})


def current() -> dict[str, str]:
    return dict(_context.get() or {})


def request_id_from(header: str | None) -> str:
    """The caller's X-Request-ID when it is a sane token (so it can be logged safely), else a new one."""
    if header and _REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


class ContextFilter(logging.Filter):
    """Stamps each record with the context's fields ("-" when unknown, so text formats never break) and
    scrubs secrets from the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        values = _context.get() or {}
        for name in FIELDS:
            setattr(record, name, values.get(name, "-"))
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
