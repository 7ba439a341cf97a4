"""Analyst logins (migration 0007, docs/analysts.md): read-only SQL on the warehouse schema.

Real logins against the test database. Roles belong to the cluster, so every login here has a unique name
and is dropped afterwards; the data is committed by the owner (a login cannot see another session's
uncommitted rows) and removed with its firms.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from core_api.manage import create_analyst, drop_analyst, main
from core_api.migration_helpers import ANALYST_ALL_ROLE, ANALYST_ROLE, API_ROLE

PASSWORD = "analyst-test-password"


@dataclass
class Firms:
    alpha: uuid.UUID
    beta: uuid.UUID
    rows: dict[uuid.UUID, int]


@pytest.fixture(scope="module")
def owner(database_url):
    engine = create_engine(
        make_url(database_url).set(drivername="postgresql+psycopg"), poolclass=pool.NullPool
    )
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def firms(owner) -> Iterator[Firms]:
    """Two firms, each with a QuickBooks connection and warehouse rows (3 and 2, one soft-deleted each)."""
    alpha, beta = uuid.uuid4(), uuid.uuid4()
    rows = {alpha: 3, beta: 2}
    with owner.begin() as conn:
        for firm, count in rows.items():
            conn.execute(
                text("insert into app.firms (id, name, slug) values (:f, 'Analyst Test', :s)"),
                {"f": firm, "s": f"analyst-{firm.hex[:12]}"},
            )
            connection = conn.execute(
                text(
                    "insert into app.connections (id, firm_id, provider, account_id, display_name, config) "
                    "values (gen_random_uuid(), :f, 'quickbooks', :a, 'QuickBooks', '{}') returning id"
                ),
                {"f": firm, "a": f"realm-{firm.hex[:8]}"},
            ).scalar_one()
            for i in range(count):
                conn.execute(
                    text(
                        "insert into warehouse.quickbooks_customers "
                        "(firm_id, connection_id, external_id, display_name, active, raw, deleted_at) "
                        "values (:f, :c, :e, :n, :active, '{}', case when :active then null else now() end)"
                    ),
                    {"f": firm, "c": connection, "e": str(i + 1), "n": f"Customer {i}", "active": i > 0},
                )
    yield Firms(alpha, beta, rows)
    with owner.begin() as conn:
        conn.execute(text("delete from app.firms where id = any(:ids)"), {"ids": [alpha, beta]})


def _login(database_url: str, name: str, password: str = PASSWORD) -> psycopg.Connection:
    url = make_url(database_url).set(drivername="postgresql", username=name, password=password)
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


@pytest.fixture
def analyst(database_url, firms) -> Iterator[str]:
    """A login bound to firm alpha."""
    name = f"t_analyst_{uuid.uuid4().hex[:10]}"
    create_analyst(database_url, name, firm_id=firms.alpha, password=PASSWORD)
    yield name
    drop_analyst(database_url, name)


@pytest.fixture
def platform_analyst(database_url, firms) -> Iterator[str]:
    name = f"t_platform_{uuid.uuid4().hex[:10]}"
    create_analyst(database_url, name, firm_id=None, password=PASSWORD)
    yield name
    drop_analyst(database_url, name)


def _firm_counts(conn: psycopg.Connection, firms: Firms) -> dict[uuid.UUID, int]:
    rows = conn.execute(
        "select firm_id, count(*) from warehouse.quickbooks_customers where firm_id = any(%s) group by 1",
        ([firms.alpha, firms.beta],),
    ).fetchall()
    return dict(rows)


WRITES = [
    "insert into warehouse.quickbooks_customers (firm_id, connection_id, external_id, active, raw) "
    "select firm_id, connection_id, 'x-' || external_id, true, raw from warehouse.quickbooks_customers",
    "update warehouse.quickbooks_customers set display_name = 'changed'",
    "delete from warehouse.quickbooks_customers",
    "truncate warehouse.quickbooks_customers",
    "create table warehouse.analyst_scratch (id int)",
]
APP_READS = [
    "select count(*) from app.clients",
    "select count(*) from app.connections",
    "select count(*) from app.sync_state",
    "select count(*) from app.analyst_logins",
    "select app.analyst_firm_id()",
    "select * from app.memberships_for_user(gen_random_uuid())",
]


def _refused(conn: psycopg.Connection, statement: str) -> bool:
    try:
        conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


def test_a_firm_analyst_sees_only_its_firm_even_when_it_sets_another(database_url, firms, analyst):
    with _login(database_url, analyst) as conn:
        assert conn.execute("show app.firm_id").fetchone()[0] == str(firms.alpha)
        # Live and soft-deleted rows alike, of its own firm only.
        assert _firm_counts(conn, firms) == {firms.alpha: firms.rows[firms.alpha]}
        # The setting is the analyst's to change; the binding in app.analyst_logins is not.
        conn.execute("select set_config('app.firm_id', %s, false)", (str(firms.beta),))
        assert _firm_counts(conn, firms) == {}
        conn.execute("reset app.firm_id")
        assert _firm_counts(conn, firms) == {firms.alpha: firms.rows[firms.alpha]}
        assert _refused(conn, f"set role {ANALYST_ALL_ROLE}")  # not a member of the platform-wide group
        # Nor can it rebind its login: PostgreSQL 15+ refuses a role's own custom settings, and where an older
        # server allows it, the lock (app.analyst_logins, owner-only) still decides.
        rebound = not _refused(conn, f"alter role {analyst} set app.firm_id = '{firms.beta}'")
    if rebound:
        with _login(database_url, analyst) as conn:
            assert _firm_counts(conn, firms) == {}


def test_a_firm_analyst_cannot_write_nor_read_app_tables(database_url, firms, analyst):
    with _login(database_url, analyst) as conn:
        for statement in WRITES + APP_READS:
            assert _refused(conn, statement), statement


def test_the_platform_analyst_sees_every_firm_and_cannot_write(database_url, firms, platform_analyst):
    with _login(database_url, platform_analyst) as conn:
        assert _firm_counts(conn, firms) == firms.rows
        conn.execute("select set_config('app.firm_id', %s, false)", (str(firms.beta),))
        assert _firm_counts(conn, firms) == firms.rows  # the setting does not narrow nor widen it
        for statement in WRITES + APP_READS:
            assert _refused(conn, statement), statement


def test_every_warehouse_table_is_exposed_to_both_analyst_groups(owner, settings):
    """The checklist for new warehouse tables: `secure_warehouse_table` (core_api/migration_helpers.py)."""
    with owner.connect() as conn:
        tables = conn.execute(
            text("select schemaname || '.' || tablename from pg_tables where schemaname = 'warehouse'")
        ).scalars()
        for table in tables:
            policies = dict(
                conn.execute(
                    text(
                        "select policyname, permissive from pg_policies "
                        "where schemaname || '.' || tablename = :t"
                    ),
                    {"t": table},
                ).all()
            )
            assert policies.get("analyst_firm_lock") == "RESTRICTIVE", table
            assert policies.get("analyst_all_read") == "PERMISSIVE", table
            for role in (ANALYST_ROLE, ANALYST_ALL_ROLE):
                privileges = set(
                    conn.execute(
                        text(
                            "select privilege_type from information_schema.role_table_grants "
                            "where grantee = :r and table_schema || '.' || table_name = :t"
                        ),
                        {"r": role, "t": table},
                    ).scalars()
                )
                assert privileges == {"SELECT"}, (table, role, privileges)
        # The API never holds an analyst group (the platform-wide one would lift tenancy for it).
        held = set(
            conn.execute(
                text(
                    "select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid "
                    "join pg_roles r on r.oid = m.member where r.rolname = any(:api)"
                ),
                {"api": [API_ROLE, settings.app_db_role]},
            ).scalars()
        )
        assert not held & {ANALYST_ROLE, ANALYST_ALL_ROLE}
        # And the analysts' groups can neither log in nor bypass row-level security.
        attributes = conn.execute(
            text(
                "select bool_or(rolcanlogin or rolbypassrls or rolsuper) from pg_roles "
                "where rolname = any(:r)"
            ),
            {"r": [ANALYST_ROLE, ANALYST_ALL_ROLE]},
        ).scalar()
        assert attributes is False


def test_the_manage_command_creates_and_drops_a_firm_analyst(database_url, firms, capsys):
    name = f"t_cli_{uuid.uuid4().hex[:10]}"
    main(["create-analyst", "--firm", str(firms.beta), "--name", name])
    out = capsys.readouterr().out
    password = out.split("password: ", 1)[1].split()[0]
    try:
        with _login(database_url, name, password) as conn:
            assert _firm_counts(conn, firms) == {firms.beta: firms.rows[firms.beta]}
        with pytest.raises(SystemExit, match="already exists"):
            main(["create-analyst", "--all", "--name", name])
    finally:
        main(["drop-analyst", "--name", name])
    with pytest.raises(psycopg.OperationalError):
        _login(database_url, name, password).close()
    with pytest.raises(SystemExit, match="no firm"):
        main(["create-analyst", "--firm", str(uuid.uuid4()), "--name", f"t_cli_{uuid.uuid4().hex[:10]}"])
    with pytest.raises(SystemExit, match="not an analyst"):
        main(["drop-analyst", "--name", API_ROLE])
    with pytest.raises(SystemExit, match="lowercase"):
        main(["create-analyst", "--all", "--name", "Robert'); drop table x;--"])
