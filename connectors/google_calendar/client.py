"""Google Calendar client: one staff member's calendars through google-api-python-client (see `transport`).

Reading: per calendar, a full sync (`events.list` without a sync token, from `sync_window_days` ago) pages
through `nextPageToken` and ends with a `nextSyncToken`; later syncs send it and receive only what changed,
deleted events as `status: "cancelled"` (developers.google.com/calendar/api/guides/sync). The stream's
cursor is every calendar's sync token, as JSON; a page in the middle of a calendar carries the cursor as it
was before that calendar, so resuming re-reads the calendar (loads are upserts). An expired token (410
fullSyncRequired) raises `CursorExpiredError`: the engine starts over with a full sync.

Writing: insert with a client-chosen event id (a retried insert whose answer was lost finds the event
instead of making a second one), update and delete with `If-Match: <etag>`; a stale etag (412) raises
`ConflictError` carrying Google's current event.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import google_auth_httplib2
import httplib2

from connectors.base import (
    CompositeBucket,
    ConflictError,
    Page,
    PermanentError,
    RetryPolicy,
    Stream,
    TokenBucket,
    TokenSet,
    retrying,
    shared_bucket,
)
from connectors.google_calendar.config import GoogleCalendarConfig, GoogleCalendarCredentials
from connectors.google_calendar.transport import (
    PROVIDER,
    EventGone,
    PreconditionFailed,
    ReportingCredentials,
    authorized_http,
    calendar_service,
    call,
)

log = logging.getLogger("connectors.google_calendar")

STREAM = "events"
STREAMS = (STREAM,)
PAGE_SIZE = 250  # Google's default page; it allows up to 2500
# Google recommends exponential backoff to about a minute (developers.google.com/calendar/api/guides/errors).
DEFAULT_RETRY_POLICY = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=64.0, max_retry_after=300.0)
CALENDAR_KEY = "calendarId"  # added to every record: Google's event resource does not name its calendar


def _naive_utc(moment: datetime | None) -> datetime | None:
    # google-auth compares expiries with a naive UTC "now".
    return moment.astimezone(UTC).replace(tzinfo=None) if moment is not None else None


def load_cursor(cursor: str | None) -> dict[str, str]:
    """Sync token per calendar id from a stored cursor (None or empty: every calendar needs a full sync)."""
    if not cursor:
        return {}
    try:
        tokens = json.loads(cursor)["calendars"]
    except (ValueError, KeyError, TypeError) as error:
        raise PermanentError(PROVIDER, "stored cursor is not a Google Calendar cursor") from error
    return {str(k): str(v) for k, v in tokens.items()}


def dump_cursor(tokens: dict[str, str]) -> str:
    return json.dumps({"calendars": tokens}, sort_keys=True, separators=(",", ":"))


class GoogleCalendarClient:
    """One Google user's calendars. `on_tokens` receives every refreshed `TokenSet` before it is used."""

    provider = PROVIDER

    def __init__(
        self,
        config: GoogleCalendarConfig,
        credentials: GoogleCalendarCredentials,
        *,
        on_tokens: Callable[[TokenSet], None],
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        bucket: TokenBucket | None = None,
        vendor_bucket: TokenBucket | None = None,
        timeout: float = 30.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._on_tokens = on_tokens
        self._policy = retry_policy
        self._now = now
        self._credentials = ReportingCredentials(
            token=credentials.access_token.get_secret_value() if credentials.access_token else None,
            refresh_token=credentials.refresh_token.get_secret_value(),
            token_uri=config.token_url,
            client_id=config.client_id,
            client_secret=credentials.client_secret.get_secret_value(),
            scopes=list(config.scopes),
            expiry=_naive_utc(credentials.expires_at),
        )
        self._credentials.listener = self._refreshed
        user_bucket = bucket or shared_bucket(
            f"{PROVIDER}:{config.api_endpoint}:{config.account_email}",
            lambda: TokenBucket.per_minute(config.requests_per_minute),
        )
        self._bucket: TokenBucket | CompositeBucket = (
            CompositeBucket(user_bucket, vendor_bucket) if vendor_bucket is not None else user_bucket
        )
        self._http = httplib2.Http(timeout=timeout)
        self._service = calendar_service(authorized_http(self._credentials, self._http), config.api_endpoint)
        self._events = self._service.events()

    def __repr__(self) -> str:
        return (
            f"GoogleCalendarClient(account={self.config.account_email!r}, api={self.config.api_endpoint!r})"
        )

    def close(self) -> None:
        self._service.close()

    def __enter__(self) -> GoogleCalendarClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- tokens

    def _refreshed(self, credentials: ReportingCredentials) -> None:
        expiry = credentials.expiry.replace(tzinfo=UTC) if credentials.expiry else None
        tokens = TokenSet(
            access_token=str(credentials.token),
            # Google does not rotate refresh tokens; google-auth keeps the old one when none comes back.
            refresh_token=str(credentials.refresh_token),
            access_expires_at=expiry,
            refresh_expires_at=None,
        )
        self._on_tokens(tokens)
        log.info("refreshed Google tokens for %s", self.config.account_email)

    def refresh_tokens(self) -> None:
        """Refresh now (e.g. to check a new connection); `on_tokens` receives the result."""
        request = google_auth_httplib2.Request(self._http)
        retrying(lambda: call(lambda: self._credentials.refresh(request)), policy=self._policy)

    # ---- calls

    def _execute(self, make_request: Callable[[], Any], *, if_match: str | None = None) -> Any:
        def attempt() -> Any:
            self._bucket.acquire()
            request = make_request()
            if if_match is not None:
                request.headers["If-Match"] = if_match
            return call(lambda: request.execute(num_retries=0))

        return retrying(attempt, policy=self._policy)

    def _calendar_id(self, calendar_id: str) -> str:
        return self.config.account_email if calendar_id == "primary" else calendar_id

    # ---- reading

    def list_calendars(self) -> list[dict[str, Any]]:
        """The user's calendar list entries (`calendarList.list`, every page)."""
        entries: list[dict[str, Any]] = []
        page_token: str | None = None
        while True:
            body = self._execute(
                lambda token=page_token: self._service.calendarList().list(pageToken=token, maxResults=250)
            )
            entries.extend(body.get("items") or [])
            page_token = body.get("nextPageToken")
            if not page_token:
                return entries

    def list_page(
        self,
        calendar_id: str,
        *,
        sync_token: str | None = None,
        page_token: str | None = None,
        max_results: int = PAGE_SIZE,
        time_min: datetime | None = None,
    ) -> dict[str, Any]:
        """One raw `events.list` answer. Without a sync token it is a full sync's page (events ending after
        `time_min`, if given); with one, only the changes (410 raises CursorExpiredError). Every page of one
        result set must repeat the first page's parameters."""
        params: dict[str, Any] = {
            "calendarId": calendar_id,
            "maxResults": max_results,
            "singleEvents": self.config.single_events,
        }
        if page_token:
            params["pageToken"] = page_token
        if sync_token:
            params["syncToken"] = sync_token
        elif time_min is not None:
            params["timeMin"] = time_min.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return self._execute(lambda: self._events.list(**params))

    def _full_sync_start(self) -> datetime | None:
        days = self.config.sync_window_days
        return None if days is None else (self._now() - timedelta(days=days)).replace(microsecond=0)

    def pages(self, cursor: str | None = None, page_size: int = PAGE_SIZE) -> Iterator[Page]:
        """Events of every configured calendar changed since `cursor` (all of them when None)."""
        tokens = load_cursor(cursor)
        calendars = list(dict.fromkeys(self._calendar_id(c) for c in self.config.calendar_ids))
        for position, calendar_id in enumerate(calendars):
            last_calendar = position == len(calendars) - 1
            sync_token, page_token = tokens.get(calendar_id), None
            time_min = None if sync_token else self._full_sync_start()
            while True:
                body = self.list_page(
                    calendar_id,
                    sync_token=sync_token,
                    page_token=page_token,
                    max_results=page_size,
                    time_min=time_min,
                )
                records = [{**item, CALENDAR_KEY: calendar_id} for item in body.get("items") or []]
                page_token = body.get("nextPageToken")
                if page_token:
                    yield Page(records, dump_cursor(tokens) if tokens else None, has_more=True)
                    continue
                next_sync = body.get("nextSyncToken")
                if not next_sync:
                    raise PermanentError(PROVIDER, f"calendar {calendar_id}: last page without nextSyncToken")
                tokens[calendar_id] = next_sync
                yield Page(records, dump_cursor(tokens), has_more=not last_calendar)
                break

    def streams(self) -> dict[str, Stream]:
        return {STREAM: GoogleCalendarStream(self)}

    def get_event(self, calendar_id: str, event_id: str) -> dict[str, Any]:
        return self._execute(lambda: self._events.get(calendarId=calendar_id, eventId=event_id))

    # ---- pushing

    def insert_event(self, calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create an event; Google's copy back. With an `id` in `body`, a retry after a lost answer (409
        duplicate) returns the event made by the first attempt."""
        try:
            return self._execute(
                lambda: self._events.insert(calendarId=calendar_id, body=body, sendUpdates="none")
            )
        except PermanentError as error:
            if error.status_code == 409 and body.get("id"):
                return self.get_event(calendar_id, str(body["id"]))
            raise

    def update_event(
        self, calendar_id: str, event_id: str, body: dict[str, Any], etag: str | None
    ) -> dict[str, Any]:
        """Replace an event unless it changed in Google since `etag` was read (None: overwrite)."""
        try:
            return self._execute(
                lambda: self._events.update(
                    calendarId=calendar_id, eventId=event_id, body=body, sendUpdates="none"
                ),
                if_match=etag,
            )
        except PreconditionFailed as error:
            raise self._conflict(calendar_id, event_id, error) from None

    def patch_event(
        self, calendar_id: str, event_id: str, changes: dict[str, Any], etag: str | None
    ) -> dict[str, Any]:
        """Change some fields of an event, with the same etag rule as `update_event`."""
        try:
            return self._execute(
                lambda: self._events.patch(
                    calendarId=calendar_id, eventId=event_id, body=changes, sendUpdates="none"
                ),
                if_match=etag,
            )
        except PreconditionFailed as error:
            raise self._conflict(calendar_id, event_id, error) from None

    def delete_event(self, calendar_id: str, event_id: str, etag: str | None = None) -> None:
        """Delete an event (an event already deleted is fine); a stale etag raises ConflictError."""
        try:
            self._execute(
                lambda: self._events.delete(calendarId=calendar_id, eventId=event_id, sendUpdates="none"),
                if_match=etag,
            )
        except EventGone:
            return
        except PreconditionFailed as error:
            raise self._conflict(calendar_id, event_id, error) from None

    def _conflict(self, calendar_id: str, event_id: str, error: ConflictError) -> ConflictError:
        current = self.get_event(calendar_id, event_id)
        return ConflictError(
            PROVIDER,
            f"event {event_id} changed in Google (etag now {current.get('etag')})",
            current=current,
            status_code=error.status_code,
        )


@dataclass(frozen=True)
class GoogleCalendarStream:
    """The configured calendars' events as one generic `Stream`: Google event resources plus `calendarId`."""

    client: GoogleCalendarClient
    page_size: int = PAGE_SIZE

    @property
    def name(self) -> str:
        return STREAM

    @property
    def primary_key(self) -> tuple[str, ...]:
        return (CALENDAR_KEY, "id")

    def pages(self, cursor: str | None) -> Iterator[Page]:
        return self.client.pages(cursor, page_size=self.page_size)
