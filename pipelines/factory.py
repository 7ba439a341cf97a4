"""Asset factory: a vendor's declared streams → Dagster definitions.

For each `VendorSync`:
- one multi-asset `<vendor>_sync`, one output per stream (warehouse.<vendor>_<stream>), partitioned by
  connection, `pool=<vendor>`, kinds, group, descriptions, table name and column schema metadata;
- one downstream asset per canonical app table (lineage vendor → warehouse → app);
- `<vendor>_sync_job` (one connection per run: requests, backfills from the UI);
- `<vendor>_sweep_job` (many connections in ONE run with bounded concurrency, for schedules at scale),
  reporting a materialization per connection so per-connection status stays visible.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from sqlalchemy import select

from core_api.connections.repository import ConnectionRepository, system_live_connections
from core_api.models import Connection
from pipelines.catalog import table_metadata
from pipelines.checks import BLOCKING, Outcome, vendor_stream_checks
from pipelines.freshness import DEFAULT_CADENCE_MINUTES, freshness_for
from pipelines.resources import FirmsyncDatabase
from pipelines.streams import CanonicalSpec, VendorSync
from pipelines.sync_engine import ConnectionResult, SyncFailed, sync_connection
from pipelines.sync_status import mark_connection, mark_request

REQUEST_TAG = "firmsync/sync_request_id"
VENDOR_TAG = "firmsync/vendor"  # dagster.yaml caps concurrent runs per vendor on this tag
FULL_REFRESH_TAG = "firmsync/full_refresh"
SYNC_RETRY = dg.RetryPolicy(
    max_retries=3, delay=15, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


@dataclass(frozen=True)
class VendorDefinitions:
    vendor: VendorSync
    assets: list
    checks: list  # asset checks of every stream (pipelines/checks.py)
    stream_checks: list  # the StreamChecks behind them (sweeps evaluate them per connection)
    sync_job: Any  # dagster UnresolvedAssetJobDefinition (not exported at the top level)
    sweep_job: dg.JobDefinition


def build_vendor_definitions(vendor: VendorSync, *, counted_rows=None) -> VendorDefinitions:
    """`counted_rows`: per stream, which warehouse rows the vendor's own count covers (count check)."""
    stream_checks = vendor_stream_checks(vendor, counted_rows)
    sync_asset = _sync_asset(vendor)
    canonical = [
        _canonical_asset(vendor, spec, last=i == len(vendor.canonical) - 1)
        for i, spec in enumerate(vendor.canonical)
    ]
    keys = [s.asset_key for s in vendor.streams] + [c.asset_key for c in vendor.canonical]
    sync_job = dg.define_asset_job(
        f"{vendor.provider}_sync_job",
        selection=dg.AssetSelection.assets(*keys),
        tags={VENDOR_TAG: vendor.provider},
        description=f"Sync one {vendor.provider} connection (partition): streams, then app tables.",
    )
    checks = [d for c in stream_checks for d in c.definitions]
    return VendorDefinitions(
        vendor, [sync_asset, *canonical], checks, stream_checks, sync_job, _sweep_job(vendor, stream_checks)
    )


class SyncWindow(dg.Config):
    """Backfill a time range (streams whose API filters by time): re-read records changed in
    [start, end). The stream's incremental cursor is left where it was. Empty: a normal sync."""

    start: str | None = None  # ISO-8601, e.g. "2026-01-01T00:00:00Z"
    end: str | None = None

    def window(self):
        from datetime import datetime

        if self.start is None:
            return None
        return (
            datetime.fromisoformat(self.start.replace("Z", "+00:00")),
            datetime.fromisoformat(self.end.replace("Z", "+00:00")) if self.end else None,
        )


def _sync_asset(vendor: VendorSync):
    specs = [
        dg.AssetSpec(
            stream.asset_key,
            description=stream.description,
            kinds={vendor.provider, "postgres", *vendor.kinds},
            group_name=vendor.group,
            metadata=table_metadata(stream.table),
            freshness_policy=freshness_for(DEFAULT_CADENCE_MINUTES),
        )
        for stream in vendor.streams
    ]

    @dg.multi_asset(
        name=f"{vendor.provider}_sync",
        specs=specs,
        partitions_def=vendor.partitions,
        pool=vendor.provider,
        retry_policy=SYNC_RETRY,
        required_resource_keys={"db", vendor.client_resource},
    )
    def _sync(context: dg.AssetExecutionContext, config: SyncWindow):
        db: FirmsyncDatabase = context.resources.db
        connection_id = uuid.UUID(context.partition_key)
        request_id = context.run.tags.get(REQUEST_TAG)
        try:
            result = sync_connection(
                db,
                vendor,
                getattr(context.resources, vendor.client_resource),
                connection_id,
                full_refresh=context.run.tags.get(FULL_REFRESH_TAG) == "true",
                window=config.window(),
                page_size=getattr(getattr(context.resources, vendor.client_resource), "page_size", 1000),
                request_id=request_id,
                run_id=context.run.run_id,
            )
        except SyncFailed as exc:
            raise dg.Failure(description=str(exc), allow_retries=not exc.permanent) from exc
        except Exception as exc:
            if context.retry_number >= SYNC_RETRY.max_retries:
                tenant, _ = db.connection(connection_id)
                mark_connection(db, tenant, connection_id, outcome="failed", error=str(exc))
                mark_request(db, tenant, request_id, status="failed", error=str(exc))
            raise
        _record_success(db, result, request_id, final=not vendor.canonical)
        for stream in vendor.streams:
            metadata = result.streams[stream.name].metadata() | {"token_refreshes": result.token_refreshes}
            yield dg.MaterializeResult(asset_key=stream.asset_key, metadata=metadata)

    return _sync


def _record_success(db: FirmsyncDatabase, result: ConnectionResult, request_id: str | None, *, final: bool):
    mark_connection(
        db, result.tenant, result.connection_id, outcome="succeeded", records=result.records, status="active"
    )
    if final:
        mark_request(db, result.tenant, request_id, status="succeeded", records=result.records)


def merge_mark_key(spec: CanonicalSpec) -> str:
    """The app.sync_state key under which a canonical merge records when it last ran for a connection."""
    return "merge:" + spec.asset_key.to_user_string()


def _merge(
    db: FirmsyncDatabase, spec: CanonicalSpec, connection_id: uuid.UUID
) -> tuple[dict[str, int], int | None, datetime]:
    """Merge the connection's warehouse rows into the app table; its mark is saved in the same transaction,
    so a sweep can tell later whether anything arrived since (`_merges_due`)."""
    tenant, _ = db.connection(connection_id)
    started = datetime.now(UTC)
    with db.tenant(tenant) as session:
        counts = spec.merge(session, tenant, connection_id)
        ConnectionRepository(session, tenant).save_cursor(
            connection_id, merge_mark_key(spec), started.isoformat()
        )
        records = session.scalar(
            select(Connection.last_sync_records).where(
                Connection.firm_id == tenant.firm_id, Connection.id == connection_id
            )
        )
    return counts, records, started


def _merges_due(vendor: VendorSync, result: ConnectionResult) -> list[CanonicalSpec]:
    """The canonical merges a sweep must run for a connection: those with input newer than their last run
    (a stream row synced since, or an upstream merge re-run since), never run, or after a full refresh.
    A merge that failed after its rows were loaded left its mark behind, so it is due again next time.
    Per-connection runs merge always (a link made in the app since is picked up there)."""
    streams = {s.asset_key: result.streams[s.name].last_synced_at for s in vendor.streams}
    marks: dict[dg.AssetKey, datetime | None] = {}
    due = []
    for spec in vendor.canonical:
        text = result.cursors_before.get(merge_mark_key(spec))
        mark = datetime.fromisoformat(text) if text else None
        inputs = [streams[d] if d in streams else marks.get(d) for d in spec.deps]
        if result.full_refresh or mark is None or any(i is not None and i > mark for i in inputs):
            due.append(spec)
            marks[spec.asset_key] = datetime.max.replace(tzinfo=UTC)  # re-run now: downstream is due too
        else:
            marks[spec.asset_key] = mark
    return due


def _canonical_asset(vendor: VendorSync, spec: CanonicalSpec, *, last: bool):
    @dg.asset(
        key=spec.asset_key,
        deps=list(spec.deps),
        partitions_def=vendor.partitions,
        kinds={"postgres"},
        group_name="app",
        description=spec.description,
        retry_policy=SYNC_RETRY,
    )
    def _canonical(context: dg.AssetExecutionContext, db: FirmsyncDatabase) -> dg.MaterializeResult:
        connection_id = uuid.UUID(context.partition_key)
        counts, records, _ = _merge(db, spec, connection_id)
        if last:
            tenant, _ = db.connection(connection_id)
            mark_request(db, tenant, context.run.tags.get(REQUEST_TAG), status="succeeded", records=records)
        return dg.MaterializeResult(metadata=counts)

    return _canonical


class SweepConfig(dg.Config):
    connection_ids: list[str] | None = None  # None: every connection whose cadence says it is due
    max_concurrency: int = 4
    full_refresh: bool = False


def due_connections(db: FirmsyncDatabase, provider: str) -> list[str]:
    """Live, non-disabled connections whose last sync is older than their own cadence."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    with db.system() as session:
        return [
            str(c.id)
            for c in system_live_connections(session, provider)
            if c.status not in ("disabled", "needs_reauth")
            and (c.last_sync_at is None or c.last_sync_at <= now - timedelta(minutes=c.sync_interval_minutes))
        ]


@dataclass
class _Swept:
    key: str
    result: ConnectionResult | None = None
    merged: list[tuple[CanonicalSpec, dict[str, int]]] = field(default_factory=list)
    error: Exception | None = None


def _sweep_job(vendor: VendorSync, stream_checks) -> dg.JobDefinition:
    """Many connections in one run (ADR 0010):

    1. sync each (threads, `max_concurrency` at a time);
    2. the integrity checks, set-based over every connection synced (one query per check and stream);
       a connection failing a blocking one is marked failed and not merged;
    3. the canonical merges each connection is due (`_merges_due`), in threads;
    4. events: a materialization per connection for each stream it changed and each merge it ran, a
       check evaluation (with the partition) for each failure, and, for a stream no connection changed,
       one materialization of the first connection synced, so the asset's freshness says the stream was
       synced. Every connection's own outcome is on its row (`last_sync_*`) and in the run's output.
    Dagster stores each event in a few statements (~15 ms on a 2-core box); a per-connection event for
    every stream and check would cost more than the syncs themselves at a thousand connections.
    """

    @dg.op(
        name=f"{vendor.provider}_sweep",
        required_resource_keys={"db", vendor.client_resource},
        pool=vendor.provider,
        description="Sync many connections in this one run, a bounded number at a time.",
    )
    def _sweep(context: dg.OpExecutionContext, config: SweepConfig):
        db: FirmsyncDatabase = context.resources.db
        client_factory = getattr(context.resources, vendor.client_resource)
        keys = (
            config.connection_ids
            if config.connection_ids is not None
            else due_connections(db, vendor.provider)
        )
        context.log.info(
            "sweeping %d %s connections, %d at a time", len(keys), vendor.provider, config.max_concurrency
        )
        workers = max(1, config.max_concurrency)

        def fail(swept: _Swept, exc: Exception) -> _Swept:
            if not isinstance(exc, SyncFailed):
                tenant, _ = db.connection(uuid.UUID(swept.key))
                mark_connection(db, tenant, uuid.UUID(swept.key), outcome="failed", error=str(exc))
            swept.error = exc
            return swept

        def sync(key: str) -> _Swept:
            swept = _Swept(key)
            try:
                swept.result = sync_connection(
                    db,
                    vendor,
                    client_factory,
                    uuid.UUID(key),
                    full_refresh=config.full_refresh,
                    page_size=getattr(client_factory, "page_size", 1000),
                )
            except Exception as exc:  # one connection's failure must not stop the sweep
                return fail(swept, exc)
            return swept

        def merge(swept: _Swept) -> _Swept:
            try:
                for spec in _merges_due(vendor, swept.result):
                    swept.merged.append((spec, _merge(db, spec, uuid.UUID(swept.key))[0]))
                _record_success(db, swept.result, None, final=True)
            except Exception as exc:
                return fail(swept, exc)
            return swept

        with ThreadPoolExecutor(max_workers=workers) as pool:
            swept = list(pool.map(sync, keys))
            synced = [s for s in swept if s.error is None]
            check_failures = _sweep_checks(db, stream_checks, vendor, synced)
            for s in synced:
                blocking = [o for _, o in check_failures.get(s.key, []) if BLOCKING[o.check_name]]
                if blocking:
                    fail(s, RuntimeError("; ".join(f"{o.check_name}: {o.description}" for o in blocking)))
            list(pool.map(merge, [s for s in synced if s.error is None]))

        yield from _sweep_events(vendor, swept, check_failures)
        failures = [s for s in swept if s.error is not None]
        for s in failures:
            context.log.warning("connection %s failed: %s", s.key, s.error)
        changed = sum(
            1 for s in swept if s.error is None and any(r.changed for r in s.result.streams.values())
        )
        yield dg.Output(
            {"synced": len(keys) - len(failures), "failed": len(failures)},
            metadata={
                "synced": len(keys) - len(failures),
                "failed": len(failures),
                "changed": changed,
                "merges_run": sum(len(s.merged) for s in swept),
                "check_failures": sum(len(v) for v in check_failures.values()),
                "failed_connections": ", ".join(s.key for s in failures),
            },
        )
        if failures:
            raise dg.Failure(
                description=f"{len(failures)} of {len(keys)} connections failed (see each connection)",
                allow_retries=False,
            )

    @dg.job(
        name=f"{vendor.provider}_sweep_job",
        description=f"Scheduled sweep of {vendor.provider} connections",
        tags={VENDOR_TAG: vendor.provider},
    )
    def _job():
        _sweep()

    return _job


def _sweep_checks(
    db: FirmsyncDatabase, stream_checks, vendor: VendorSync, synced: list[_Swept]
) -> dict[str, list[tuple[dg.AssetKey, Outcome]]]:
    """Every stream's integrity checks over the synced connections at once → failures by connection key.
    (The source-count check, a vendor call per connection, runs on per-connection runs only.)"""
    failures: dict[str, list[tuple[dg.AssetKey, Outcome]]] = {}
    names = {s.asset_key: s.name for s in vendor.streams}
    with db.system() as session:
        for checks in stream_checks:
            name = names[checks.asset_key]
            cursors = {
                uuid.UUID(s.key): (s.result.cursors_before.get(name), s.result.streams[name].cursor)
                for s in synced
            }
            for connection_id, outcomes in checks.sweep_failures(session, cursors).items():
                failures.setdefault(str(connection_id), []).extend((checks.asset_key, o) for o in outcomes)
    return failures


def _sweep_events(vendor: VendorSync, swept: list[_Swept], check_failures):
    done = [s for s in swept if s.error is None]
    reported: set[dg.AssetKey] = set()
    for s in done:
        for stream in vendor.streams:
            stream_result = s.result.streams[stream.name]
            if stream_result.changed or stream.name not in s.result.cursors_before:
                reported.add(stream.asset_key)
                yield dg.AssetMaterialization(
                    asset_key=stream.asset_key, partition=s.key, metadata=stream_result.metadata()
                )
        for spec, counts in s.merged:
            yield dg.AssetMaterialization(asset_key=spec.asset_key, partition=s.key, metadata=counts)
    if done:  # freshness is per asset: a stream no connection changed was still synced, just now
        first = done[0]
        for stream in vendor.streams:
            if stream.asset_key not in reported:
                yield dg.AssetMaterialization(
                    asset_key=stream.asset_key,
                    partition=first.key,
                    metadata=first.result.streams[stream.name].metadata(),
                )
    for key, pairs in check_failures.items():
        for asset_key, outcome in pairs:
            yield outcome.evaluation(asset_key, key)
