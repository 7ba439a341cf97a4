"""The Calendar API v3 methods the sandbox serves (developers.google.com/calendar/api/v3/reference):
calendarList.list/get and events.list/get/insert/update/patch/delete, under ``/calendar/v3``.

Writes honour ``If-Match`` (a stale etag is 412 conditionNotMet); ``get`` honours ``If-None-Match`` (304).
A token needs a Calendar scope that allows the call, else 403 insufficientPermissions.
"""

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from connectors.sandbox.google import errors
from connectors.sandbox.google.calendars import Calendar
from connectors.sandbox.google.gateway import ACCOUNT_SCOPE_KEY, GRANT_SCOPE_KEY
from connectors.sandbox.google.state import Account, GoogleState
from connectors.sandbox.google.tokens import Grant

SCOPE = "https://www.googleapis.com/auth/"
READ_EVENTS = {
    f"{SCOPE}{s}" for s in ("calendar", "calendar.readonly", "calendar.events", "calendar.events.readonly")
}
WRITE_EVENTS = {f"{SCOPE}{s}" for s in ("calendar", "calendar.events")}
READ_LIST = {
    f"{SCOPE}{s}"
    for s in ("calendar", "calendar.readonly", "calendar.calendarlist", "calendar.calendarlist.readonly")
}
LIST_PAGE = 100
LIST_MAX_PAGE = 250


def _caller(request: Request, allowed: set[str]) -> Account:
    grant: Grant = request.scope[GRANT_SCOPE_KEY]
    if not allowed.intersection(grant.scopes):
        raise errors.insufficient_scopes()
    return request.scope[ACCOUNT_SCOPE_KEY]


def _calendar(account: Account, calendar_id: str) -> Calendar:
    calendar = account.primary if calendar_id == "primary" else account.calendars.get(calendar_id)
    if calendar is None:
        raise errors.not_found()
    return calendar


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise errors.GoogleError(400, "parseError", "Parse Error") from None
    if not isinstance(body, dict):
        raise errors.GoogleError(400, "parseError", "Parse Error")
    return body


def api_router(state: GoogleState) -> APIRouter:
    router = APIRouter(prefix="/calendar/v3", tags=["Google Calendar API v3"])
    now = state.clock.now

    @router.get("/users/me/calendarList", summary="calendarList.list")
    async def calendar_list(request: Request) -> Response:
        account = _caller(request, READ_LIST)
        try:
            size = min(int(request.query_params.get("maxResults", LIST_PAGE)), LIST_MAX_PAGE)
            offset = int(request.query_params.get("pageToken") or 0)
        except ValueError:
            raise errors.bad_request("Invalid page token value.", location="pageToken") from None
        entries = [calendar.list_entry() for calendar in account.calendars.values()]
        page = entries[offset : offset + size]
        answer: dict[str, Any] = {"kind": "calendar#calendarList", "etag": f'"{len(entries)}"'}
        if offset + size < len(entries):
            answer["nextPageToken"] = str(offset + size)
        else:
            answer["nextSyncToken"] = f"sbx-calendarlist-{len(entries)}"
        answer["items"] = page
        return JSONResponse(answer)

    @router.get("/users/me/calendarList/{calendar_id}", summary="calendarList.get")
    async def calendar_list_get(calendar_id: str, request: Request) -> Response:
        account = _caller(request, READ_LIST)
        return JSONResponse(_calendar(account, calendar_id).list_entry())

    @router.get("/calendars/{calendar_id}/events", summary="events.list")
    async def list_events(calendar_id: str, request: Request) -> Response:
        calendar = _calendar(_caller(request, READ_EVENTS), calendar_id)
        return JSONResponse(state.lister.list_events(calendar, request.query_params))

    @router.post("/calendars/{calendar_id}/events", summary="events.insert")
    async def insert_event(calendar_id: str, request: Request) -> Response:
        account = _caller(request, WRITE_EVENTS)
        calendar = _calendar(account, calendar_id)
        return JSONResponse(calendar.insert(await _json(request), now(), creator=account.email))

    @router.get("/calendars/{calendar_id}/events/{event_id}", summary="events.get")
    async def get_event(calendar_id: str, event_id: str, request: Request) -> Response:
        event = _calendar(_caller(request, READ_EVENTS), calendar_id).get(event_id)
        if_none_match = request.headers.get("if-none-match")
        if if_none_match and event["etag"] in {t.strip() for t in if_none_match.split(",")}:
            return Response(status_code=304, headers={"ETag": event["etag"]})
        return JSONResponse(event, headers={"ETag": event["etag"]})

    @router.put("/calendars/{calendar_id}/events/{event_id}", summary="events.update")
    async def update_event(calendar_id: str, event_id: str, request: Request) -> Response:
        calendar = _calendar(_caller(request, WRITE_EVENTS), calendar_id)
        body = await _json(request)
        return JSONResponse(calendar.replace(event_id, body, now(), request.headers.get("if-match")))

    @router.patch("/calendars/{calendar_id}/events/{event_id}", summary="events.patch")
    async def patch_event(calendar_id: str, event_id: str, request: Request) -> Response:
        calendar = _calendar(_caller(request, WRITE_EVENTS), calendar_id)
        body = await _json(request)
        return JSONResponse(calendar.patch(event_id, body, now(), request.headers.get("if-match")))

    @router.delete("/calendars/{calendar_id}/events/{event_id}", status_code=204, summary="events.delete")
    async def delete_event(calendar_id: str, event_id: str, request: Request) -> Response:
        calendar = _calendar(_caller(request, WRITE_EVENTS), calendar_id)
        calendar.delete(event_id, now(), request.headers.get("if-match"))
        return Response(status_code=204)

    return router
