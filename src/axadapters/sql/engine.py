"""Engines for the two supported databases, configured the way the repositories assume.

PostgreSQL goes through psycopg 3. SQLite (the embedded default) gets foreign keys on, WAL,
a busy timeout, and ``BEGIN IMMEDIATE`` for every transaction: SQLite upgrades a read lock to
a write lock by failing with SQLITE_BUSY instead of waiting, so a transaction that reads
then writes (sequence allocation, account update) must take the write lock up front.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from axdomain.errors import InvalidValue

SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_POOL_SIZE = 10


def normalize_url(url: str) -> str:
    """Accept ``postgres://``/``postgresql://`` and pin the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.get_backend_name() in ("postgres", "postgresql"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if parsed.get_backend_name() == "sqlite":
        return url
    raise InvalidValue("database_url", parsed.render_as_string(), "must be sqlite or postgresql")


def create_sql_engine(url: str) -> Engine:
    normalized = normalize_url(url)
    if normalized.startswith("sqlite"):
        return _sqlite_engine(normalized)
    return create_engine(normalized, pool_size=POSTGRES_POOL_SIZE, pool_pre_ping=True)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN instead of the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if ":memory:" not in url and url != "sqlite://":
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
