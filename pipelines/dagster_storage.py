"""Dagster's PostgreSQL event log, with a connection pool (dagster.yaml `event_log_storage`).

dagster-postgres opens a new PostgreSQL connection for every event it stores (NullPool), so a run that
records thousands of events — a sweep's materialization and check evaluation per connection — spends
most of its time, and the server's CPU, starting backends. This keeps a small pool per process instead
(pre-pinged, recycled), which every run, sensor and the webserver share. See ADR 0010.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy.pool as db_pool
from dagster import Field, IntSource
from dagster._core.storage.config import pg_config
from dagster._serdes import ConfigurableClassData
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config

DEFAULT_POOL_SIZE = 2
DEFAULT_MAX_OVERFLOW = 8
POOL_RECYCLE_SECONDS = 1800


class PooledPostgresEventLogStorage(PostgresEventLogStorage):
    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
        token_provider: Any = None,
        pool_size: int = DEFAULT_POOL_SIZE,
        max_overflow: int = DEFAULT_MAX_OVERFLOW,
    ) -> None:
        super().__init__(postgres_url, should_autocreate_tables, inst_data, token_provider)
        self.pool_size, self.max_overflow = pool_size, max_overflow
        self._engine.dispose()
        self._engine = create_pg_engine(
            self.postgres_url,
            self._token_provider,
            isolation_level="AUTOCOMMIT",
            poolclass=db_pool.QueuePool,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_pre_ping=True,  # a restarted server costs one failed ping, not a failed run
            pool_recycle=POOL_RECYCLE_SECONDS,
        )

    @classmethod
    def config_type(cls):
        return {
            **pg_config(),
            "pool_size": Field(IntSource, is_required=False, default_value=DEFAULT_POOL_SIZE),
            "max_overflow": Field(IntSource, is_required=False, default_value=DEFAULT_MAX_OVERFLOW),
        }

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> PooledPostgresEventLogStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
            pool_size=config_value.get("pool_size", DEFAULT_POOL_SIZE),
            max_overflow=config_value.get("max_overflow", DEFAULT_MAX_OVERFLOW),
        )

    def dispose(self) -> None:
        super().dispose()
        self._engine.dispose()  # pooled connections end with the instance, not with the process
