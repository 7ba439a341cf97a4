"""ModifiedSincePager against an in-memory stand-in for a Xero collection, so the awkward cases (many
records in one second, either reading of If-Modified-Since, records edited mid-sync) are exact and
repeatable. The stand-in answers like Xero: records at or after (or strictly after) the whole-second
If-Modified-Since, ordered by UpdatedDateUTC (ties in ID order), `page` counted from 1."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import PermanentError, StreamCursor, TransientError
from connectors.xero.client import ModifiedSincePager
from connectors.xero.transport import xero_message

T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)


def ms_date(moment: datetime) -> str:
    return f"/Date({round(moment.timestamp() * 1000)}+0000)/"


class FakeCollection:
    def __init__(self, stamps: dict[str, datetime], *, page_size: int, inclusive: bool = True) -> None:
        self.stamps = dict(stamps)
        self.page_size = page_size
        self.inclusive = inclusive
        self.calls: list[tuple[datetime | None, int]] = []
        self.after_fetch: Callable[[int], None] | None = None

    def __call__(self, header: datetime | None, page: int) -> list[dict]:
        assert header is None or header.microsecond == 0, "If-Modified-Since carries whole seconds"
        self.calls.append((header, page))
        rows = sorted(self.stamps.items(), key=lambda item: (item[1], item[0]))
        if header is not None:
            rows = [(i, t) for i, t in rows if (t >= header if self.inclusive else t > header)]
        window = rows[(page - 1) * self.page_size : page * self.page_size]
        if self.after_fetch:
            self.after_fetch(len(self.calls))
        return [{"ContactID": i, "UpdatedDateUTC": ms_date(t)} for i, t in window]


def pager(fake: FakeCollection, **kwargs) -> ModifiedSincePager:
    return ModifiedSincePager(fake, id_field="ContactID", page_size=fake.page_size, **kwargs)


def drain(p: ModifiedSincePager, since: str | None = None) -> tuple[list[str], str | None]:
    ids: list[str] = []
    cursor = since
    for page in p.pages(since):
        ids.extend(row["ContactID"] for row in page.records)
        cursor = page.cursor
    return ids, cursor


def spread(n: int, step: timedelta, start: datetime = T0) -> dict[str, datetime]:
    return {f"c{i:04d}": start + i * step for i in range(n)}


def test_full_sync_emits_every_record_once_and_ends_at_the_latest() -> None:
    stamps = spread(23, timedelta(seconds=7, milliseconds=130))
    fake = FakeCollection(stamps, page_size=5)
    ids, cursor = drain(pager(fake))
    assert sorted(ids) == sorted(stamps) and len(ids) == len(set(ids))
    assert cursor == StreamCursor(max(stamps.values())).serialise()
    assert fake.calls[0] == (None, 1)
    # Keyset: every request is page 1 from a new second; each re-reads only the previous page's last record.
    assert all(page == 1 for _, page in fake.calls)
    assert len(fake.calls) == 6


@pytest.mark.parametrize("inclusive", [True, False])
def test_resume_reads_only_changes_and_the_records_at_the_cursor(inclusive: bool) -> None:
    stamps = spread(10, timedelta(seconds=3, milliseconds=250))
    fake = FakeCollection(stamps, page_size=4, inclusive=inclusive)
    _, cursor = drain(pager(fake))
    assert cursor == StreamCursor(stamps["c0009"]).serialise()
    fake.stamps["c0002"] = T0 + timedelta(minutes=5, milliseconds=1)  # edited
    fake.stamps["new"] = T0 + timedelta(minutes=5, milliseconds=1)  # created in the same millisecond
    ids, cursor2 = drain(pager(fake), cursor)
    # c0009 sits exactly at the cursor: read again (at-least-once at the boundary, loads are upserts);
    # c0000..c0008 are before it and are not.
    assert sorted(ids) == ["c0002", "c0009", "new"]
    assert cursor2 == StreamCursor(T0 + timedelta(minutes=5, milliseconds=1)).serialise()
    fake.calls.clear()
    again, cursor3 = drain(pager(fake), cursor2)
    assert sorted(again) == ["c0002", "new"] and cursor3 == cursor2
    assert len(fake.calls) == 1


@pytest.mark.parametrize("inclusive", [True, False])
def test_records_on_exact_seconds_are_not_lost_at_the_boundary(inclusive: bool) -> None:
    # A server that keeps whole seconds and reads If-Modified-Since as "after": asking from the
    # latest second seen would skip its ties; the pager asks from one second before.
    stamps = {f"c{i}": T0 + timedelta(seconds=i // 3) for i in range(12)}
    fake = FakeCollection(stamps, page_size=4, inclusive=inclusive)
    ids, _ = drain(pager(fake))
    assert sorted(ids) == sorted(stamps) and len(ids) == len(set(ids))
    # Resuming exactly at a tie re-reads that second (at-least-once), but never misses a record.
    fake.stamps["late"] = T0 + timedelta(seconds=3)
    resumed, _ = drain(pager(fake), StreamCursor(T0 + timedelta(seconds=3)).serialise())
    assert "late" in resumed


@pytest.mark.parametrize("inclusive", [True, False])
@pytest.mark.parametrize("fraction", [timedelta(0), timedelta(milliseconds=1)])
def test_more_records_in_one_second_than_fit_in_a_page(inclusive: bool, fraction: timedelta) -> None:
    crowded = {f"x{i:03d}": T0 + timedelta(seconds=5) + i * fraction for i in range(13)}
    stamps = {
        **spread(6, timedelta(seconds=1)),
        **crowded,
        **spread(4, timedelta(seconds=1), T0 + timedelta(minutes=1)),
    }
    fake = FakeCollection(stamps, page_size=5, inclusive=inclusive)
    ids, cursor = drain(pager(fake))
    assert sorted(ids) == sorted(stamps)
    assert len(ids) == len(set(ids)), "nothing emitted twice within one run"
    assert cursor == StreamCursor(max(stamps.values())).serialise()
    assert any(page > 1 for _, page in fake.calls), "the crowded second was walked with page=2, 3, …"
    assert len(fake.calls) < 30


def test_an_edit_during_a_crowded_walk_loses_nothing() -> None:
    crowded = {f"x{i:03d}": T0 for i in range(12)}
    fake = FakeCollection(crowded, page_size=5)
    p = pager(fake)
    pages = p.pages(None)
    first = next(pages)  # page 1 of the first step (no If-Modified-Since)
    assert len(first.records) == 5

    # While the crowded second is walked, x000 (already emitted) is edited just after page 2 was read:
    # it moves to the end and every record behind it shifts one place forward, so x010 slides back
    # onto page 2, already read. Only reading the crowded pages again finds it.
    def edit(call: int) -> None:
        if call == 3:
            fake.stamps["x000"] = T0 + timedelta(minutes=1)

    fake.after_fetch = edit
    rest = [row["ContactID"] for page in pages for row in page.records]
    emitted = [row["ContactID"] for row in first.records] + rest
    assert set(emitted) == set(crowded)
    assert emitted.count("x000") == 2, "the edited record comes again, as its new version"


def test_a_crowded_second_that_never_settles_is_a_transient_error() -> None:
    counter = iter(range(10_000))
    fake = FakeCollection({f"x{i:03d}": T0 for i in range(12)}, page_size=5)

    def churn(call: int) -> None:
        # Every request, one record leaves the crowded second and another arrives in it (back-dated).
        victim = sorted(k for k, t in fake.stamps.items() if t == T0)[0]
        del fake.stamps[victim]
        fake.stamps[f"y{next(counter):05d}"] = T0

    with pytest.raises(TransientError, match="kept changing"):
        for _page in pager(fake).pages(StreamCursor(T0).serialise()):
            fake.after_fetch = churn


def test_unpaged_collections_are_one_request() -> None:
    stamps = spread(7, timedelta(seconds=2))
    fake = FakeCollection(stamps, page_size=100)
    p = ModifiedSincePager(fake, id_field="ContactID", page_size=100, paged=False)
    ids, cursor = drain(p)
    assert sorted(ids) == sorted(stamps) and len(fake.calls) == 1
    assert cursor == StreamCursor(max(stamps.values())).serialise()


def test_a_server_that_ignores_the_order_is_refused() -> None:
    def unordered(header: datetime | None, page: int) -> list[dict]:
        return [
            {"ContactID": "b", "UpdatedDateUTC": ms_date(T0 + timedelta(seconds=9))},
            {"ContactID": "a", "UpdatedDateUTC": ms_date(T0)},
        ]

    with pytest.raises(PermanentError, match="not in UpdatedDateUTC order"):
        list(ModifiedSincePager(unordered, id_field="ContactID", page_size=2).pages(None))


def test_a_record_without_updated_date_is_refused() -> None:
    with pytest.raises(PermanentError, match="UpdatedDateUTC"):
        list(ModifiedSincePager(lambda h, p: [{"ContactID": "a"}], id_field="ContactID").pages(None))


def test_xero_error_bodies_yield_their_message() -> None:
    from pathlib import Path

    validation = (Path(__file__).parents[1] / "fixtures" / "xero" / "validation_error.json").read_bytes()
    assert xero_message(validation) == "Please enter a unique Name."
    assert xero_message(b'{"Title":"Unauthorized","Status":401,"Detail":"AuthenticationUnsuccessful"}') == (
        "AuthenticationUnsuccessful"
    )
    assert xero_message(b"The resource you're looking for cannot be found") == (
        "The resource you're looking for cannot be found"
    )
