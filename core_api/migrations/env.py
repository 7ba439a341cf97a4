"""Alembic environment: runs on the owner connection handed over by core_api.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from core_api.models import Base

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


def _include(obj, name, type_, reflected, compare_to) -> bool:
    # Tables that exist only in migrations (e.g. app.analyst_logins, owner-only) are not drift.
    return not (type_ == "table" and reflected and compare_to is None)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=_include,
        include_schemas=True,
        version_table_schema="app",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `python -m core_api.manage migrate`")
run_migrations_online()
