from __future__ import annotations

from core_api.crud import TenantRepository
from core_api.models import CalendarEvent


class EventRepository(TenantRepository[CalendarEvent]):
    model = CalendarEvent
    entity = "calendar_event"
    sorts = {
        "starts_at": CalendarEvent.starts_at.asc(),
        "-starts_at": CalendarEvent.starts_at.desc(),
        "created_at": CalendarEvent.created_at.asc(),
        "-created_at": CalendarEvent.created_at.desc(),
    }
