"""The sync engine: one connection, all its streams, incrementally, safely.

- Pages are mapped record by record: a record that fails mapping goes to `app.dead_letters` with its
  payload and error, and the rest of the page loads.
- Each page's rows, its dead letters and the stream cursor commit in ONE tenant transaction, so a run
  killed at any point resumes from the last committed page with no gap and no duplicate.
- Full refresh (asked for, or forced by a `CursorExpiredError`) re-reads everything and soft-deletes
  rows the source no longer returned.
- Permanent errors mark the connection (`needs_reauth` / `error`) and the sync request, then raise
  `SyncFailed(permanent=True)` so callers fail fast; anything else propagates for step-level retries.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import cast, delete, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert

from connectors.base import AuthError, CursorExpiredError, Page, PermanentError
from connectors.call_stats import CallStats, counting_calls
from core_api.connections.repository import ConnectionRepository
from core_api.models import DeadLetter, SyncRun
from core_api.tenancy import TenantContext
from pipelines.connection_tokens import ConnectionTokens
from pipelines.loader import LoadStats, bulk_upsert
from pipelines.resources import FirmsyncDatabase
from pipelines.streams import StreamSpec, VendorSync
from pipelines.sync_status import mark_connection, mark_request

log = logging.getLogger(__name__)
UNREAD = object()  # sync_stream reads its own cursor


class SyncFailed(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass
class StreamResult:
    stream: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    dead_lettered: int = 0
    removed: int = 0
    pages: int = 0
    cursor: str | None = None
    full_refresh: bool = False
    fell_back_to_full: bool = False
    rows_in_table: int = 0
    last_synced_at: datetime | None = None  # newest `synced_at` of the connection's rows (merges compare it)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """Whether this sync changed the connection's rows (or re-read everything)."""
        return self.written > 0 or self.removed > 0 or self.full_refresh

    @property
    def written(self) -> int:
        return self.inserted + self.updated

    def metadata(self) -> dict[str, Any]:
        return {
            "dagster/row_count": self.rows_in_table,
            "rows_inserted": self.inserted,
            "rows_updated": self.updated,
            "rows_unchanged": self.unchanged,
            "rows_dead_lettered": self.dead_lettered,
            "rows_marked_deleted": self.removed,
            "pages": self.pages,
            "cursor": self.cursor or "",
            "full_refresh": self.full_refresh,
            "fell_back_to_full_refresh": self.fell_back_to_full,
            "seconds": round(self.seconds, 3),
        }

    def figures(self) -> dict[str, Any]:
        """This stream's line in `app.sync_runs.streams` (what /metrics sums per vendor and stream)."""
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.removed,
            "dead_lettered": self.dead_lettered,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class ConnectionResult:
    connection_id: uuid.UUID
    tenant: TenantContext
    streams: dict[str, StreamResult] = field(default_factory=dict)
    token_refreshes: int = 0
    # app.sync_state as the sync found it: stream cursors, and canonical merge marks (`merge_mark_key`).
    cursors_before: dict[str, str | None] = field(default_factory=dict)
    full_refresh: bool = False
    calls: CallStats = field(default_factory=CallStats)  # vendor calls, 429s and retries of this sync

    @property
    def records(self) -> int:
        return sum(r.written + r.removed for r in self.streams.values())


def sync_connection(
    db: FirmsyncDatabase,
    vendor: VendorSync,
    client_factory: Any,
    connection_id: uuid.UUID,
    *,
    full_refresh: bool = False,
    page_size: int = 1000,
    request_id: str | None = None,
    run_id: str | None = None,
    window: tuple[datetime, datetime | None] | None = None,
) -> ConnectionResult:
    tenant, connection = db.connection(connection_id)
    mark_request(db, tenant, request_id, status="running", run_id=run_id)
    started_at, started = datetime.now(UTC), time.perf_counter()
    with counting_calls() as calls:
        run = (db, tenant, connection_id, vendor.provider, run_id, started_at, started, calls)
        try:
            result = _sync_connection(
                db, vendor, client_factory, tenant, connection, request_id, full_refresh, page_size, window
            )
        except Exception as exc:
            _record_run(*run, {}, exc)
            raise
    result.calls = calls
    _record_run(*run, result.streams)
    return result


def _record_run(
    db: FirmsyncDatabase,
    tenant: TenantContext,
    connection_id: uuid.UUID,
    provider: str,
    run_id: str | None,
    started_at: datetime,
    started: float,
    calls: CallStats,
    streams: dict[str, StreamResult],
    error: Exception | None = None,
) -> None:
    """One `app.sync_runs` row: what /metrics reports per vendor and stream (ADR 0019). A failure to record
    it is logged, never allowed to fail (or mask the error of) the sync itself."""
    try:
        with db.tenant(tenant) as session:
            session.add(
                SyncRun(
                    firm_id=tenant.firm_id,
                    connection_id=connection_id,
                    provider=provider,
                    run_id=run_id,
                    status="failed" if error is not None else "succeeded",
                    started_at=started_at,
                    finished_at=datetime.now(UTC),
                    seconds=time.perf_counter() - started,
                    api_calls=calls.calls,
                    throttled=calls.throttled,
                    retries=calls.retries,
                    streams={name: r.figures() for name, r in streams.items()},
                    error=None if error is None else _describe(error)[:2000],
                )
            )
    except Exception:
        log.exception("could not record the sync run of connection %s", connection_id)


def _describe(error: Exception) -> str:
    return str(error) if isinstance(error, SyncFailed) else f"{type(error).__name__}: {error}"


def _sync_connection(
    db, vendor, client_factory, tenant, connection, request_id, full_refresh, page_size, window
) -> ConnectionResult:
    connection_id = connection.id
    tokens = ConnectionTokens(db, tenant, connection_id, vendor.credentials_model)
    result = ConnectionResult(connection_id=connection_id, tenant=tenant)
    try:
        client = client_factory.client(connection.config, tokens.load(), on_tokens=tokens.save)
        with db.tenant(tenant) as session:
            result.cursors_before = ConnectionRepository(session, tenant).get_cursors(connection_id)
        result.full_refresh = full_refresh
        cursors = {} if full_refresh else result.cursors_before
        changes = None
        if vendor.read_changes is not None and window is None and not full_refresh:
            names = [stream.name for stream in vendor.streams]
            changes = vendor.read_changes(client, {name: cursors.get(name) for name in names}, page_size)
        if changes is not None:
            result.streams = _load_changes(db, tenant, vendor, connection_id, changes)
        else:
            for stream in vendor.streams:
                result.streams[stream.name] = sync_stream(
                    db,
                    tenant,
                    vendor.provider,
                    connection_id,
                    client,
                    stream,
                    full_refresh=full_refresh,
                    page_size=page_size,
                    window=window,
                    cursor=cursors.get(stream.name),
                    count_rows=False,
                )
        _count_rows(db, tenant, connection_id, vendor.streams, result.streams)
    except (AuthError, PermanentError) as exc:
        status = "needs_reauth" if isinstance(exc, AuthError) else "error"
        mark_connection(db, tenant, connection_id, outcome="failed", error=str(exc), status=status)
        mark_request(db, tenant, request_id, status="failed", error=str(exc))
        raise SyncFailed(f"{type(exc).__name__}: {exc}", permanent=True) from exc
    result.token_refreshes = tokens.refreshes
    return result


def _load_changes(
    db: FirmsyncDatabase, tenant: TenantContext, vendor: VendorSync, connection_id: uuid.UUID, changes
) -> dict[str, StreamResult]:
    """Every stream's changes, read by the vendor in one call, loaded with their cursors in ONE
    transaction: a connection with a handful of changes costs one round of writes, not one per stream."""
    synced_at = datetime.now(UTC)
    results = {}
    with db.tenant(tenant) as session:
        for stream in vendor.streams:
            started = time.perf_counter()
            result = StreamResult(stream=stream.name)
            _load_page(
                session,
                tenant,
                vendor.provider,
                connection_id,
                stream,
                changes[stream.name],
                synced_at,
                result,
                save_cursor=False,
            )
            result.seconds = time.perf_counter() - started
            results[stream.name] = result
        cursors = {stream.name: changes[stream.name].cursor for stream in vendor.streams}
        ConnectionRepository(session, tenant).save_cursors(connection_id, cursors)
    return results


def _count_rows(db, tenant, connection_id, streams, results: dict[str, StreamResult]) -> None:
    """Each stream's rows for the connection (the assets' `dagster/row_count`) and their newest
    `synced_at`, in one query."""
    figures = [
        select(func.count(), func.max(s.table.c.synced_at))
        .where(s.table.c.connection_id == connection_id)
        .lateral(f"s{i}")
        for i, s in enumerate(streams)
    ]
    columns = [c for sub in figures for c in sub.c]
    with db.tenant(tenant) as session:
        row = session.execute(select(*columns).select_from(*figures)).one()
    for i, stream in enumerate(streams):
        results[stream.name].rows_in_table = row[2 * i]
        results[stream.name].last_synced_at = row[2 * i + 1]


def sync_stream(
    db: FirmsyncDatabase,
    tenant: TenantContext,
    provider: str,
    connection_id: uuid.UUID,
    client: Any,
    stream: StreamSpec,
    *,
    full_refresh: bool,
    page_size: int,
    window: tuple[datetime, datetime | None] | None = None,
    cursor: str | None | object = UNREAD,
    count_rows: bool = True,
) -> StreamResult:
    """One stream from its stored cursor (or `cursor`, when the caller read every stream's at once)."""
    started = time.perf_counter()
    if window is not None:
        # A backfill of [start, end): read from start, keep what changed before end, leave the cursor alone.
        result = StreamResult(stream=stream.name)
        _load_pages(
            db,
            tenant,
            provider,
            connection_id,
            client,
            stream,
            window[0].isoformat(),
            page_size,
            datetime.now(UTC),
            result,
            until=window[1],
            keep_cursor=True,
        )
        result.seconds = time.perf_counter() - started
        return result
    result = StreamResult(stream=stream.name, full_refresh=full_refresh)
    if full_refresh:
        cursor = None
    elif cursor is UNREAD:
        with db.tenant(tenant) as session:
            cursor = ConnectionRepository(session, tenant).get_cursor(connection_id, stream.name)
    synced_at = datetime.now(UTC)
    try:
        _load_pages(db, tenant, provider, connection_id, client, stream, cursor, page_size, synced_at, result)
    except CursorExpiredError as exc:
        # The vendor refused our cursor: start over from nothing, as a full refresh (once).
        log.warning(
            "cursor for %s/%s expired (%s): falling back to a full refresh", connection_id, stream.name, exc
        )
        result.full_refresh = result.fell_back_to_full = True
        _load_pages(db, tenant, provider, connection_id, client, stream, None, page_size, synced_at, result)
    if result.pages == 0 and not result.full_refresh:
        result.cursor = cursor  # nothing read: the stored cursor stands (and is what the checks compare)
    if result.full_refresh:
        result.removed = _soft_delete_missing(db, tenant, connection_id, stream, synced_at)
    if count_rows:
        _count_rows(db, tenant, connection_id, [stream], {stream.name: result})
    result.seconds = time.perf_counter() - started
    return result


def _load_pages(
    db,
    tenant,
    provider,
    connection_id,
    client,
    stream,
    cursor,
    page_size,
    synced_at,
    result,
    *,
    until: datetime | None = None,
    keep_cursor: bool = False,
) -> None:
    read = stream.window_pages if keep_cursor and stream.window_pages is not None else stream.pages
    for page in read(client, cursor, page_size):
        with db.tenant(tenant) as session:
            _load_page(
                session,
                tenant,
                provider,
                connection_id,
                stream,
                page,
                synced_at,
                result,
                until=until,
                save_cursor=not keep_cursor,
            )


def _load_page(
    session,
    tenant: TenantContext,
    provider: str,
    connection_id: uuid.UUID,
    stream: StreamSpec,
    page: Page,
    synced_at: datetime,
    result: StreamResult,
    *,
    until: datetime | None = None,
    save_cursor: bool = True,
) -> None:
    """One page: mapped, written with its dead letters and (unless a backfill) its cursor, in `session`'s
    transaction."""
    rows, children, tombstones, dead = [], [], [], []
    for payload in page.records:
        try:
            row, kids = _mapped(stream, payload, tenant, connection_id, synced_at)
            if until is not None and row.get("updated_at") is not None and row["updated_at"] >= until:
                continue  # outside the backfill window
            if stream.tombstone(payload):
                tombstones.append((row, payload))
                continue
            rows.append(row)
            children.append(kids)
        except Exception as exc:  # a bad record must not sink its page: it is kept for re-processing
            dead.append((payload, f"{type(exc).__name__}: {exc}"))
    touch = ("synced_at", "deleted_at") if result.full_refresh else ()
    stats = write_rows(session, stream, connection_id, rows, children, touch=touch)
    if tombstones:
        stats = stats + mark_tombstones(session, stream, tombstones)
    for payload, error in dead:
        record_dead_letter(session, tenant, provider, connection_id, stream, payload, error)
    if save_cursor:
        ConnectionRepository(session, tenant).save_cursor(connection_id, stream.name, page.cursor)
    result.inserted += stats.inserted
    result.updated += stats.updated
    result.unchanged += stats.unchanged
    result.dead_lettered += len(dead)
    result.pages += 1
    result.cursor = page.cursor


def _mapped(
    stream: StreamSpec, payload: dict, tenant: TenantContext, connection_id: uuid.UUID, synced_at: datetime
) -> tuple[dict[str, Any], list[list[dict[str, Any]]]]:
    """One record's warehouse row and its children's rows (one list per ChildSpec); raises if unmappable."""
    row = stream.map_record(payload)
    owned = {"firm_id": tenant.firm_id, "connection_id": connection_id}
    row = {
        **row,
        **owned,
        "synced_at": synced_at,
        "deleted_at": stream.deleted_at(row) if stream.deleted_at else None,
    }
    kids = [[{**child_row, **owned} for child_row in child.rows(payload)] for child in stream.children]
    return row, kids


def write_rows(
    session,
    stream: StreamSpec,
    connection_id: uuid.UUID,
    rows: list[dict[str, Any]],
    children: list[list[list[dict[str, Any]]]],
    *,
    touch: tuple[str, ...] = (),
):
    """Upsert a page of rows and replace their children, in the caller's transaction."""
    stats = bulk_upsert(session, stream.table, rows, key=stream.key, touch=touch)
    parents = [row["external_id"] for row in rows]
    for position, child in enumerate(stream.children):
        table = child.table
        if parents:
            session.execute(
                delete(table).where(
                    table.c.connection_id == connection_id, table.c[child.parent_column].in_(parents)
                )
            )
        kids = [kid for per_record in children for kid in per_record[position]]
        bulk_upsert(session, table, kids, key=[c.name for c in table.primary_key], compare=None)
    return stats


def mark_tombstones(session, stream: StreamSpec, tombstones: list[tuple[dict[str, Any], dict[str, Any]]]):
    """Mark rows deleted from the vendor's deletion stubs, in the caller's transaction.

    A stub carries no columns worth keeping, so the row keeps its last known values and children; only
    `deleted_at` (the stub's time, else the sync's), `synced_at` and the stub's scalar fields (its status)
    merged into `raw` change. A stub for a record never seen is kept as a deleted row. Idempotent: a row
    already marked deleted is left alone.
    """
    inserted = updated = 0
    table = stream.table
    for row, payload in tombstones:
        deleted_at = row.get("deleted_at") or row["synced_at"]
        created = session.execute(
            insert(table)
            .values({**row, "deleted_at": deleted_at})
            .on_conflict_do_nothing(index_elements=list(stream.key))
            .returning(table.c[stream.key[-1]])
        ).first()
        if created is not None:
            inserted += 1
            continue
        marks = {k: v for k, v in payload.items() if not isinstance(v, dict | list)}
        match = [table.c[k] == row[k] for k in stream.key]
        updated += (
            session.execute(
                update(table)
                .where(*match, table.c.deleted_at.is_(None))
                .values(
                    deleted_at=deleted_at,
                    synced_at=row["synced_at"],
                    raw=table.c.raw.op("||")(cast(marks, JSONB)),
                )
            ).rowcount
            or 0
        )
    return LoadStats(inserted=inserted, updated=updated, unchanged=len(tombstones) - inserted - updated)


def record_dead_letter(
    session, tenant, provider, connection_id, stream: StreamSpec, payload: dict, error: str
):
    try:
        external_id = stream.record_id(payload)
    except Exception:  # even the id may be missing from a broken record
        external_id = f"unidentified-{uuid.uuid5(uuid.NAMESPACE_OID, repr(sorted(payload.items())))}"
    stmt = insert(DeadLetter).values(
        firm_id=tenant.firm_id,
        connection_id=connection_id,
        provider=provider,
        stream=stream.name,
        external_id=str(external_id),
        payload=payload,
        error=error[:4000],
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[DeadLetter.connection_id, DeadLetter.stream, DeadLetter.external_id],
            set_={
                "payload": stmt.excluded.payload,
                "error": stmt.excluded.error,
                "status": "open",
                "attempts": DeadLetter.attempts + 1,
                "last_attempt_at": func.now(),
                "resolved_at": None,
            },
        )
    )


def _soft_delete_missing(db, tenant, connection_id, stream: StreamSpec, synced_at: datetime) -> int:
    """After a full refresh, rows the source no longer returned get `deleted_at`."""
    table = stream.table
    with db.tenant(tenant) as session:
        result = session.execute(
            update(table)
            .where(
                table.c.firm_id == tenant.firm_id,
                table.c.connection_id == connection_id,
                table.c.synced_at < synced_at,
                table.c.deleted_at.is_(None),
            )
            .values(deleted_at=synced_at)
        )
        return result.rowcount or 0


def reprocess_dead_letters(
    db: FirmsyncDatabase, vendor: VendorSync, connection_id: uuid.UUID
) -> dict[str, int]:
    """Re-map the connection's dead letters marked `retry` (or all open ones when none is marked)."""
    tenant, _ = db.connection(connection_id)
    by_stream = {s.name: s for s in vendor.streams}
    fixed = failed = 0
    with db.tenant(tenant) as session:
        letters = session.scalars(
            select(DeadLetter)
            .where(
                DeadLetter.firm_id == tenant.firm_id,
                DeadLetter.connection_id == connection_id,
                DeadLetter.status.in_(("retry", "open")),
            )
            .with_for_update(skip_locked=True)
        ).all()
        now = datetime.now(UTC)
        for letter in letters:
            stream = by_stream.get(letter.stream)
            if stream is None:
                continue  # not a stream's record (e.g. a Stripe webhook event): left for an operator
            try:
                row, kids = _mapped(stream, letter.payload, tenant, connection_id, now)
                if stream.tombstone(letter.payload):
                    mark_tombstones(session, stream, [(row, letter.payload)])
                else:
                    write_rows(session, stream, connection_id, [row], [kids])
                letter.status, letter.resolved_at = "resolved", now
                fixed += 1
            except Exception as exc:
                letter.attempts += 1
                letter.error, letter.last_attempt_at, letter.status = (
                    f"{type(exc).__name__}: {exc}",
                    now,
                    "open",
                )
                failed += 1
    return {"resolved": fixed, "still_failing": failed}
