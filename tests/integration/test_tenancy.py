"""Two locks on tenancy: repositories filter by the token's firm, and Postgres RLS checks every row."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from core_api.db import app_engine
from tests.conftest import set_firm
from tests.integration.conftest import login


def test_another_firm_gets_404_for_every_client_id(api, admin_headers, other_firm):
    ids = [
        api.post("/api/v1/clients", json={"name": f"C{i}"}, headers=admin_headers).json()["id"]
        for i in range(3)
    ]
    intruder = login(api, other_firm)
    for client_id in ids:
        assert api.get(f"/api/v1/clients/{client_id}", headers=intruder).status_code == 404
        assert (
            api.patch(f"/api/v1/clients/{client_id}", json={"name": "pwned"}, headers=intruder).status_code
            == 404
        )
        assert api.delete(f"/api/v1/clients/{client_id}", headers=intruder).status_code == 404
    assert api.get("/api/v1/clients", headers=intruder).json()["total"] == 0
    assert all(
        api.get(f"/api/v1/clients/{i}", headers=admin_headers).json()["name"].startswith("C") for i in ids
    )


@pytest.mark.parametrize(
    "table",
    ["app.firms", "app.memberships", "app.clients", "app.connections", "warehouse.quickbooks_customers"],
)
def test_api_role_without_a_firm_sees_no_rows(owner_engine, database_url, table):
    firm_id = uuid.uuid4()
    with owner_engine.begin() as owner:
        owner.execute(
            text("insert into app.firms (id, name, slug) values (:id, 'RLS', :slug)"),
            {"id": firm_id, "slug": f"rls-{firm_id.hex[:10]}"},
        )
        owner.execute(
            text("insert into app.clients (id, firm_id, name) values (gen_random_uuid(), :f, 'x')"),
            {"f": firm_id},
        )
    try:
        with app_engine().connect() as conn:
            assert conn.execute(text("select current_user")).scalar() != "postgres"
            assert conn.execute(text(f"select count(*) from {table}")).scalar() == 0
            set_firm(conn, firm_id)
            if table in ("app.firms", "app.clients"):
                assert conn.execute(text(f"select count(*) from {table}")).scalar() == 1
            conn.rollback()
    finally:
        with owner_engine.begin() as owner:
            owner.execute(text("delete from app.firms where id = :id"), {"id": firm_id})


def test_rls_rejects_writing_a_row_for_another_firm(app_connection, firm_admin, other_firm):
    set_firm(app_connection, firm_admin.firm_id)
    with pytest.raises(Exception, match="row-level security"), app_connection.begin_nested():
        app_connection.execute(
            text("insert into app.clients (id, firm_id, name) values (gen_random_uuid(), :f, 'smuggled')"),
            {"f": other_firm.firm_id},
        )


def test_api_role_does_not_own_the_tables(database_url):
    with app_engine().connect() as conn:
        role = conn.execute(text("select current_user")).scalar()
        owners = (
            conn.execute(
                text("select distinct tableowner from pg_tables where schemaname in ('app', 'warehouse')")
            )
            .scalars()
            .all()
        )
        bypass = conn.execute(
            text("select rolbypassrls or rolsuper from pg_roles where rolname = current_user")
        ).scalar()
    assert role not in owners
    assert bypass is False


def test_every_firm_scoped_table_has_a_forced_tenant_policy(owner_engine):
    from core_api.models import FIRM_SCOPED_TABLES, Base

    with owner_engine.connect() as conn:
        rows = conn.execute(
            text(
                "select n.nspname || '.' || c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "exists (select 1 from pg_policies p "
                "        where p.schemaname = n.nspname and p.tablename = c.relname) "
                "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "where n.nspname in ('app', 'warehouse') and c.relkind = 'r'"
            )
        ).all()
    secured = {name for name, enabled, forced, has_policy in rows if enabled and forced and has_policy}
    assert secured == set(FIRM_SCOPED_TABLES)
    # …and the list is complete: every mapped table with a firm_id column is on it.
    with_firm = {t.fullname for t in Base.metadata.sorted_tables if "firm_id" in t.c or t.name == "firms"}
    assert with_firm == set(FIRM_SCOPED_TABLES)
