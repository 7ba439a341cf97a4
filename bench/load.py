"""Loader throughput: pipelines.loader.bulk_upsert against raw COPY → temp table → INSERT … ON CONFLICT.

DESIGN: raw ≈ 200k rows/s insert, ≈ 150k rows/s update on this hardware, ORM-style executemany ≈ 65k rows/s;
the loader must reach ≥ 80% of raw (`ratio_insert`, `ratio_update`). Rows are shaped like
warehouse.quickbooks_customers and loaded in 1,000-row pages, one transaction each, as a sync does.

Every method loads identical rows (an insert pass, then an update pass that changes every row) into an
empty table; the methods are interleaved and each keeps its best of `--repeats` runs, because a shared
2-core machine is noisy. Rows are generated page by page and only the loading is timed, so memory stays
bounded whatever `--rows` is (`peak_rss_mib`).
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from psycopg import sql
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.database import scratch_database
from core_api.models import QuickBooksCustomer
from pipelines.loader import bulk_upsert, copy_rows

log = logging.getLogger("bench.load")

PAGE = 1000
KEY = ("connection_id", "external_id")
TABLE = QuickBooksCustomer.__table__
TARGET_RATIO = 0.8
BASE = datetime(2025, 1, 1, tzinfo=UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=200_000, help="rows per pass (default 200000)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs; best kept (default 3)")
    parser.add_argument(
        "--executemany",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure ORM-style executemany (the slowest path; default on)",
    )


def peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _page(start: int, n: int, firm_id: uuid.UUID, connection_id: uuid.UUID, version: int) -> list[dict]:
    rows = []
    for i in range(start, start + n):
        raw = {"Id": str(i), "DisplayName": f"Customer {i}", "SyncToken": str(version), "Balance": i % 997}
        rows.append(
            {
                "firm_id": firm_id,
                "connection_id": connection_id,
                "external_id": str(i),
                "sync_token": str(version),
                "display_name": f"Customer {i} v{version}",
                "company_name": f"Company {i}",
                "given_name": "Ada",
                "family_name": f"Lovelace{i}",
                "email": f"c{i}@example.com",
                "phone": "(555) 010-0000",
                "address_line1": f"{i} Main St",
                "city": "Springfield",
                "region": "IL",
                "postal_code": "62701",
                "country": "US",
                "active": True,
                "balance": Decimal(i % 997),
                "currency": "USD",
                "created_at": BASE,
                "updated_at": BASE + timedelta(seconds=i + version),
                "raw": raw,
                "synced_at": BASE,
                "deleted_at": None,
            }
        )
    return rows


def _pages(rows: int, firm_id: uuid.UUID, connection_id: uuid.UUID, version: int) -> Iterator[list[dict]]:
    """The same rows for every method, built one page at a time so only a page is ever in memory."""
    for start in range(0, rows, PAGE):
        yield _page(start, min(PAGE, rows - start), firm_id, connection_id, version)


PageLoader = Callable[[Engine, list[dict]], Any]


def _timed(load: PageLoader, engine: Engine, pages: Iterator[list[dict]]) -> float:
    """Seconds spent loading (row generation excluded: it is the same for every method)."""
    spent = 0.0
    for page in pages:
        started = time.perf_counter()
        load(engine, page)
        spent += time.perf_counter() - started
    return spent


def _loader(engine: Engine, page: list[dict]) -> None:
    """The project's loader, one transaction per page."""
    with Session(engine) as session, session.begin():
        bulk_upsert(session, TABLE, page, key=KEY)


class _Raw:
    """The hand-written floor: COPY into a temp table and one unconditional ON CONFLICT DO UPDATE."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        cols = sql.SQL(", ").join(map(sql.Identifier, columns))
        updates = sql.SQL(", ").join(
            sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in columns if c not in KEY
        )
        self.copy = sql.SQL("copy _raw ({}) from stdin").format(cols)
        self.merge = sql.SQL(
            "insert into warehouse.quickbooks_customers ({c}) select {c} from _raw "
            "on conflict (connection_id, external_id) do update set {u}"
        ).format(c=cols, u=updates)

    def __call__(self, engine: Engine, page: list[dict]) -> None:
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            with raw.cursor() as cur:
                cur.execute("create temp table _raw (like warehouse.quickbooks_customers) on commit drop")
                with cur.copy(self.copy) as copy:
                    for values in copy_rows(page, self.columns):
                        copy.write_row(values)
                cur.execute(self.merge)


class _ExecuteMany:
    """ORM-style: SQLAlchemy Core INSERT … ON CONFLICT with a list of parameter dicts."""

    def __init__(self, columns: list[str]) -> None:
        stmt = insert(TABLE)
        self.stmt = stmt.on_conflict_do_update(
            index_elements=list(KEY), set_={c: stmt.excluded[c] for c in columns if c not in KEY}
        )

    def __call__(self, engine: Engine, page: list[dict]) -> None:
        with engine.begin() as conn:
            conn.execute(self.stmt, page)


def _new_connection(engine: Engine, firm_id: uuid.UUID) -> uuid.UUID:
    connection_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            text(
                "insert into app.connections (id, firm_id, provider, account_id, display_name, config) "
                "values (:c, :f, 'quickbooks', :a, 'bench', '{}')"
            ),
            {"c": connection_id, "f": firm_id, "a": str(connection_id)},
        )
    return connection_id


def _empty_table(engine: Engine) -> None:
    # Every pass starts from the same empty table and indexes, whichever method ran before it.
    with engine.begin() as conn:
        conn.execute(text("truncate warehouse.quickbooks_customers"))


def run(rows: int = 200_000, repeats: int = 3, executemany: bool = True) -> dict:
    if rows < 1 or repeats < 1:
        raise SystemExit("--rows and --repeats must be positive")
    with scratch_database() as url:
        engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
        firm_id = uuid.uuid4()
        with engine.begin() as conn:
            conn.execute(
                text("insert into app.firms (id, name, slug) values (:f, 'bench', 'bench')"), {"f": firm_id}
            )
            server_version = conn.execute(text("show server_version")).scalar_one()
        columns = list(_page(0, 1, firm_id, firm_id, 1)[0])
        methods: dict[str, PageLoader] = {"raw": _Raw(columns), "loader": _loader}
        if executemany:
            methods["executemany"] = _ExecuteMany(columns)
        # One untimed page through every path first: the first run would otherwise pay for catalog
        # caches and connection set-up, and whichever method goes first would look slower.
        for load in methods.values():
            _empty_table(engine)
            load(engine, _page(0, min(rows, PAGE), firm_id, _new_connection(engine, firm_id), 1))
        rss_before = peak_rss_mib()

        best: dict[str, float] = {}
        for repeat in range(1, repeats + 1):
            for name, load in methods.items():
                _empty_table(engine)
                connection_id = _new_connection(engine, firm_id)
                for phase, version in (("insert", 1), ("update", 2)):
                    seconds = _timed(load, engine, _pages(rows, firm_id, connection_id, version))
                    rate = rows / seconds
                    best[f"{name}_{phase}"] = max(best.get(f"{name}_{phase}", 0.0), rate)
                    log.info("run %d/%d %s %s: %.0f rows/s", repeat, repeats, name, phase, rate)
        _empty_table(engine)

        figures: dict[str, Any] = {
            "rows": rows,
            "page_size": PAGE,
            "repeats": repeats,
            "postgres": server_version,
            "database": "BENCH_DATABASE_URL" if os.environ.get("BENCH_DATABASE_URL") else "embedded",
        }
        for name in methods:
            for phase in ("insert", "update"):
                figures[f"{name}_{phase}_rows_per_s"] = round(best[f"{name}_{phase}"])
        for phase in ("insert", "update"):
            figures[f"ratio_{phase}"] = round(best[f"loader_{phase}"] / best[f"raw_{phase}"], 3)
        figures["ratio_target"] = TARGET_RATIO
        figures["target_met"] = min(figures["ratio_insert"], figures["ratio_update"]) >= TARGET_RATIO

        # Memory apart from timing (tracemalloc slows every allocation): the loader's own peak for one
        # page, inputs excluded, then the process's peak RSS over the whole bench.
        connection_id = _new_connection(engine, firm_id)
        page = _page(0, PAGE, firm_id, connection_id, 1)
        tracemalloc.start()
        _loader(engine, page)
        figures["loader_peak_mib_per_page"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 2)
        tracemalloc.stop()
        figures["rss_mib_before_loading"] = rss_before
        figures["peak_rss_mib"] = peak_rss_mib()
        engine.dispose()
        return figures
