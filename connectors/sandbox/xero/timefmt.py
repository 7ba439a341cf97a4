"""Xero's date formats.

JSON responses carry Microsoft JSON dates: ``/Date(1551399321043+0000)/`` for entity timestamps (epoch
milliseconds, UTC) and ``/Date(1551399323399)/`` for the envelope's ``DateTimeUTC``. Calendar dates
(an invoice's ``Date``) are midnight UTC in the same format, with ``DateString`` beside them
(``2018-10-20T00:00:00``). Webhook events stamp ``eventDateUtc`` as ``2017-06-21T01:15:39.902``.

Clients send dates as ``/Date(ms)/``, ``/Date(ms+0000)/`` (xero-python), ``2019-03-11``, or ISO
date-times; ``If-Modified-Since`` as an ISO date-time in UTC (xero-python sends ``isoformat()``) or
an HTTP date.
"""

import re
from datetime import UTC, date, datetime, time
from email.utils import parsedate_to_datetime

MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def ms(epoch_seconds: float) -> int:
    return round(epoch_seconds * 1000)


def json_timestamp(epoch_ms: int) -> str:
    """Entity timestamps: ``/Date(1551399321043+0000)/``."""
    return f"/Date({epoch_ms}+0000)/"


def envelope_timestamp(epoch_seconds: float) -> str:
    """The ``DateTimeUTC`` of a response envelope: ``/Date(1551399323399)/``."""
    return f"/Date({ms(epoch_seconds)})/"


def day_ms(day: date) -> int:
    return int(datetime.combine(day, time(), UTC).timestamp() * 1000)


def json_date(day: date) -> str:
    return json_timestamp(day_ms(day))


def date_string(day: date) -> str:
    return f"{day.isoformat()}T00:00:00"


def event_date(epoch_ms: int) -> str:
    """Webhook ``eventDateUtc``: UTC, milliseconds, no zone designator."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def parse_ms_date(text: str) -> int | None:
    """Epoch milliseconds of a ``/Date(...)/`` value, or None if it is not one."""
    match = MS_DATE.match(text.strip())
    return int(match.group(1)) if match else None


def parse_client_date(value: object) -> date:
    """A calendar date a client sent in a request body. Raises ValueError if unreadable."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a date: {value!r}")
    epoch_ms = parse_ms_date(value)
    if epoch_ms is not None:
        return datetime.fromtimestamp(epoch_ms / 1000, UTC).date()
    text = value.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    # A date-time names a calendar day as written (xero-node sends "2021-10-18T00:00:00+11:00").
    return parsed.date()


def parse_if_modified_since(text: str) -> float:
    """Epoch seconds of an ``If-Modified-Since`` header; a value without a zone is UTC."""
    text = text.strip()
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            value = parsedate_to_datetime(text)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"unreadable If-Modified-Since: {text!r}") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()
