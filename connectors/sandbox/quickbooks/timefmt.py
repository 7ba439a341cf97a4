"""QBO date-times: ISO-8601 with the company's UTC offset, e.g. ``2026-01-05T10:11:12-08:00``."""

from datetime import datetime, time
from zoneinfo import ZoneInfo


def format_timestamp(epoch_seconds: int, zone: ZoneInfo) -> str:
    """Entity timestamps (MetaData.*): whole seconds, company offset."""
    return datetime.fromtimestamp(epoch_seconds, zone).isoformat()


def format_response_time(epoch_seconds: float, zone: ZoneInfo) -> str:
    """The ``time`` stamped on every response: milliseconds, company offset."""
    return datetime.fromtimestamp(epoch_seconds, zone).isoformat(timespec="milliseconds")


def parse_timestamp(text: str, zone: ZoneInfo) -> float:
    """Parse a date or date-time a client sent; without an offset it is read in the company's zone.

    Accepts ``2026-01-05``, ``2026-01-05T10:11:12``, ``...-08:00``, ``...-0800`` and ``...Z``.
    Raises ValueError for anything else.
    """
    text = text.strip()
    if not text:
        raise ValueError("empty date-time")
    if len(text) == 10:
        value = datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time())
    else:
        value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.timestamp()
