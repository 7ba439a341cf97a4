"""Database roles and Alembic migrations, run with the owner connection.

`ensure_roles` creates the API's login role (settings.app_db_role) and makes it a member of the
`firmsync_api` group that the migrations grant to. The login role never owns a table, so FORCE
row-level security always applies to it.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy import Engine, create_engine, pool, text

from core_api.db import normalise_url
from core_api.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
API_GROUP_ROLE = "firmsync_api"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # configparser treats % as interpolation; socket paths arrive percent-encoded.
    rendered = normalise_url(url).render_as_string(hide_password=False)
    cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return cfg


def ensure_roles(engine: Engine, settings: Settings) -> None:
    role = settings.app_db_role
    password = settings.app_db_password.get_secret_value()
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        exists = conn.execute(
            text("select 1 from pg_roles where rolname = :r"), {"r": API_GROUP_ROLE}
        ).first()
        if not exists:
            conn.execute(text(f"create role {API_GROUP_ROLE} nologin"))
        exists = conn.execute(text("select 1 from pg_roles where rolname = :r"), {"r": role}).first()
        verb = "alter" if exists else "create"
        stmt = sql.SQL("{} role {} login nosuperuser nobypassrls password {}").format(
            sql.SQL(verb), sql.Identifier(role), sql.Literal(password)
        )
        conn.exec_driver_sql(stmt.as_string(raw))
        conn.exec_driver_sql(
            sql.SQL("grant {} to {}")
            .format(sql.Identifier(API_GROUP_ROLE), sql.Identifier(role))
            .as_string(raw)
        )


def upgrade(url: str, settings: Settings) -> None:
    engine = create_engine(normalise_url(url), poolclass=pool.NullPool)
    try:
        ensure_roles(engine, settings)
        cfg = alembic_config(url)
        with engine.begin() as conn:
            # alembic_version lives in the app schema, so the schema must exist before Alembic looks.
            conn.execute(text("create schema if not exists app"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
    finally:
        engine.dispose()


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config("postgresql://unused/unused")).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        has_table = conn.execute(text("select to_regclass('app.alembic_version')")).scalar()
        if has_table is None:
            return set()
        return set(MigrationContext.configure(conn, opts={"version_table_schema": "app"}).get_current_heads())
