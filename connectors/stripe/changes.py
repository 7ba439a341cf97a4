"""Incremental reads of a Stripe account: new objects by `created`, changes to older ones from the events API.

One cursor per stream, an instant T (ISO-8601, UTC): "every change to this stream's objects whose event was
created before T is in the warehouse". A read from T:

1. the events created at or after T (`GET /v1/events?created[gte]=T`, every page, newest first), reduced to
   the newest change per object (`mapping.latest_changes`) and kept to this stream: one page of snapshots,
   a deletion as its snapshot marked `"deleted": true` (a tombstone: the row keeps its columns and gets
   `deleted_at`). It goes first, with the old cursor, so the list pages after it (current state) win;
2. the objects created at or after T (`created[gte]=T` + `starting_after`, `CreatedPager`), each page with
   the old cursor, the last one with the new cursor:

       T' = max(T, newest event read, now - EVENTS_LAG)

   Not the newest `created` listed: an object listed during the walk may be newer than a change whose event
   was not listable yet when the events were read, and a cursor past that event would skip it. Events are
   listable within moments of their `created`; `EVENTS_LAG` (a day) covers that and any clock skew, and
   keeps the cursor of a quiet account (no event for weeks) from aging past Stripe's 30 days of events.

With no cursor (first sync, full refresh) the whole list is read, and T' = max(newest event at the start,
now - EVENTS_LAG): the list is the state as of then, and every later change has a later event.

A cursor older than the events Stripe keeps raises `CursorExpiredError` before anything is read; the sync
engine then re-reads the stream whole (and soft-deletes what is no longer listed, e.g. deleted customers).
Every stream's read of the same T shares one events walk (`StripeChangeReader` remembers it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import Page, StreamCursor
from connectors.stripe.client import PAGE_SIZE, CreatedPager, StripeAccountClient
from connectors.stripe.mapping import STREAM_OF_OBJECT, latest_changes

EVENTS_LAG = timedelta(days=1)
SYNCED_STREAMS: tuple[str, ...] = tuple(STREAM_OF_OBJECT.values())


def _instant(created: int) -> datetime:
    return datetime.fromtimestamp(created, UTC)


def is_deleted(payload: dict[str, Any]) -> bool:
    """A deletion: Stripe's `{id, object, deleted: true}` stub, or an event's snapshot marked so here."""
    return payload.get("deleted") is True


class StripeChangeReader:
    """The sync's view of one account: `pages(stream, cursor)` as described above; `retrieve` and the rest
    of `StripeAccountClient` pass through (webhook events fetch the current state of what they name)."""

    def __init__(
        self,
        client: StripeAccountClient,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self._now = now
        self._events: dict[str, list[dict[str, Any]]] = {}
        self._head: int | None | bool = False  # False: not asked yet
        self._floor: datetime | None = None
        self.event_calls = 0  # events pages read (tests and run metadata)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def close(self) -> None:
        self.client.close()

    # ---- events, read once per cursor

    def events_since(self, since: str) -> list[dict[str, Any]]:
        """Every event created at or after `since`, newest first (CursorExpiredError when too old)."""
        if since not in self._events:
            events: list[dict[str, Any]] = []
            for page in self.client.pages("events", since):
                self.event_calls += 1
                events.extend(page.records)
            self._events[since] = events
        return self._events[since]

    def newest_event_created(self) -> int | None:
        if self._head is False:
            rows, _ = self.client.list_page("events", limit=1)
            self.event_calls += 1
            self._head = rows[0]["created"] if rows else None
        return self._head  # type: ignore[return-value]

    def floor(self) -> datetime:
        """now - EVENTS_LAG, in whole seconds, fixed for the reader's life: every stream of one sync ends
        on the same cursor, so the next sync's streams share one events walk."""
        if self._floor is None:
            self._floor = (self._now() - EVENTS_LAG).replace(microsecond=0)
        return self._floor

    # ---- stream pages

    def pages(self, stream: str, cursor: str | None, page_size: int = PAGE_SIZE) -> Iterator[Page]:
        if stream not in SYNCED_STREAMS:
            raise ValueError(f"not a synced Stripe stream: {stream!r}")
        floor = self.floor()
        if cursor is None:
            head = self.newest_event_created()
            newest = max(floor, _instant(head)) if head is not None else floor
            return self._listed(stream, None, newest, page_size)
        events = self.events_since(cursor)  # raises CursorExpiredError first, before any page
        newest = max(StreamCursor.parse(cursor).value, floor)
        if events:
            newest = max(newest, _instant(max(e["created"] for e in events)))
        changed = [
            {**change.payload, "deleted": True} if change.deleted else change.payload
            for change in latest_changes(events).values()
            if change.stream == stream
        ]
        return self._changed_then_listed(stream, cursor, changed, newest, page_size)

    def created_pages(self, stream: str, since: str | None, page_size: int = PAGE_SIZE) -> Iterator[Page]:
        """A time-range backfill: the objects created at or after `since` as they are now (no events: the
        window's start may be older than Stripe keeps them). The engine leaves the cursor alone."""
        if stream not in SYNCED_STREAMS:
            raise ValueError(f"not a synced Stripe stream: {stream!r}")
        return self.client.pages(stream, since, page_size)

    def _changed_then_listed(
        self, stream: str, cursor: str, changed: list[dict[str, Any]], newest: datetime, page_size: int
    ) -> Iterator[Page]:
        if changed:
            yield Page(changed, cursor, has_more=True)
        yield from self._listed(stream, cursor, newest, page_size)

    def _listed(self, stream: str, since: str | None, newest: datetime, page_size: int) -> Iterator[Page]:
        def fetch(created_gte: int | None, starting_after: str | None) -> tuple[list[dict[str, Any]], bool]:
            return self.client.list_page(
                stream, created_gte=created_gte, starting_after=starting_after, limit=page_size
            )

        final = StreamCursor(newest).serialise()
        for page in CreatedPager(fetch).pages(since):
            yield page if page.has_more else Page(page.records, final, has_more=False)


__all__ = ["EVENTS_LAG", "SYNCED_STREAMS", "StripeChangeReader", "is_deleted"]
