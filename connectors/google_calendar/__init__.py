"""Google Calendar connector: each staff member's calendars, two ways, through google-api-python-client
(events incremental by sync token, pushed with etag/If-Match), plus the OAuth connect flow."""

from connectors.google_calendar.client import STREAMS, GoogleCalendarClient, GoogleCalendarStream
from connectors.google_calendar.config import (
    GoogleCalendarApp,
    GoogleCalendarConfig,
    GoogleCalendarCredentials,
)
from connectors.google_calendar.mapping import (
    EVENT_COLUMNS,
    event_body,
    event_id_for,
    event_to_row,
    is_cancelled,
    parse_google_datetime,
)

__all__ = [
    "EVENT_COLUMNS",
    "STREAMS",
    "GoogleCalendarApp",
    "GoogleCalendarClient",
    "GoogleCalendarConfig",
    "GoogleCalendarCredentials",
    "GoogleCalendarStream",
    "event_body",
    "event_id_for",
    "event_to_row",
    "is_cancelled",
    "parse_google_datetime",
]
