"""Keyset paging over QBO query results by `Metadata.LastUpdatedTime`, shared by every stream."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from connectors.base import Page, PermanentError, StreamCursor
from connectors.quickbooks.entities import QboEntity
from connectors.quickbooks.transport import PROVIDER

MAX_PAGE_SIZE = 1000  # QBO caps MAXRESULTS at 1000


def updated_at(row: dict[str, Any], entity: QboEntity) -> StreamCursor:
    """A record's `MetaData.LastUpdatedTime`, the key every stream pages and resumes by."""
    try:
        return StreamCursor.parse(row["MetaData"]["LastUpdatedTime"])
    except (KeyError, TypeError, ValueError) as error:
        raise PermanentError(
            PROVIDER, f"{entity.name} {row.get('Id')!r} has no usable MetaData.LastUpdatedTime"
        ) from error


@dataclass
class EntityPager:
    """Incremental, change-safe paging over one entity by `Metadata.LastUpdatedTime`.

    - Keyset, not offsets: each page asks for `LastUpdatedTime >= <max seen>`, so a record
      updated mid-sync (which moves to the end of the order) is never skipped by shifting offsets;
      rows already emitted at exactly that timestamp are dropped by Id.
    - When more records share one timestamp than fit in a page, the keyset cannot advance; that
      timestamp is drained with `= ts` and STARTPOSITION, in passes until a pass finds nothing new
      (a record leaving the block mid-pass shifts positions; the next pass catches what that hid).
      Then paging resumes with `> ts`.
    - List entities (customers, items, accounts) are asked for `Active IN (true, false)`: QBO leaves
      inactive ones out otherwise, and inactive is how they are deleted.
    - Every page's cursor is the max LastUpdatedTime emitted so far. Resuming from it with `>=`
      re-reads only that timestamp's rows (at-least-once at the boundary; loads are upserts).
    - The last page's cursor is at least `settled_at()` (QuickBooks' own time at the last answer, less a
      settle margin for writes in flight) when given: a stream with no records, or none edited for months,
      still gets a recent cursor, so change data capture (30 days) can take over from the query.
    """

    run_query: Callable[[str], dict[str, Any]]
    entity: QboEntity
    page_size: int = MAX_PAGE_SIZE
    settled_at: Callable[[], StreamCursor | None] | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")

    def _fetch(self, condition: str | None, start: int = 1) -> list[dict[str, Any]]:
        name = self.entity.name
        conditions = ["Active IN (true, false)"] if self.entity.name_list else []
        if condition:
            conditions.append(condition)
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        # Only entity names, re-serialised timestamps and ints are interpolated, never caller text.
        statement = (
            f"SELECT * FROM {name} {where}ORDERBY Metadata.LastUpdatedTime "  # noqa: S608
            f"STARTPOSITION {start} MAXRESULTS {self.page_size}"
        )
        rows = self.run_query(statement).get(name) or []
        if not isinstance(rows, list):
            raise PermanentError(PROVIDER, f"QueryResponse.{name} is not a list")
        return rows

    def pages(self, since: str | None) -> Iterator[Page]:
        cursor = StreamCursor.parse(since) if since else None
        lower = cursor  # keyset position: fetch rows at or after this instant
        inclusive = True
        seen_at_lower: set[str] = set()  # Ids already emitted whose timestamp equals `lower`

        while True:
            condition = None
            if lower is not None:
                op = ">=" if inclusive else ">"
                condition = f"Metadata.LastUpdatedTime {op} '{lower.serialise()}'"
            rows = self._fetch(condition)
            stamped = [(row, updated_at(row, self.entity)) for row in rows]
            fresh = [row for row, ts in stamped if not (ts == lower and str(row.get("Id")) in seen_at_lower)]
            top = max((ts for _, ts in stamped), default=None)
            if top is not None and (cursor is None or top > cursor):
                cursor = top

            if len(rows) < self.page_size:
                settled = self.settled_at() if self.settled_at is not None else None
                if settled is not None and (cursor is None or settled > cursor):
                    cursor = settled
                yield Page(fresh, _serialise(cursor), has_more=False)
                return

            assert top is not None  # a full page is never empty
            if not inclusive and lower is not None and top <= lower:
                # The server ignored `>`: continuing would fetch this page forever.
                raise PermanentError(
                    PROVIDER, f"query returned {self.entity.stream} outside the requested time range"
                )
            if lower is None or top > lower:
                # The keyset advances to this page's last timestamp.
                seen_at_lower = {str(row.get("Id")) for row, ts in stamped if ts == top}
                lower, inclusive = top, True
                if fresh:
                    yield Page(fresh, _serialise(cursor), has_more=True)
                continue

            # A full page at exactly `lower`: more rows share it than fit in a page.
            seen_at_lower.update(str(row.get("Id")) for row in fresh)
            if fresh:
                yield Page(fresh, _serialise(cursor), has_more=True)
            yield from self._drain_timestamp(lower, seen_at_lower, cursor)
            inclusive, seen_at_lower = False, set()

    def _drain_timestamp(
        self, ts: StreamCursor, seen: set[str], cursor: StreamCursor | None
    ) -> Iterator[Page]:
        condition = f"Metadata.LastUpdatedTime = '{ts.serialise()}'"
        while True:
            found_new = False
            start = 1
            while True:
                rows = self._fetch(condition, start)
                fresh = [row for row in rows if str(row.get("Id")) not in seen]
                if fresh:
                    found_new = True
                    seen.update(str(row.get("Id")) for row in fresh)
                    yield Page(fresh, _serialise(cursor), has_more=True)
                if len(rows) < self.page_size:
                    break
                start += self.page_size
            if not found_new:
                return


def _serialise(cursor: StreamCursor | None) -> str | None:
    return cursor.serialise() if cursor is not None else None
