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

from core_api.connections.repository import ConnectionRepository, system_live_connections
from pipelines.catalog import table_metadata
from pipelines.checks import BLOCKING, Outcome, vendor_stream_checks
from pipelines.freshness import DEFAULT_CADENCE_MINUTES, freshness_for
from pipelines.observability import bind_run, in_run_context
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
        bind_run(context)
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
            metadata = (
                result.streams[stream.name].metadata()
                | {"token_refreshes": result.token_refreshes}
                | result.calls.as_dict()  # the connection's vendor calls (one figure for all its streams)
            )
            yield dg.MaterializeResult(asset_key=stream.asset_key, metadata=metadata)

    return _sync


def _record_success(db: FirmsyncDatabase, result: ConnectionResult, request_id: str | None, *, final: bool):
    mark_connection(
        db, result.tenant, result.connection_id, outcome="succeeded", records=result.records, status="active"
    )
    if final:
        mark_request(db, result.tenant, request_id, status="succeeded", records=result.records)


def merge_mark_key(spec: CanonicalSpec) -> str:
    """app.sync_state key: when the merge last ran for a connection (ISO time)."""
    return "merge:" + spec.asset_key.to_user_string()


def change_mark_key(spec: CanonicalSpec) -> str:
    """app.sync_state key: when the merge last changed what merges downstream of it read."""
    return "merge_changed:" + spec.asset_key.to_user_string()


def _merge(db: FirmsyncDatabase, tenant, spec: CanonicalSpec, connection_id: uuid.UUID) -> dict[str, int]:
    """Merge the connection's warehouse rows into the app table. Its marks are saved in the same
    transaction, so a sweep can tell later whether anything arrived since (`_merge_due`)."""
    started = datetime.now(UTC).isoformat()
    with db.tenant(tenant) as session:
        counts = spec.merge(session, tenant, connection_id)
        marks = {merge_mark_key(spec): started}
        if spec.changes_downstream(counts):
            marks[change_mark_key(spec)] = started
        ConnectionRepository(session, tenant).save_cursors(connection_id, marks)
    return counts


def _merge_due(
    spec: CanonicalSpec,
    result: ConnectionResult,
    streams: dict[dg.AssetKey, str],
    changed: dict[dg.AssetKey, datetime],
) -> bool:
    """Whether a sweep must run `spec` for a connection: never run, a full refresh, a stream row synced
    since its last run, or an upstream merge that changed something since (this sweep's included). A merge
    that failed after its rows were loaded kept its old mark, so it is due again next time. Per-connection
    runs merge always (a link made in the app since is picked up there)."""
    text = result.cursors_before.get(merge_mark_key(spec))
    if result.full_refresh or not text:
        return True
    ran = datetime.fromisoformat(text)
    for dep in spec.deps:
        newest = result.streams[streams[dep]].last_synced_at if dep in streams else changed.get(dep)
        if newest is not None and newest > ran:
            return True
    return False


def _merge_due_ones(
    db: FirmsyncDatabase, vendor: VendorSync, result: ConnectionResult
) -> list[tuple[CanonicalSpec, dict[str, int]]]:
    """Run the connection's due merges in order; returns those run with their counts."""
    streams = {s.asset_key: s.name for s in vendor.streams}
    changed: dict[dg.AssetKey, datetime] = {}
    for spec in vendor.canonical:
        text = result.cursors_before.get(change_mark_key(spec))
        if text:
            changed[spec.asset_key] = datetime.fromisoformat(text)
    merged = []
    for spec in vendor.canonical:
        if not _merge_due(spec, result, streams, changed):
            continue
        counts = _merge(db, result.tenant, spec, result.connection_id)
        if spec.changes_downstream(counts):
            changed[spec.asset_key] = datetime.max.replace(tzinfo=UTC)  # downstream is due now
        merged.append((spec, counts))
    return merged


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
        tenant, connection = db.connection(connection_id)
        counts = _merge(db, tenant, spec, connection_id)
        if last:
            request_id = context.run.tags.get(REQUEST_TAG)
            mark_request(db, tenant, request_id, status="succeeded", records=connection.last_sync_records)
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
        bind_run(context)
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
                swept.merged = _merge_due_ones(db, vendor, swept.result)
                _record_success(db, swept.result, None, final=True)
            except Exception as exc:
                return fail(swept, exc)
            return swept

        with ThreadPoolExecutor(max_workers=workers) as pool:
            swept = list(pool.map(in_run_context(sync), keys))
            synced = [s for s in swept if s.error is None]
            check_failures = _sweep_checks(db, stream_checks, synced)
            for s in synced:
                blocking = [o for _, o in check_failures.get(s.key, []) if BLOCKING[o.check_name]]
                if blocking:
                    fail(s, RuntimeError("; ".join(f"{o.check_name}: {o.description}" for o in blocking)))
            list(pool.map(in_run_context(merge), [s for s in synced if s.error is None]))

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
                **{
                    name: sum(s.result.calls.as_dict()[name] for s in swept if s.result is not None)
                    for name in ("api_calls", "throttled", "retries")
                },
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
    db: FirmsyncDatabase, stream_checks, synced: list[_Swept]
) -> dict[str, list[tuple[dg.AssetKey, Outcome]]]:
    """Every stream's integrity checks over the synced connections at once → failures by connection key.
    (The source-count check, a vendor call per connection, runs on per-connection runs only.)"""
    failures: dict[str, list[tuple[dg.AssetKey, Outcome]]] = {}
    with db.system() as session:
        for checks in stream_checks:
            name = checks.stream  # the stream's name in sync_state and in the results
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
