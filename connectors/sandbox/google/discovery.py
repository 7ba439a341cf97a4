"""The Calendar API's discovery document (developers.google.com/discovery/v1/reference/apis), trimmed to the
methods this sandbox serves, with ``rootUrl`` pointing at the sandbox.

google-api-python-client builds its service from it with
``build("calendar", "v3", discoveryServiceUrl="http://HOST:PORT/google/discovery/v1/apis/{api}/{apiVersion}/rest",
static_discovery=False)``. (A client may instead use the document bundled with the SDK and
``client_options={"api_endpoint": "http://HOST:PORT/google/calendar/v3/"}``; both reach the same paths.)
"""

from typing import Any

from fastapi import APIRouter, Request

from connectors.sandbox.google.oauth import CALENDAR_SCOPES, mount_url


def _p(kind: str = "string", location: str = "query", **extra: Any) -> dict[str, Any]:
    return {"type": kind, "location": location, **extra}


_PATH_CALENDAR = _p(location="path", required=True, description="Calendar identifier, or `primary`.")
_PATH_EVENT = _p(location="path", required=True, description="Event identifier.")
_WRITE_QUERY = {
    "conferenceDataVersion": _p("integer", format="int32", minimum="0", maximum="1"),
    "maxAttendees": _p("integer", format="int32", minimum="1"),
    "sendNotifications": _p("boolean"),
    "sendUpdates": _p(enum=["all", "externalOnly", "none"]),
    "supportsAttachments": _p("boolean"),
}
_EVENT_SCOPES = [
    "https://www.googleapis.com/auth/calendar",
    "https://www.googleapis.com/auth/calendar.events",
]


def _method(
    method_id: str,
    http_method: str,
    path: str,
    params: dict[str, Any],
    order: list[str],
    *,
    request: str | None = None,
    response: str | None = None,
    scopes: list[str] | None = None,
) -> dict[str, Any]:
    description: dict[str, Any] = {
        "id": method_id,
        "path": path,
        "flatPath": path,
        "httpMethod": http_method,
        "parameters": params,
        "parameterOrder": order,
        "scopes": scopes or sorted(CALENDAR_SCOPES),
    }
    if request:
        description["request"] = {"$ref": request}
    if response:
        description["response"] = {"$ref": response}
    return description


def _schemas() -> dict[str, Any]:
    def obj(name: str, properties: dict[str, Any]) -> dict[str, Any]:
        return {"id": name, "type": "object", "properties": properties}

    string, boolean = {"type": "string"}, {"type": "boolean"}
    when = {"$ref": "EventDateTime"}
    return {
        "EventDateTime": obj(
            "EventDateTime",
            {"date": {"type": "string", "format": "date"}, "dateTime": string, "timeZone": string},
        ),
        "EventAttendee": obj(
            "EventAttendee",
            {
                "email": string,
                "displayName": string,
                "responseStatus": string,
                "optional": boolean,
                "self": boolean,
            },
        ),
        "Event": obj(
            "Event",
            {
                "kind": string,
                "etag": string,
                "id": string,
                "status": string,
                "htmlLink": string,
                "created": string,
                "updated": string,
                "summary": string,
                "description": string,
                "location": string,
                "creator": {"type": "object", "properties": {"email": string, "self": boolean}},
                "organizer": {"type": "object", "properties": {"email": string, "displayName": string}},
                "start": when,
                "end": when,
                "originalStartTime": when,
                "recurrence": {"type": "array", "items": string},
                "recurringEventId": string,
                "iCalUID": string,
                "sequence": {"type": "integer", "format": "int32"},
                "attendees": {"type": "array", "items": {"$ref": "EventAttendee"}},
                "transparency": string,
                "visibility": string,
                "eventType": string,
            },
        ),
        "Events": obj(
            "Events",
            {
                "kind": string,
                "etag": string,
                "summary": string,
                "timeZone": string,
                "updated": string,
                "nextPageToken": string,
                "nextSyncToken": string,
                "items": {"type": "array", "items": {"$ref": "Event"}},
            },
        ),
        "CalendarListEntry": obj(
            "CalendarListEntry",
            {
                "kind": string,
                "etag": string,
                "id": string,
                "summary": string,
                "timeZone": string,
                "primary": boolean,
            },
        ),
        "CalendarList": obj(
            "CalendarList",
            {
                "kind": string,
                "etag": string,
                "nextPageToken": string,
                "nextSyncToken": string,
                "items": {"type": "array", "items": {"$ref": "CalendarListEntry"}},
            },
        ),
    }


def document(root_url: str) -> dict[str, Any]:
    events_path = "calendars/{calendarId}/events"
    event_path = "calendars/{calendarId}/events/{eventId}"
    list_params = {
        "calendarId": _PATH_CALENDAR,
        "alwaysIncludeEmail": _p("boolean"),
        "eventTypes": _p(repeated=True),
        "iCalUID": _p(),
        "maxAttendees": _p("integer", format="int32", minimum="1"),
        "maxResults": _p("integer", format="int32", minimum="1", default="250"),
        "orderBy": _p(enum=["startTime", "updated"]),
        "pageToken": _p(),
        "privateExtendedProperty": _p(repeated=True),
        "q": _p(),
        "sharedExtendedProperty": _p(repeated=True),
        "showDeleted": _p("boolean"),
        "showHiddenInvitations": _p("boolean"),
        "singleEvents": _p("boolean"),
        "syncToken": _p(),
        "timeMax": _p(format="date-time"),
        "timeMin": _p(format="date-time"),
        "timeZone": _p(),
        "updatedMin": _p(format="date-time"),
    }
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": "calendar:v3",
        "name": "calendar",
        "version": "v3",
        "title": "Google Calendar API (firmsync sandbox)",
        "description": "Manipulates events and other calendar data.",
        "protocol": "rest",
        "rootUrl": root_url,
        "servicePath": "calendar/v3/",
        "baseUrl": root_url + "calendar/v3/",
        "basePath": "/calendar/v3/",
        "batchPath": "batch/calendar/v3",
        "documentationLink": "https://developers.google.com/calendar/firstapp",
        "parameters": {
            "alt": _p(default="json", enum=["json"]),
            "fields": _p(),
            "key": _p(),
            "oauth_token": _p(),
            "prettyPrint": _p("boolean", default="true"),
            "quotaUser": _p(),
            "userIp": _p(),
        },
        "auth": {"oauth2": {"scopes": {scope: {"description": scope} for scope in sorted(CALENDAR_SCOPES)}}},
        "schemas": _schemas(),
        "resources": {
            "calendarList": {
                "methods": {
                    "list": _method(
                        "calendar.calendarList.list",
                        "GET",
                        "users/me/calendarList",
                        {
                            "maxResults": _p("integer", format="int32", minimum="1"),
                            "minAccessRole": _p(enum=["freeBusyReader", "owner", "reader", "writer"]),
                            "pageToken": _p(),
                            "showDeleted": _p("boolean"),
                            "showHidden": _p("boolean"),
                            "syncToken": _p(),
                        },
                        [],
                        response="CalendarList",
                    ),
                    "get": _method(
                        "calendar.calendarList.get",
                        "GET",
                        "users/me/calendarList/{calendarId}",
                        {"calendarId": _PATH_CALENDAR},
                        ["calendarId"],
                        response="CalendarListEntry",
                    ),
                }
            },
            "events": {
                "methods": {
                    "list": _method(
                        "calendar.events.list",
                        "GET",
                        events_path,
                        list_params,
                        ["calendarId"],
                        response="Events",
                    ),
                    "get": _method(
                        "calendar.events.get",
                        "GET",
                        event_path,
                        {
                            "calendarId": _PATH_CALENDAR,
                            "eventId": _PATH_EVENT,
                            "maxAttendees": _p("integer", format="int32", minimum="1"),
                            "timeZone": _p(),
                        },
                        ["calendarId", "eventId"],
                        response="Event",
                    ),
                    "insert": _method(
                        "calendar.events.insert",
                        "POST",
                        events_path,
                        {"calendarId": _PATH_CALENDAR, **_WRITE_QUERY},
                        ["calendarId"],
                        request="Event",
                        response="Event",
                        scopes=_EVENT_SCOPES,
                    ),
                    "update": _method(
                        "calendar.events.update",
                        "PUT",
                        event_path,
                        {"calendarId": _PATH_CALENDAR, "eventId": _PATH_EVENT, **_WRITE_QUERY},
                        ["calendarId", "eventId"],
                        request="Event",
                        response="Event",
                        scopes=_EVENT_SCOPES,
                    ),
                    "patch": _method(
                        "calendar.events.patch",
                        "PATCH",
                        event_path,
                        {"calendarId": _PATH_CALENDAR, "eventId": _PATH_EVENT, **_WRITE_QUERY},
                        ["calendarId", "eventId"],
                        request="Event",
                        response="Event",
                        scopes=_EVENT_SCOPES,
                    ),
                    "delete": _method(
                        "calendar.events.delete",
                        "DELETE",
                        event_path,
                        {
                            "calendarId": _PATH_CALENDAR,
                            "eventId": _PATH_EVENT,
                            "sendNotifications": _p("boolean"),
                            "sendUpdates": _p(enum=["all", "externalOnly", "none"]),
                        },
                        ["calendarId", "eventId"],
                        scopes=_EVENT_SCOPES,
                    ),
                }
            },
        },
    }


def discovery_router() -> APIRouter:
    router = APIRouter(tags=["Google API discovery"])

    @router.get("/discovery/v1/apis/calendar/v3/rest", summary="The Calendar API's discovery document")
    async def calendar_discovery(request: Request) -> dict[str, Any]:
        return document(mount_url(request) + "/")

    return router
