"""What the sync engine needs to know about a vendor and its streams (declared once per vendor).

The asset factory (`pipelines/factory.py`) turns a `VendorSync` into Dagster assets; the engine
(`pipelines/sync_engine.py`) runs one connection through it. A new vendor or stream is a declaration,
not new machinery.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from pydantic import BaseModel
from sqlalchemy import Table

from connectors.base import Page


@dataclass(frozen=True)
class ChildSpec:
    """Rows a record carries inside itself (invoice lines, payment allocations), in a table of their own.

    They are replaced as a set whenever their parent is loaded, in the parent's transaction, so an edited
    invoice never keeps a removed line.
    """

    table: Table  # warehouse.<vendor>_<stream>_<children>, with firm_id and connection_id
    parent_column: str  # the child column holding the parent's external id
    rows: Callable[[dict[str, Any]], list[dict[str, Any]]]  # vendor payload → child rows


@dataclass(frozen=True)
class StreamSpec:
    name: str  # cursor key in sync_state, e.g. "customers"
    asset_key: dg.AssetKey
    table: Table  # warehouse.<vendor>_<stream>
    description: str
    map_record: Callable[[dict[str, Any]], dict[str, Any]]  # vendor payload → warehouse columns
    record_id: Callable[[dict[str, Any]], str]  # the vendor's id, for dead letters
    pages: Callable[[Any, str | None, int], Iterator[Page]]  # (client, cursor, page_size) → pages
    key: tuple[str, ...] = ("connection_id", "external_id")
    # Vendors that soft-delete (QuickBooks makes customers inactive): row → deleted_at value or None.
    deleted_at: Callable[[dict[str, Any]], Any] | None = None
    count: Callable[[Any], int] | None = None  # source count for the asset check, when the API has one
    children: tuple[ChildSpec, ...] = ()
    # Change feeds that report a deletion as a stub (QuickBooks CDC: Id, status "Deleted", timestamps):
    # payload → whether it is one. A tombstone only marks the row deleted (`deleted_at`, `synced_at`, and the
    # stub's scalar fields merged into `raw`); the last known columns and children are kept, never nulled.
    is_tombstone: Callable[[dict[str, Any]], bool] | None = None
    # A time-range backfill reads [start, …) with these when the incremental `pages` cannot start that far
    # back (QuickBooks CDC reaches 30 days; its query reaches any time). None: `pages`.
    window_pages: Callable[[Any, str | None, int], Iterator[Page]] | None = None
    # A cursor that is a vendor token, not a time (Google's sync tokens): the checks cannot order two
    # cursors, so `cursor_monotonic` only checks that one is stored.
    opaque_cursor: bool = False

    def tombstone(self, payload: dict[str, Any]) -> bool:
        return self.is_tombstone is not None and self.is_tombstone(payload)


@dataclass(frozen=True)
class CanonicalSpec:
    """A downstream app table merged from warehouse streams (vendor → warehouse → app lineage)."""

    asset_key: dg.AssetKey
    deps: tuple[dg.AssetKey, ...]
    description: str
    merge: Callable[[Any, Any, Any], dict[str, int]]  # (session, tenant, connection_id) → counts
    # Whether a run's counts changed what merges downstream of it read (a sweep re-runs those only then).
    changes_downstream: Callable[[dict[str, int]], bool] = field(
        default=lambda counts: changed_counts(counts)
    )


CHANGE_SUFFIXES = ("_created", "_updated", "_removed", "_deleted", "_matched", "_settled")


def changed_counts(counts: dict[str, int]) -> bool:
    """The default: any created / updated / removed / deleted / matched / settled count above zero."""
    return any(value for key, value in counts.items() if key.endswith(CHANGE_SUFFIXES))


@dataclass(frozen=True)
class VendorSync:
    provider: str
    group: str
    partitions: dg.DynamicPartitionsDefinition
    credentials_model: type[BaseModel]
    client_resource: str  # resource key of a ConfigurableResource with `.client(config, creds, on_tokens)`
    streams: tuple[StreamSpec, ...]
    canonical: tuple[CanonicalSpec, ...] = field(default=())
    kinds: frozenset[str] = frozenset()
    # An incremental sync's reads of every stream in one vendor call, where the API has one (QuickBooks
    # CDC takes many entities): (client, {stream: cursor}, page_size) → {stream: Page}, or None when it
    # cannot answer for all of them (a stream without a cursor, a cursor too old, too many changes) and
    # each stream is read on its own. The engine loads such an answer in one transaction.
    read_changes: Callable[[Any, dict[str, str | None], int], dict[str, Page] | None] | None = None
