"""Asset checks for synced warehouse streams: one factory, four checks per stream (ADR 0007).

For one `warehouse.<vendor>_<stream>` asset, `StreamChecks` builds partitioned checks (one partition per
connection, like the asset) that run in the sync's own run, right after the stream is written:

| check                      | fails when                                                         | blocking |
|----------------------------|--------------------------------------------------------------------|----------|
| `unique_keys`              | two rows of the connection share the stream's key                  | yes      |
| `firm_matches_connection`  | a row's `firm_id` is not its connection's firm                     | yes      |
| `cursor_monotonic`         | `app.sync_state.cursor` is earlier than at the previous evaluation | no       |
|                            | of this check for the connection, or has vanished                  |          |
| `row_count_matches_source` | the vendor's count differs from the warehouse rows it covers       | no       |

All fail with `ERROR` severity. The blocking ones stop the downstream app merge (a blocking failure fails
the check step, and the canonical asset is skipped): rows of the wrong firm or doubled keys must never
reach `app.*`. The count and the cursor do not block: a customer created at the vendor between the sync's
last page and the count is a real difference for a few minutes, not corruption, and merging what was
synced is still right; a cursor that went back only re-reads (loads are upserts).

Reads use the owner session (cross-tenant, so a row of the wrong firm is visible at all). The count calls
the vendor with the connection's own credentials through the vendor's client resource and
`ConnectionTokens` (a rotated refresh token is saved under a row lock, as in the sync); it is its own step
in the vendor's pool. A vendor that cannot answer (after the client's retries) makes the count a `WARN`
with the reason, not a failed run: the sync itself succeeded.

"Equal" for the count: the vendor's number must equal the connection's warehouse rows that the vendor's
number covers (`SourceCount.counted_rows`), plus the records it holds that sit in `app.dead_letters`
(open or marked for retry, and absent from the table) because they failed mapping — those are known and
re-processable, and already visible as dead letters. By default the vendor counts what it still has and
the counted rows are the live ones (`deleted_at IS NULL`). QuickBooks never hard-deletes: its
`COUNT(*) FROM Customer WHERE Active IN (true, false)` includes inactive customers, which the warehouse
holds with `active = false` and `deleted_at` set, so it counts `deleted_at IS NULL OR active = false`;
rows soft-deleted because a full refresh no longer found them (still `active`) are excluded.

The previous cursor is this check's own metadata (`cursor`), read back from the Dagster event log for
the same partition: nothing is added to the database and the history is visible in the UI.

Scheduled sweeps run connections in an op, not as partitions of the asset job: `StreamChecks.evaluate`
returns the same checks as `AssetCheckEvaluation`s (with the partition set) for the sweep op to yield.
"""

import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import COMPLETED_ASSET_CHECK_EXECUTION_RECORD_STATUSES
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Table, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from connectors.base import ConnectorError, StreamCursor
from core_api.models import Connection, DeadLetter, SyncState
from pipelines.connection_tokens import ConnectionTokens
from pipelines.resources import FirmsyncDatabase
from pipelines.streams import VendorSync

UNIQUE_KEYS = "unique_keys"
FIRM_MATCHES = "firm_matches_connection"
CURSOR_MONOTONIC = "cursor_monotonic"
ROW_COUNT = "row_count_matches_source"
INTEGRITY = (UNIQUE_KEYS, FIRM_MATCHES, CURSOR_MONOTONIC)
BLOCKING = {UNIQUE_KEYS: True, FIRM_MATCHES: True, CURSOR_MONOTONIC: False, ROW_COUNT: False}
SAMPLE = 5  # offending rows shown in a failed check's metadata


def timestamp_cursor(cursor: str) -> Any:
    """Order for ISO-8601 timestamp cursors (QuickBooks LastUpdatedTime, Salesforce SystemModstamp, …).

    A cursor that does not parse is treated as opaque (a sync token): only its disappearance fails.
    """
    return StreamCursor.parse(cursor).value


def live_rows(table: Table) -> ColumnElement[bool]:
    """The default count coverage: the vendor counts what it still has, held here as rows not deleted."""
    return table.c.deleted_at.is_(None)


def quickbooks_counted(table: Table) -> ColumnElement[bool]:
    """Live customers plus those QuickBooks made inactive (its delete); not rows a full refresh missed."""
    return or_(table.c.deleted_at.is_(None), table.c.active.is_(False))


@dataclass(frozen=True)
class SourceCount:
    """How to ask the vendor for a stream's record count, and which warehouse rows that count covers.

    `resource_key` names a resource with `client(config, credentials, on_tokens)` (e.g. `QuickBooksApi`).
    """

    resource_key: str
    credentials_model: type[BaseModel]
    count: Callable[[Any], int]
    counted_rows: Callable[[Table], ColumnElement[bool]] = live_rows
    description: str = "the vendor's record count"


@dataclass(frozen=True)
class Outcome:
    check_name: str
    passed: bool
    metadata: dict[str, Any]
    description: str | None = None
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR

    def result(self, asset_key: dg.AssetKey) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(
            asset_key=asset_key,
            check_name=self.check_name,
            passed=self.passed,
            severity=self.severity,
            description=self.description,
            metadata=self.metadata,
        )

    def evaluation(self, asset_key: dg.AssetKey, partition: str) -> dg.AssetCheckEvaluation:
        return dg.AssetCheckEvaluation(
            asset_key=asset_key,
            check_name=self.check_name,
            passed=self.passed,
            severity=self.severity,
            description=self.description,
            metadata=self.metadata,
            blocking=BLOCKING[self.check_name],
            partition=partition,
        )


@dataclass
class StreamChecks:
    """The checks of one synced stream: Dagster definitions, and the same logic as plain functions.

    `table` needs `connection_id`, `firm_id`, `deleted_at` and the key columns; `stream` is the stream's
    name in `app.sync_state`; `cursor_order` maps a cursor to something orderable (None: opaque tokens);
    `pool` is the vendor's concurrency pool (the count step calls the vendor).
    """

    asset_key: dg.AssetKey
    table: Table
    key_columns: Sequence[str]
    partitions_def: dg.PartitionsDefinition
    stream: str
    source_count: SourceCount | None = None
    cursor_order: Callable[[str], Any] | None = timestamp_cursor
    pool: str | None = None
    db_resource_key: str = "db"
    definitions: list[dg.AssetChecksDefinition] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for column in ("connection_id", "firm_id", "deleted_at", *self.key_columns):
            if column not in self.table.c:
                raise ValueError(f"{self.table_name} has no column {column!r}")
        # Partitioned checks are a Dagster "preview" feature; don't warn on every code-server load.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.PreviewWarning)
            self.definitions = [self._integrity_definition()]
            if self.source_count is not None:
                self.definitions.append(self._row_count_definition())

    @property
    def table_name(self) -> str:
        return f"{self.table.schema}.{self.table.name}" if self.table.schema else self.table.name

    @property
    def check_keys(self) -> list[dg.AssetCheckKey]:
        return [k for d in self.definitions for k in d.check_keys]

    # ---- plain functions (used by the definitions below and by op-based sweeps)

    def integrity(
        self,
        session: Session,
        instance: dg.DagsterInstance,
        connection_id: uuid.UUID,
        selected: Sequence[str] = INTEGRITY,
    ) -> list[Outcome]:
        """The checks that read only the database; `session` must be the owner's (it bypasses RLS)."""
        checks = {
            UNIQUE_KEYS: lambda: self._unique_keys(session, connection_id),
            FIRM_MATCHES: lambda: self._firm_matches(session, connection_id),
            CURSOR_MONOTONIC: lambda: self._cursor_monotonic(session, instance, connection_id),
        }
        return [checks[name]() for name in INTEGRITY if name in selected]

    def row_count(self, db: FirmsyncDatabase, vendor: Any, connection_id: uuid.UUID) -> Outcome:
        source = self.source_count
        if source is None:
            raise ValueError(f"{self.asset_key.to_user_string()} has no source count")
        try:
            at_source = _source_count(db, vendor, source, connection_id)
        except ConnectorError as exc:
            # Not a mismatch, and not worth failing a run whose sync succeeded: a warning with the reason.
            return Outcome(
                ROW_COUNT,
                False,
                {"error": f"{type(exc).__name__}: {exc}", "source": source.description},
                f"the source count is unavailable: {exc}",
                dg.AssetCheckSeverity.WARN,
            )
        t = self.table
        with db.system() as session:
            counted, live, deleted = session.execute(
                select(
                    func.count().filter(source.counted_rows(t)),
                    func.count().filter(t.c.deleted_at.is_(None)),
                    func.count().filter(t.c.deleted_at.isnot(None)),
                ).where(t.c.connection_id == connection_id)
            ).one()
            dead = self._dead_letters_not_loaded(session, connection_id)
        passed = at_source == counted + dead
        return Outcome(
            ROW_COUNT,
            passed,
            {
                "source_count": at_source,
                "warehouse_counted_rows": counted,
                "dead_letters_not_loaded": dead,
                "difference": at_source - counted - dead,
                "warehouse_live_rows": live,
                "warehouse_soft_deleted_rows": deleted,
                "source": source.description,
            },
            None if passed else f"source has {at_source}, warehouse {counted} (+{dead} in dead letters)",
        )

    def evaluate(
        self,
        instance: dg.DagsterInstance,
        db: FirmsyncDatabase,
        vendor: Any,
        connection_id: uuid.UUID,
        *,
        count: bool = True,
    ) -> list[dg.AssetCheckEvaluation]:
        """Every check for one connection, as events an op can yield (for sweeps that sync in an op)."""
        with db.system() as session:
            outcomes = self.integrity(session, instance, connection_id)
        if count and self.source_count is not None:
            outcomes.append(self.row_count(db, vendor, connection_id))
        return [o.evaluation(self.asset_key, str(connection_id)) for o in outcomes]

    def sweep_failures(
        self,
        session: Session,
        cursors: Mapping[uuid.UUID, tuple[str | None, str | None]],
    ) -> dict[uuid.UUID, list[Outcome]]:
        """The integrity checks for every connection a sweep synced, set-based: one query per check for all
        of them, not one per connection; only the failures come back, by connection, with the same metadata
        as a partition's own evaluation. `cursors`: each connection's stream cursor before and after its sync
        in the sweep — the cursor check compares the two (no event-log read per connection). `session`: owner.
        """
        ids = list(cursors)
        if not ids:
            return {}
        t = self.table
        keys = [t.c[c] for c in dict.fromkeys(("connection_id", *self.key_columns))]
        doubled = (
            select(t.c.connection_id)
            .where(t.c.connection_id.in_(ids))
            .group_by(*keys)
            .having(func.count() > 1)
            .subquery()
        )
        wrong_firm = (
            select(t.c.connection_id)
            .join(Connection, Connection.id == t.c.connection_id)
            .where(t.c.connection_id.in_(ids), t.c.firm_id.is_distinct_from(Connection.firm_id))
            .group_by(t.c.connection_id)
        )
        failures: dict[uuid.UUID, list[Outcome]] = {}
        for cid in session.scalars(select(doubled.c.connection_id).distinct()):
            failures.setdefault(cid, []).append(self._unique_keys(session, cid))
        for cid in session.scalars(wrong_firm):
            failures.setdefault(cid, []).append(self._firm_matches(session, cid))
        for cid, (before, now) in cursors.items():
            outcome = self._cursor_outcome(before, now)
            if not outcome.passed:
                failures.setdefault(cid, []).append(outcome)
        return failures

    # ---- the checks

    def _unique_keys(self, session: Session, connection_id: uuid.UUID) -> Outcome:
        t = self.table
        keys = [t.c[c] for c in self.key_columns]
        groups = (
            select(*keys, func.count().label("rows"))
            .where(t.c.connection_id == connection_id)
            .group_by(*keys)
            .having(func.count() > 1)
            .subquery()
        )
        duplicated = session.execute(select(func.count()).select_from(groups)).scalar_one()
        sample = session.execute(select(groups).limit(SAMPLE)).all() if duplicated else []
        return Outcome(
            UNIQUE_KEYS,
            duplicated == 0,
            {
                "key_columns": ", ".join(self.key_columns),
                "duplicated_keys": duplicated,
                "sample": dg.MetadataValue.json([{k: str(v) for k, v in r._mapping.items()} for r in sample]),
            },
            None if duplicated == 0 else f"{duplicated} key(s) appear on more than one row",
        )

    def _firm_matches(self, session: Session, connection_id: uuid.UUID) -> Outcome:
        t = self.table
        connection_firm = session.scalar(select(Connection.firm_id).where(Connection.id == connection_id))
        wrong_firm = t.c.firm_id.is_distinct_from(connection_firm)
        rows, wrong = session.execute(
            select(func.count(), func.count().filter(wrong_firm)).where(t.c.connection_id == connection_id)
        ).one()
        sample = (
            session.execute(
                select(t.c.firm_id, func.count().label("rows"))
                .where(t.c.connection_id == connection_id, wrong_firm)
                .group_by(t.c.firm_id)
                .limit(SAMPLE)
            ).all()
            if wrong
            else []
        )
        return Outcome(
            FIRM_MATCHES,
            wrong == 0,
            {
                "connection_firm_id": str(connection_firm),
                "rows_checked": rows,
                "rows_with_wrong_firm": wrong,
                "wrong_firms": dg.MetadataValue.json({str(f): n for f, n in sample}),
            },
            None if wrong == 0 else f"{wrong} row(s) carry a firm other than their connection's",
        )

    def _cursor_monotonic(
        self, session: Session, instance: dg.DagsterInstance, connection_id: uuid.UUID
    ) -> Outcome:
        now = session.scalar(
            select(SyncState.cursor).where(
                SyncState.connection_id == connection_id, SyncState.stream == self.stream
            )
        )
        check_key = dg.AssetCheckKey(self.asset_key, CURSOR_MONOTONIC)
        return self._cursor_outcome(previous_cursor(instance, check_key, str(connection_id)), now)

    def _cursor_outcome(self, before: str | None, now: str | None) -> Outcome:
        ordering = "timestamp" if self.cursor_order else "opaque"
        problem = None
        if now is None and before is not None:
            problem = f"cursor vanished (was {before})"
        elif now is not None and before is not None and self.cursor_order is not None:
            try:
                if self.cursor_order(now) < self.cursor_order(before):
                    problem = f"cursor moved backwards from {before} to {now}"
            except ValueError:
                ordering = "opaque (does not parse)"
        return Outcome(
            CURSOR_MONOTONIC,
            problem is None,
            # `cursor` is read back by the next evaluation for this partition.
            {"cursor": now or "", "previous_cursor": before or "", "ordering": ordering},
            problem,
        )

    def _dead_letters_not_loaded(self, session: Session, connection_id: uuid.UUID) -> int:
        if "external_id" not in self.table.c:
            return 0
        t = self.table
        loaded = exists().where(t.c.connection_id == connection_id, t.c.external_id == DeadLetter.external_id)
        return session.scalar(
            select(func.count()).where(
                and_(
                    DeadLetter.connection_id == connection_id,
                    DeadLetter.stream == self.stream,
                    DeadLetter.status != "resolved",
                    ~loaded,
                )
            )
        )

    # ---- Dagster definitions

    def _spec(self, name: str, description: str) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            name,
            asset=self.asset_key,
            partitions_def=self.partitions_def,
            blocking=BLOCKING[name],
            description=description,
        )

    def _integrity_definition(self) -> dg.AssetChecksDefinition:
        specs = [
            self._spec(UNIQUE_KEYS, f"No two rows of a connection share ({', '.join(self.key_columns)})."),
            self._spec(FIRM_MATCHES, "Every row's firm_id is the firm of the connection it was synced from."),
            self._spec(
                CURSOR_MONOTONIC,
                f"The app.sync_state cursor of stream {self.stream!r} never moves backwards between checks.",
            ),
        ]

        @dg.multi_asset_check(
            name=f"{'_'.join(self.asset_key.path)}_integrity_checks",
            specs=specs,
            can_subset=True,
            required_resource_keys={self.db_resource_key},
            description=f"{self.table_name}: unique keys, every row's firm, monotonic cursor.",
        )
        def _integrity(context: dg.AssetCheckExecutionContext):
            db: FirmsyncDatabase = getattr(context.resources, self.db_resource_key)
            selected = [k.name for k in context.selected_asset_check_keys]
            with db.system() as session:
                outcomes = self.integrity(
                    session, context.instance, uuid.UUID(context.partition_key), selected
                )
            for outcome in outcomes:
                yield outcome.result(self.asset_key)

        return _integrity

    def _row_count_definition(self) -> dg.AssetChecksDefinition:
        source = self.source_count
        assert source is not None

        @dg.asset_check(
            asset=self.asset_key,
            name=ROW_COUNT,
            partitions_def=self.partitions_def,
            blocking=BLOCKING[ROW_COUNT],
            pool=self.pool,
            required_resource_keys={self.db_resource_key, source.resource_key},
            description=f"{source.description} equals the connection's rows in {self.table_name} it covers.",
        )
        def _row_count(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
            db = getattr(context.resources, self.db_resource_key)
            vendor = getattr(context.resources, source.resource_key)
            return self.row_count(db, vendor, uuid.UUID(context.partition_key)).result(self.asset_key)

        return _row_count


def previous_cursor(instance: dg.DagsterInstance, check_key: dg.AssetCheckKey, partition: str) -> str | None:
    """The cursor recorded by the check's latest completed evaluation for the partition, if any."""
    records = instance.event_log_storage.get_asset_check_execution_history(
        check_key,
        limit=1,
        status=COMPLETED_ASSET_CHECK_EXECUTION_RECORD_STATUSES,
        partition_filter=PartitionKeyFilter(key=partition),
    )
    for record in records:
        evaluation = record.event.asset_check_evaluation if record.event else None
        value = evaluation.metadata.get("cursor") if evaluation else None
        if value is not None and value.value:
            return str(value.value)
    return None


def _source_count(db: FirmsyncDatabase, vendor: Any, source: SourceCount, connection_id: uuid.UUID) -> int:
    tenant, connection = db.connection(connection_id)
    tokens = ConnectionTokens(db, tenant, connection_id, source.credentials_model)
    client = vendor.client(connection.config, tokens.load(), on_tokens=tokens.save)
    try:
        return int(source.count(client))
    finally:
        close = getattr(client, "close", None)
        if close is not None:
            close()


def stream_checks(**kwargs: Any) -> list[dg.AssetChecksDefinition]:
    """The Dagster definitions of `StreamChecks(**kwargs)`."""
    return StreamChecks(**kwargs).definitions


def vendor_stream_checks(
    vendor: VendorSync, counted_rows: Mapping[str, Callable[[Table], ColumnElement[bool]]] | None = None
) -> list[StreamChecks]:
    """Checks for every stream a vendor declares (`pipelines/streams.py`); a stream with `count` gets the
    count check. `counted_rows` overrides, per stream name, which rows the vendor's count covers."""
    checks = []
    for stream in vendor.streams:
        source = (
            SourceCount(
                resource_key=vendor.client_resource,
                credentials_model=vendor.credentials_model,
                count=stream.count,
                counted_rows=(counted_rows or {}).get(stream.name, live_rows),
                description=f"The {vendor.provider} {stream.name} count",
            )
            if stream.count is not None
            else None
        )
        checks.append(
            StreamChecks(
                asset_key=stream.asset_key,
                table=stream.table,
                key_columns=stream.key,
                partitions_def=vendor.partitions,
                stream=stream.name,
                source_count=source,
                cursor_order=None if stream.opaque_cursor else timestamp_cursor,
                pool=vendor.provider,
            )
        )
    return checks
