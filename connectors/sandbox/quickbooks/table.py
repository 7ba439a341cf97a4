"""Stored rows of one entity type: current revisions by Id, a (LastUpdatedTime, Id) index for incremental
queries and CDC, an optional unique-name index, and tombstones of deleted transactions for CDC."""

import bisect
import json
import operator
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

EntityId = int | str  # numeric for everything QBO numbers; TaxCode ids in US companies are "TAX" / "NON"


def name_key(name: str) -> str:
    """Uniqueness is checked ignoring case and repeated spaces."""
    return " ".join(name.split()).casefold()


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class IdSequence:
    """Ids handed out in increasing order. Transactions share one sequence per company, as in QBO, so an
    Invoice and a Payment never have the same Id; each name list has its own."""

    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        self.last += 1
        return self.last


@dataclass(slots=True)
class EntityRow:
    """One revision of an object. Never mutated: a write stores a new row."""

    id: EntityId
    entity: dict[str, Any]
    created: int  # epoch seconds, what MetaData.CreateTime shows
    updated: int  # epoch seconds, what MetaData.LastUpdatedTime shows
    active: bool = field(init=False)  # a plain attribute: every name-list query filters on it
    _json: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.active = bool(self.entity.get("Active", True))

    def json(self) -> bytes:
        # Cached: a page of 1000 objects is then a join of ready-made bytes.
        if self._json is None:
            self._json = dumps(self.entity)
        return self._json


@dataclass(slots=True)
class Tombstone:
    """What CDC reports for a deleted transaction: its Id, status "Deleted" and when it went."""

    id: EntityId
    updated: int


class EntityTable:
    """Rows by Id plus a sorted (LastUpdatedTime, Id) index. Query results (before paging) are cached until
    the next write, so a client paging through tens of thousands of rows pays for filtering once."""

    QUERY_CACHE_SIZE = 16

    def __init__(
        self, name: str, ids: IdSequence | None = None, unique_name: Callable[[dict], str] | None = None
    ) -> None:
        self.name = name
        self.ids = ids or IdSequence()
        self.rows: dict[EntityId, EntityRow] = {}
        self.tombstones: dict[EntityId, Tombstone] = {}
        self._by_updated: list[tuple[int, EntityId]] = []
        self._unique_name = unique_name
        self._names: dict[str, EntityId] = {}
        self._query_cache: OrderedDict[Hashable, list[EntityRow]] = OrderedDict()

    def cached_query(self, key: Hashable, run: Callable[[], list[EntityRow]]) -> list[EntityRow]:
        rows = self._query_cache.get(key)
        if rows is None:
            rows = self._query_cache[key] = run()
            if len(self._query_cache) > self.QUERY_CACHE_SIZE:
                self._query_cache.popitem(last=False)
        else:
            self._query_cache.move_to_end(key)
        return rows

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def last_id(self) -> int:
        return self.ids.last

    def allocate_id(self) -> int:
        return self.ids.next()

    def get(self, entity_id: EntityId) -> EntityRow | None:
        return self.rows.get(entity_id)

    def lookup(self, raw_id: Any) -> EntityRow | None:
        """The row for an Id as a client wrote it ("12", 12, "TAX")."""
        text = str(raw_id).strip()
        return self.rows.get(int(text) if text.isdigit() else text)

    def id_for_name(self, name: str) -> EntityId | None:
        return self._names.get(name_key(name))

    def put(self, row: EntityRow) -> None:
        self._query_cache.clear()
        old = self.rows.get(row.id)
        if old is not None:
            del self._by_updated[bisect.bisect_left(self._by_updated, (old.updated, old.id))]
            self._forget_name(old)
        self.rows[row.id] = row
        bisect.insort(self._by_updated, (row.updated, row.id))
        self._remember_name(row)

    def add_many(self, rows: Iterable[EntityRow]) -> None:
        """Bulk insert of new rows: one sort instead of an insort each."""
        self._query_cache.clear()
        for row in rows:
            self.rows[row.id] = row
            self._by_updated.append((row.updated, row.id))
            self._remember_name(row)
        self._by_updated.sort()

    def remove(self, entity_id: EntityId, at: int) -> Tombstone:
        """Delete for good, leaving a tombstone that CDC reports (QBO deletes transactions permanently)."""
        self._query_cache.clear()
        old = self.rows.pop(entity_id)
        del self._by_updated[bisect.bisect_left(self._by_updated, (old.updated, old.id))]
        self._forget_name(old)
        stamp = max(at, old.updated)
        tombstone = Tombstone(entity_id, stamp)
        self.tombstones[entity_id] = tombstone
        return tombstone

    def _remember_name(self, row: EntityRow) -> None:
        if self._unique_name is not None:
            self._names[name_key(self._unique_name(row.entity))] = row.id

    def _forget_name(self, row: EntityRow) -> None:
        if self._unique_name is not None:
            key = name_key(self._unique_name(row.entity))
            if self._names.get(key) == row.id:
                del self._names[key]

    def in_id_order(self) -> Iterator[EntityRow]:
        # Ids are allocated increasing and a deletion only removes, so insertion order is Id order.
        return iter(self.rows.values())

    def updated_between(
        self, low: float | None, low_inclusive: bool, high: float | None, high_inclusive: bool
    ) -> list[EntityRow]:
        """Rows whose LastUpdatedTime falls in the range, ordered by (LastUpdatedTime, Id)."""
        index, stamp = self._by_updated, operator.itemgetter(0)
        start = 0
        if low is not None:
            start = (bisect.bisect_left if low_inclusive else bisect.bisect_right)(index, low, key=stamp)
        end = len(index)
        if high is not None:
            end = (bisect.bisect_right if high_inclusive else bisect.bisect_left)(index, high, key=stamp)
        rows = self.rows
        return [rows[entity_id] for _, entity_id in index[start:end]]

    def deleted_since(self, since: float) -> list[Tombstone]:
        return sorted((t for t in self.tombstones.values() if t.updated >= since), key=lambda t: t.updated)
