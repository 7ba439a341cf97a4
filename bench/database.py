"""A throwaway migrated database for a benchmark: BENCH_DATABASE_URL's server, or an embedded one."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url


@contextmanager
def scratch_database() -> Iterator[str]:
    os.environ.setdefault("FIRMSYNC_JWT_SECRET", "bench-" + "x" * 40)
    os.environ.setdefault("FIRMSYNC_ENCRYPTION_KEYS", "LUq5UiMW-Fv6UBpdqn1RLTp2tdnJLeotPvJdiRhSmi8=")
    external = os.environ.get("BENCH_DATABASE_URL")
    embedded = None
    data_dir = None
    if external:
        admin = external
    else:
        from core_api import embedded_db

        data_dir = Path(tempfile.mkdtemp(prefix="firmsync-bench-pg-"))
        embedded = embedded_db.start(data_dir, stop_on_exit=False)
        admin = embedded.url("postgres")
    name = f"firmsync_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    os.environ["DATABASE_URL"] = url
    from core_api import migrate
    from core_api.settings import get_settings

    get_settings.cache_clear()
    migrate.upgrade(url, get_settings())
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        if embedded is not None:
            embedded.stop()
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)  # a load bench leaves ~1 GB of cluster behind
