"""Shared test infrastructure: one real PostgreSQL database per session, migrated once with Alembic.

TEST_DATABASE_URL (an owner/superuser URL) points the suite at an existing server, where a fresh
database is created and dropped; unset, an embedded PostgreSQL is started in a temporary directory.
API tests run inside an outer transaction that is rolled back (sessions join it via savepoints).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from psycopg import sql
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

# Settings are read once per process; give the suite its own secrets before anything imports them.
os.environ.setdefault("FIRMSYNC_JWT_SECRET", "test-secret-" + "x" * 40)
os.environ.setdefault("FIRMSYNC_ENCRYPTION_KEYS", Fernet.generate_key().decode())
os.environ.setdefault("FIRMSYNC_APP_DB_ROLE", "firmsync_app_test")


def _admin_url() -> tuple[str, object | None]:
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        return external, None
    from core_api import embedded_db

    data_dir = Path(tempfile.mkdtemp(prefix="firmsync-test-pg-"))
    pg = embedded_db.start(data_dir, stop_on_exit=False)
    return pg.url("postgres"), pg


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    admin, embedded = _admin_url()
    name = f"firmsync_test_{uuid.uuid4().hex[:10]}"
    plain_admin = admin.replace("+psycopg", "")
    with psycopg.connect(plain_admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = make_url(plain_admin).set(database=name).render_as_string(hide_password=False)
    os.environ["DATABASE_URL"] = url

    from core_api import db, migrate
    from core_api.settings import get_settings

    get_settings.cache_clear()
    db.owner_engine.cache_clear()
    db.app_engine.cache_clear()
    migrate.upgrade(url, get_settings())
    yield url
    db.owner_engine().dispose()
    db.app_engine().dispose()
    with psycopg.connect(plain_admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    if embedded is not None:
        embedded.stop()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def settings(database_url):
    from core_api.settings import get_settings

    return get_settings()


@pytest.fixture
def operator_firms(settings, monkeypatch) -> list[uuid.UUID]:
    """FIRMSYNC_OPERATOR_FIRM_IDS for one test: append the firms whose admins operate the platform."""
    from core_api.settings import get_settings

    firms: list[uuid.UUID] = []
    # The session's settings and the one get_settings() caches now (a test may have cleared that cache).
    for target in {id(s): s for s in (settings, get_settings())}.values():
        monkeypatch.setattr(target, "operator_firm_ids", firms)
    return firms


@pytest.fixture
def app_connection(database_url):
    """A connection as the API's role, inside a transaction rolled back after the test."""
    from core_api.db import app_engine

    with app_engine().connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def owner_engine(database_url):
    engine = create_engine(
        make_url(database_url).set(drivername="postgresql+psycopg"), poolclass=pool.NullPool
    )
    yield engine
    engine.dispose()


def set_firm(conn, firm_id: uuid.UUID | None) -> None:
    conn.execute(text("select set_config('app.firm_id', :f, true)"), {"f": str(firm_id) if firm_id else ""})


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """The vendor sandbox as a real HTTP server (one per test session; tests use one realm each)."""
    from tests.support.processes import SandboxServer

    server = SandboxServer(tmp_path_factory.mktemp("sandbox"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ldap_server():
    """A real OpenLDAP slapd playing an Active Directory domain (deploy/local/directory_server.py); tests each
    take their own OU of it with `ldap_server.new_tree()`."""
    from deploy.local.directory_server import LdapServer

    server = LdapServer()
    yield server
    server.stop()


# --- document storage: the suite's own S3 (moto in server mode, real HTTP) ----------------------------------
# Settings are read once per process, so the endpoint is fixed here, on a port picked now; the `s3` fixture
# starts moto there on first use. Tests that never ask for it get a dead local port, never AWS.
def _moto_port() -> int:
    from tests.support.processes import free_port

    return free_port()


MOTO_PORT = _moto_port()
os.environ.update(
    FIRMSYNC_S3_ENDPOINT_URL=f"http://127.0.0.1:{MOTO_PORT}",
    FIRMSYNC_S3_BUCKET="firmsync-test-documents",
    FIRMSYNC_S3_REGION="us-east-1",
    FIRMSYNC_S3_ACCESS_KEY_ID="firmsync-test",
    FIRMSYNC_S3_SECRET_ACCESS_KEY="firmsync-test",
    FIRMSYNC_S3_CREATE_BUCKET="false",
)


@pytest.fixture(scope="session")
def s3(tmp_path_factory) -> Iterator[str]:
    """`python -m moto.server` on MOTO_PORT with the documents bucket created; stopped by PID."""
    import subprocess
    import sys

    from tests.support.processes import ROOT, stop, wait_http

    url = f"http://127.0.0.1:{MOTO_PORT}"
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(MOTO_PORT)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_http(f"{url}/moto-api/", proc)
        from core_api.documents.storage import DocumentStorage
        from core_api.settings import Settings

        settings = Settings()  # type: ignore[call-arg]
        DocumentStorage.from_settings(settings).ensure_bucket(settings.s3_region)
        yield url
    finally:
        stop(proc)
        log.close()
