"""EntityPager's keyset paging, run against an in-memory stand-in for the QBO query endpoint, so
the awkward cases (ties larger than a page, customers changing mid-sync) are exact and repeatable."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.base import PermanentError, StreamCursor
from connectors.quickbooks.entities import CUSTOMER, INVOICE, QboEntity
from connectors.quickbooks.paging import EntityPager

T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
_CONDITION = r"Metadata\.LastUpdatedTime (?P<op>>=|>|=) '(?P<ts>[^']+)'"


def statement_pattern(entity: QboEntity) -> re.Pattern[str]:
    """What the pager may send: list entities always name `Active` (QBO hides inactive rows otherwise),
    transactions have no `Active` and no WHERE at all on a full read."""
    if entity.name_list:
        where = rf" WHERE Active IN \(true, false\)(?: AND {_CONDITION})?"
    else:
        where = rf"(?: WHERE {_CONDITION})?"
    return re.compile(
        rf"^SELECT \* FROM {entity.name}{where}"
        r" ORDERBY Metadata\.LastUpdatedTime STARTPOSITION (?P<start>\d+) MAXRESULTS (?P<size>\d+)$"
    )


class FakeCustomerQuery:
    """Answers the pager's statements like QBO: filter, order by LastUpdatedTime (ties in Id order),
    STARTPOSITION is 1-based. `after_query` lets a test change data between requests."""

    def __init__(self, stamps: dict[str, datetime], entity: QboEntity = CUSTOMER) -> None:
        self.entity = entity
        self.pattern = statement_pattern(entity)
        self.stamps = dict(stamps)
        self.statements: list[str] = []
        self.after_query: Callable[[int], None] | None = None

    def touch(self, customer_id: str, when: datetime) -> None:
        self.stamps[customer_id] = when

    def __call__(self, statement: str) -> dict[str, Any]:
        match = self.pattern.match(statement)
        assert match, statement
        self.statements.append(statement)
        rows = sorted(self.stamps.items(), key=lambda item: (item[1], int(item[0])))
        if match["op"]:
            bound = datetime.fromisoformat(match["ts"])
            compare = {">=": lambda t: t >= bound, ">": lambda t: t > bound, "=": lambda t: t == bound}[
                match["op"]
            ]
            rows = [(i, t) for i, t in rows if compare(t)]
        start, size = int(match["start"]), int(match["size"])
        window = rows[start - 1 : start - 1 + size]
        if self.after_query:
            self.after_query(len(self.statements))
        records = [
            {"Id": i, "MetaData": {"LastUpdatedTime": t.astimezone(_pacific()).isoformat()}}
            for i, t in window
        ]
        return (
            {self.entity.name: records, "startPosition": start, "maxResults": len(records)} if records else {}
        )


def _pacific():
    from datetime import timezone

    return timezone(timedelta(hours=-7))


def collect(pager: EntityPager, since: str | None = None) -> tuple[list[str], list[str | None], list[bool]]:
    ids: list[str] = []
    cursors: list[str | None] = []
    more: list[bool] = []
    for page in pager.pages(since):
        ids.extend(r["Id"] for r in page.records)
        cursors.append(page.cursor)
        more.append(page.has_more)
    return ids, cursors, more


def distinct_stamps(n: int) -> dict[str, datetime]:
    return {str(i): T0 + timedelta(seconds=i) for i in range(1, n + 1)}


@pytest.mark.parametrize("entity", [CUSTOMER, INVOICE], ids=lambda e: e.name)
def test_full_sync_returns_every_record_once_in_order_with_a_monotonic_cursor(entity: QboEntity) -> None:
    server = FakeCustomerQuery(distinct_stamps(25), entity)
    ids, cursors, more = collect(EntityPager(server, entity, page_size=10))

    assert ids == [str(i) for i in range(1, 26)]
    assert more[-1] is False and all(more[:-1])
    parsed = [StreamCursor.parse(c) for c in cursors if c]
    assert parsed == sorted(parsed)
    assert cursors[-1] == (T0 + timedelta(seconds=25)).isoformat()
    # keyset, not offsets: every request starts at position 1
    assert all("STARTPOSITION 1 " in s for s in server.statements)
    # only list entities have (and need) the Active filter; a transaction's full read has no WHERE
    assert ("WHERE" in server.statements[0]) is entity.name_list


def test_boundary_rows_shared_between_pages_are_not_repeated() -> None:
    stamps = distinct_stamps(12)
    for i in ("9", "10", "11"):  # page 1 ends inside this group of equal timestamps
        stamps[i] = T0 + timedelta(seconds=9)
    server = FakeCustomerQuery(stamps)
    ids, _, _ = collect(EntityPager(server, CUSTOMER, page_size=10))
    assert sorted(ids, key=int) == [str(i) for i in range(1, 13)]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("entity", [CUSTOMER, INVOICE], ids=lambda e: e.name)
def test_more_rows_at_one_timestamp_than_a_page_are_drained_by_position_and_the_loop_ends(
    entity: QboEntity,
) -> None:
    stamps = {str(i): T0 for i in range(1, 26)}  # 25 records created in the same second
    stamps.update({"26": T0 + timedelta(seconds=5), "27": T0 + timedelta(seconds=6)})
    server = FakeCustomerQuery(stamps, entity)
    ids, cursors, _ = collect(EntityPager(server, entity, page_size=10))

    assert sorted(ids, key=int) == [str(i) for i in range(1, 28)]
    assert len(ids) == len(set(ids))
    assert cursors[-1] == (T0 + timedelta(seconds=6)).isoformat()
    assert any("LastUpdatedTime = " in s and "STARTPOSITION 11 " in s for s in server.statements)
    assert any("LastUpdatedTime > " in s for s in server.statements)
    assert len(server.statements) < 15


def test_customers_updated_mid_sync_are_not_skipped() -> None:
    stamps = {str(i): T0 for i in range(1, 26)}
    stamps.update({str(i): T0 + timedelta(seconds=i) for i in range(26, 41)})
    server = FakeCustomerQuery(stamps)
    later = T0 + timedelta(hours=1)

    def update_during_sync(request_number: int) -> None:
        # While the tie at T0 is being drained by position, two of its early rows change:
        # every row behind them shifts two places towards the front.
        if request_number == 3:
            server.touch("1", later)
            server.touch("2", later + timedelta(seconds=1))
        if request_number == 12:  # the first `> T0` page, which has just returned customer 30
            server.touch("30", later + timedelta(seconds=2))

    server.after_query = update_during_sync
    ids, cursors, _ = collect(EntityPager(server, CUSTOMER, page_size=10))

    assert set(ids) == {str(i) for i in range(1, 41)}
    for moved in ("1", "2", "30"):
        assert ids.count(moved) == 2  # once before, once after the change: the newer version is not lost
    assert len(ids) == 40 + 3
    assert cursors[-1] == (later + timedelta(seconds=2)).isoformat()


def test_incremental_sync_starts_at_the_cursor_inclusively() -> None:
    server = FakeCustomerQuery(distinct_stamps(30))
    since = (T0 + timedelta(seconds=20)).astimezone(_pacific()).isoformat()
    ids, _, more = collect(EntityPager(server, CUSTOMER, page_size=10), since)
    assert more == [True, False]
    assert ids == [str(i) for i in range(20, 31)]  # same second as the cursor is re-read: at-least-once
    assert "Metadata.LastUpdatedTime >= '2024-03-01T12:00:20+00:00'" in server.statements[0]


def test_nothing_changed_keeps_the_cursor() -> None:
    server = FakeCustomerQuery(distinct_stamps(3))
    since = "2030-01-01T00:00:00+00:00"
    pages = list(EntityPager(server, CUSTOMER, page_size=10).pages(since))
    assert len(pages) == 1
    assert pages[0].records == [] and pages[0].cursor == since and not pages[0].has_more


def test_resuming_from_any_page_cursor_skips_nothing() -> None:
    stamps = distinct_stamps(40)
    for i in range(12, 27):
        stamps[str(i)] = T0 + timedelta(seconds=12)
    server = FakeCustomerQuery(stamps)
    pager = EntityPager(server, CUSTOMER, page_size=10)
    loaded: set[str] = set()
    checked = 0
    for page in pager.pages(None):
        loaded |= {r["Id"] for r in page.records}
        # A run killed right after committing this page resumes from its cursor.
        resumed = {r["Id"] for p in pager.pages(page.cursor) for r in p.records}
        assert loaded | resumed == set(stamps)
        checked += 1
    assert checked >= 4


def test_a_server_ignoring_the_exclusive_filter_fails_instead_of_looping() -> None:
    class IgnoresFilters(FakeCustomerQuery):
        def __call__(self, statement: str) -> dict[str, Any]:
            return super().__call__(re.sub(r" AND Metadata\.LastUpdatedTime \S+ '[^']+'", "", statement))

    server = IgnoresFilters({str(i): T0 for i in range(1, 21)})
    with pytest.raises(PermanentError):
        collect(EntityPager(server, CUSTOMER, page_size=10))


@pytest.mark.parametrize("size", [0, 1001])
def test_page_size_is_bounded_by_qbo_maxresults(size: int) -> None:
    with pytest.raises(ValueError):
        EntityPager(FakeCustomerQuery({}), CUSTOMER, page_size=size)
