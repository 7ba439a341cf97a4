"""Engines and transactional sessions.

Two engines on purpose: the owner engine (migrations, pipelines' cross-tenant scans) and the app engine,
which logs in as a role that does not own the tables, so FORCE row-level security always applies.
Every tenant transaction sets `app.firm_id` with SET LOCAL, so it cannot leak to the next checkout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import sqlalchemy
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from core_api import change_capture  # noqa: F401 - registers the audit/outbox flush listener
from core_api.settings import Settings, get_settings
from core_api.tenancy import TenantContext


def normalise_url(url: str) -> URL:
    """Accept postgres:// and postgresql:// and always drive psycopg 3."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+psycopg")


def owner_url(settings: Settings) -> URL:
    if settings.database_url is None:
        raise RuntimeError("DATABASE_URL is unset: start the embedded server first (core_api.embedded_db)")
    return normalise_url(settings.database_url)


def app_url(settings: Settings) -> URL:
    return owner_url(settings).set(
        username=settings.app_db_role, password=settings.app_db_password.get_secret_value()
    )


def _engine(url: URL, **kwargs) -> Engine:
    # Called through the module, so OpenTelemetry's SQLAlchemy instrumentation (which wraps
    # sqlalchemy.create_engine) traces engines built after tracing starts (core_api/telemetry.py).
    return sqlalchemy.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)


@lru_cache
def owner_engine() -> Engine:
    return _engine(owner_url(get_settings()))


@lru_cache
def app_engine() -> Engine:
    return _engine(app_url(get_settings()))


_SET_FIRM = text("select set_config('app.firm_id', :firm, true)")


def bind_tenant(session: Session, tenant: TenantContext) -> Session:
    """Scope every transaction this session begins to the tenant's firm.

    set_config(..., true) is SET LOCAL: it ends with the transaction, so the firm is set again on each
    begin (after a commit too) and can never leak to the pooled connection's next user.
    """
    session.info["tenant"] = tenant
    if session.in_transaction():  # bound mid-transaction (sign-up, invitation acceptance): set it now too
        session.execute(_SET_FIRM, {"firm": str(tenant.firm_id)})

    @event.listens_for(session, "after_begin")
    def _set_firm(_session: Session, _tx, connection) -> None:
        connection.execute(_SET_FIRM, {"firm": str(tenant.firm_id)})

    return session


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine or app_engine(), expire_on_commit=False)


@contextmanager
def tenant_session(tenant: TenantContext, factory: sessionmaker[Session] | None = None) -> Iterator[Session]:
    """One transaction for one firm: commits on success, rolls back on any error."""
    with (factory or session_factory())() as session:
        bind_tenant(session, tenant)
        with session.begin():
            yield session


@contextmanager
def system_session(engine: Engine | None = None) -> Iterator[Session]:
    """Owner-role transaction for cross-tenant work (sensors, partition sync). Never used by routers."""
    with session_factory(engine or owner_engine())() as session, session.begin():
        yield session
