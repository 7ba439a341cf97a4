"""events.list: paging, full and incremental sync (developers.google.com/calendar/api/v3/reference/events/
list and developers.google.com/calendar/api/guides/sync).

- Pages hold `maxResults` items (default 250, at most 2500); `nextPageToken` continues a result set and
  `nextSyncToken` comes with the last page only.
- A page token is a keyset position (the last item's sort key) plus a fingerprint of the query, so events
  created or deleted while a client pages never shift another out of sight. The result set is the calendar
  as of the first page's change number: the sync token of the last page starts from there, so an edit
  made while paging comes again in the next incremental sync (at least once, never lost).
- With `syncToken`, the answer is every event changed since the token, deleted ones included as
  `{"kind", "etag", "id", "status": "cancelled"}`. The restrictions timeMin, timeMax, updatedMin, q,
  iCalUID, orderBy and the extended-property filters may not come with it (400), nor `showDeleted=false`.
  A sync token keeps the time window of the full sync it came from. An expired one answers
  410 fullSyncRequired. When nothing changed, the same token comes back.
- `singleEvents=true` expands recurring series into instances (see `recurrence`); without it the series
  is one event with `recurrence`. `orderBy=startTime` needs `singleEvents=true`.
- `timeMin` is an exclusive bound on an event's end, `timeMax` on its start; both need an offset.
"""

import hashlib
import json
import time as _time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from connectors.sandbox.common.signed_tokens import InvalidToken, TokenSigner
from connectors.sandbox.google import errors, recurrence
from connectors.sandbox.google.calendars import Calendar, StoredEvent
from connectors.sandbox.google.errors import bad_request
from connectors.sandbox.google.timefmt import bound, parse_instant, rfc3339_ms, utc_key

DEFAULT_PAGE = 250
MAX_PAGE = 2500
SYNC_RESTRICTIONS = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)
# Parameters that do not change which events a query means (so they may differ between pages).
_NOT_FINGERPRINTED = {"pageToken", "maxResults", "fields", "prettyPrint", "alt", "quotaUser", "key"}
# How far an endless series is expanded when the query sets no timeMax.
EXPANSION_HORIZON = timedelta(days=730)


def _flag(params: Mapping[str, str], name: str) -> bool | None:
    value = params.get(name)
    if value is None:
        return None
    if value.lower() not in ("true", "false"):
        raise bad_request(f"Invalid boolean value: '{value}'.", location=name)
    return value.lower() == "true"


def _fingerprint(params: Mapping[str, str]) -> str:
    stable = sorted((k, v) for k, v in params.items() if k not in _NOT_FINGERPRINTED)
    return hashlib.sha256(json.dumps(stable).encode()).hexdigest()[:16]


def _cancelled(stored: StoredEvent) -> dict[str, Any]:
    event = stored.resource
    tombstone = {"kind": event["kind"], "etag": event["etag"], "id": event["id"], "status": "cancelled"}
    for key in ("recurringEventId", "originalStartTime"):
        if key in event:
            tombstone[key] = event[key]
    return tombstone


class EventLister:
    def __init__(self, signer_secret: str, sync_ttl_for: Any, now: Any = _time.time) -> None:
        self._pages = TokenSigner(signer_secret, "google-calendar-page", "")
        self._syncs = TokenSigner(signer_secret, "google-calendar-sync", "")
        self._sync_ttl_for = sync_ttl_for  # (calendar) -> seconds a sync token lives
        self._now = now

    # ---- tokens

    def _sync_token(self, calendar: Calendar, seq: int, window: dict[str, str | None]) -> str:
        return self._syncs.sign({"c": calendar.id, "s": seq, "t": self._now(), **window})

    def _read_sync_token(self, calendar: Calendar, token: str) -> dict[str, Any]:
        try:
            claims = self._syncs.verify(token)
        except InvalidToken:
            raise bad_request("Invalid sync token value.", location="syncToken") from None
        if claims.get("c") != calendar.id:
            raise bad_request("Invalid sync token value.", location="syncToken")
        issued = float(claims["t"])
        if issued <= calendar.sync_tokens_expired_at or issued + self._sync_ttl_for(calendar) <= self._now():
            raise errors.full_sync_required()
        return claims

    def _read_page_token(self, calendar: Calendar, token: str, fingerprint: str) -> dict[str, Any]:
        try:
            claims = self._pages.verify(token)
        except InvalidToken:
            raise bad_request("Invalid page token value.", location="pageToken") from None
        if claims.get("c") != calendar.id or claims.get("f") != fingerprint:
            raise bad_request("Invalid page token value.", location="pageToken")
        return claims

    # ---- the list call

    def list_events(self, calendar: Calendar, params: Mapping[str, str]) -> dict[str, Any]:
        try:
            max_results = int(params.get("maxResults", DEFAULT_PAGE))
        except ValueError:
            raise bad_request("Invalid value for: maxResults", location="maxResults") from None
        if max_results < 1:
            raise bad_request("Invalid value for: maxResults", location="maxResults")
        max_results = min(max_results, MAX_PAGE)
        single = bool(_flag(params, "singleEvents"))
        show_deleted = _flag(params, "showDeleted")
        sync_token = params.get("syncToken")
        order_by = params.get("orderBy")
        if order_by not in (None, "startTime", "updated"):
            raise bad_request("Invalid value for: orderBy", location="orderBy")
        if order_by == "startTime" and not single:
            raise bad_request("The requested ordering is not available for the particular query.")

        base: int | None = None
        window: dict[str, str | None] = {"tmin": params.get("timeMin"), "tmax": params.get("timeMax")}
        if sync_token is not None:
            if any(params.get(name) is not None for name in SYNC_RESTRICTIONS) or show_deleted is False:
                raise bad_request(
                    "Sync token cannot be used with other request restrictions.",
                    reason="syncTokenWithRequestRestrictions",
                )
            claims = self._read_sync_token(calendar, sync_token)
            base = int(claims["s"])
            window = {"tmin": claims.get("tmin"), "tmax": claims.get("tmax")}
        after = parse_instant(window["tmin"], "timeMin") if window["tmin"] else None
        before = parse_instant(window["tmax"], "timeMax") if window["tmax"] else None
        if after is not None and before is not None and before <= after:
            raise errors.GoogleError(
                400,
                "timeRangeEmpty",
                "The specified time range is empty.",
                domain="calendar",
                location="timeMax",
            )
        updated_min = parse_instant(params["updatedMin"], "updatedMin") if params.get("updatedMin") else None

        fingerprint = _fingerprint(params)
        page_token = params.get("pageToken")
        if page_token is not None:
            position = self._read_page_token(calendar, page_token, fingerprint)
            snapshot, last_key = int(position["s"]), position["k"]
        else:
            snapshot, last_key = calendar.seq, None

        items = self._items(
            calendar,
            base=base,
            after=after,
            before=before,
            single=single,
            with_deleted=base is not None or bool(show_deleted) or updated_min is not None,
            updated_min=updated_min,
            text=params.get("q"),
            ical_uid=params.get("iCalUID"),
        )
        keyed = sorted(((self._key(item, calendar, order_by), item) for item in items), key=lambda p: p[0])
        if last_key is not None:
            keyed = [pair for pair in keyed if pair[0] > last_key]
        page = keyed[:max_results]
        answer: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"{calendar.last_us or 1}"',
            "summary": calendar.summary,
            "description": calendar.description or "",
            "updated": rfc3339_ms((calendar.last_us or 1_000_000) / 1e6),
            "timeZone": calendar.time_zone,
            "accessRole": "owner",
            "defaultReminders": [{"method": "popup", "minutes": 10}] if calendar.primary else [],
        }
        if len(keyed) > max_results:
            answer["nextPageToken"] = self._pages.sign(
                {"c": calendar.id, "s": snapshot, "k": page[-1][0], "f": fingerprint}
            )
        elif sync_token is not None and not keyed and page_token is None:
            answer["nextSyncToken"] = sync_token  # nothing changed: Google hands the same token back
        else:
            answer["nextSyncToken"] = self._sync_token(calendar, snapshot, window)
        answer["items"] = [item for _, item in page]
        return answer

    @staticmethod
    def _key(item: dict[str, Any], calendar: Calendar, order_by: str | None) -> list[str]:
        if order_by == "startTime" and "start" in item:
            return [utc_key(bound(item["start"], calendar.time_zone)), item["id"]]
        if order_by == "updated":
            return [item.get("updated", ""), item["id"]]
        return [item["id"]]

    def _items(
        self,
        calendar: Calendar,
        *,
        base: int | None,
        after: datetime | None,
        before: datetime | None,
        single: bool,
        with_deleted: bool,
        updated_min: datetime | None,
        text: str | None,
        ical_uid: str | None,
    ) -> list[dict[str, Any]]:
        horizon = datetime.fromtimestamp(self._now()).astimezone() + EXPANSION_HORIZON
        out: list[dict[str, Any]] = []
        for stored in list(calendar.events.values()):
            if base is not None and stored.seq <= base:
                continue
            event = stored.resource
            if updated_min is not None and datetime.fromisoformat(event["updated"]) < updated_min:
                continue
            if ical_uid is not None and event.get("iCalUID") != ical_uid:
                continue
            if stored.cancelled:
                if with_deleted:
                    out.append(_cancelled(stored))
                continue
            if text and not _matches(event, text):
                continue
            if "recurrence" in event:
                if single:
                    out.extend(recurrence.expand(event, calendar.time_zone, after, before, horizon))
                elif before is None or bound(event["start"], calendar.time_zone) < before:
                    out.append(event)
                continue
            start, end = bound(event["start"], calendar.time_zone), bound(event["end"], calendar.time_zone)
            if (after is not None and end <= after) or (before is not None and start >= before):
                continue
            out.append(event)
        return out


def _matches(event: dict[str, Any], text: str) -> bool:
    haystack = " ".join(
        str(event.get(name) or "") for name in ("summary", "description", "location")
    ) + " ".join(str(a.get("email", "")) for a in event.get("attendees") or [])
    return all(word.lower() in haystack.lower() for word in text.split())
