"""RFC 3339 times as the Calendar API reads and writes them."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.sandbox.google.errors import bad_request


def rfc3339_ms(epoch: float) -> str:
    """`updated` and `created`: UTC with milliseconds, e.g. 2011-06-03T10:00:00.000Z."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_instant(text: str, name: str) -> datetime:
    """A query parameter such as timeMin: RFC 3339 with a mandatory offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise bad_request("Bad Request", location=name) from None
    if value.tzinfo is None:
        raise bad_request("Bad Request", location=name)
    return value


def zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def bound(when: dict, calendar_zone: str) -> datetime:
    """The instant an EventDateTime stands for; an all-day date starts at midnight in the calendar's zone."""
    if "dateTime" in when:
        value = datetime.fromisoformat(when["dateTime"])
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone(when.get("timeZone")) or zone(calendar_zone) or UTC)
        return value
    day = date.fromisoformat(when["date"])
    return datetime.combine(day, time(0), tzinfo=zone(calendar_zone) or UTC)


def utc_key(moment: datetime) -> str:
    """A sortable text key for an instant."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
