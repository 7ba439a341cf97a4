"""In-memory tables of one organisation: rows by id plus an (UpdatedDateUTC, id) index.

Rows are never mutated: a write stores a new row (so cached JSON stays right). The sorted index
answers ``If-Modified-Since`` with a bisect, and filtered, ordered results are cached until the next
write, so a client paging through 100k records pays for filtering and sorting once.
"""

import bisect
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from connectors.sandbox.xero.jsonbody import dumps


@dataclass(slots=True)
class Row:
    id: str
    entity: dict[str, Any]
    updated_ms: int
    _json: bytes | None = field(default=None, repr=False)
    _summary: bytes | None = field(default=None, repr=False)

    def json(self) -> bytes:
        if self._json is None:
            self._json = dumps(self.entity)
        return self._json

    def summary_json(self) -> bytes:
        """Invoices and credit notes listed without paging come without their line items."""
        if self._summary is None:
            self._summary = dumps({**self.entity, "LineItems": []})
        return self._summary


class RecordTable:
    QUERY_CACHE_SIZE = 16

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}
        self._by_updated: list[tuple[int, str]] = []
        self._cache: OrderedDict[Hashable, list[Row]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, row_id: str) -> Row | None:
        return self.rows.get(row_id.lower())

    def put(self, row: Row) -> None:
        self._cache.clear()
        old = self.rows.get(row.id)
        if old is not None:
            del self._by_updated[bisect.bisect_left(self._by_updated, (old.updated_ms, old.id))]
        self.rows[row.id] = row
        bisect.insort(self._by_updated, (row.updated_ms, row.id))

    def add_many(self, rows: Iterable[Row]) -> None:
        """Bulk insert of new rows: one sort instead of an insort each."""
        self._cache.clear()
        for row in rows:
            self.rows[row.id] = row
            self._by_updated.append((row.updated_ms, row.id))
        self._by_updated.sort()

    def in_creation_order(self) -> Iterator[Row]:
        return iter(self.rows.values())

    def updated_after(self, after_ms: int | None) -> list[Row]:
        """Rows updated strictly after ``after_ms`` (all rows when None), by (UpdatedDateUTC, id)."""
        start = 0 if after_ms is None else bisect.bisect_left(self._by_updated, (after_ms + 1, ""))
        rows = self.rows
        return [rows[row_id] for _, row_id in self._by_updated[start:]]

    def cached(self, key: Hashable, run: Callable[[], list[Row]]) -> list[Row]:
        rows = self._cache.get(key)
        if rows is None:
            rows = self._cache[key] = run()
            if len(self._cache) > self.QUERY_CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return rows
