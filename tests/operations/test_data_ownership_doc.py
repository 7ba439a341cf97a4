"""docs/data-ownership.md names every table of the migrated schema and every core_api module."""

from __future__ import annotations

import re
from itertools import product
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs/data-ownership.md").read_text()


def _expand(name: str) -> list[str]:
    """`warehouse.xero_{contacts,invoices}` → both names (the doc's shorthand)."""
    parts = re.split(r"\{([^}]*)\}", name)
    choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    return ["".join(combo) for combo in product(*choices)]


def _documented_tables() -> set[str]:
    names = re.findall(r"`((?:app|warehouse)\.[a-z_{},]+)`", DOC)
    return {expanded for name in names for expanded in _expand(name)}


def test_every_table_is_documented(database_url):
    with psycopg.connect(database_url) as conn:
        tables = {
            f"{schema}.{name}"
            for schema, name in conn.execute(
                "select schemaname, tablename from pg_tables where schemaname in ('app', 'warehouse')"
            )
        }
    assert tables, "the migrated schema has no tables?"
    missing = sorted(tables - _documented_tables())
    assert not missing, f"add these tables to docs/data-ownership.md: {missing}"


def test_every_core_api_module_has_an_owner_row():
    packages = {p.parent.name for p in (ROOT / "core_api").glob("*/__init__.py")}
    rows = set(re.findall(r"^\| `core_api\.([a-z_]+)`", DOC, flags=re.MULTILINE))
    rows |= {m for m in re.findall(r"`core_api\.([a-z_]+)`", DOC)}
    missing = sorted(packages - rows)
    assert not missing, f"add an ownership row for core_api modules: {missing}"
