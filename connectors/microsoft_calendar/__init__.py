"""Microsoft 365 calendar connector: a staff member's Outlook calendar through Microsoft Graph, tokens through
msal (events incremental by delta link, pushed with If-Match change keys)."""

from connectors.microsoft_calendar.client import STREAMS, MicrosoftCalendarClient, MicrosoftCalendarStream
from connectors.microsoft_calendar.config import MicrosoftCalendarConfig, MicrosoftCalendarCredentials
from connectors.microsoft_calendar.mapping import EVENT_COLUMNS, event_fields, event_to_row, is_removed

__all__ = [
    "EVENT_COLUMNS",
    "STREAMS",
    "MicrosoftCalendarClient",
    "MicrosoftCalendarConfig",
    "MicrosoftCalendarCredentials",
    "MicrosoftCalendarStream",
    "event_fields",
    "event_to_row",
    "is_removed",
]
