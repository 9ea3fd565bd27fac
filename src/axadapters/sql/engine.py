"""Engines for the two supported databases, configured the way the repositories assume.

PostgreSQL goes through psycopg 3. SQLite (the embedded default) gets foreign keys on, WAL,
a busy timeout, and ``BEGIN IMMEDIATE`` for every transaction: SQLite upgrades a read lock to
a write lock by failing with SQLITE_BUSY instead of waiting, so a transaction that reads
then writes (sequence allocation, account update) must take the write lock up front.

PostgreSQL connections are pinged on checkout only after they sat idle in the pool for
``PING_AFTER_IDLE_S``: a ping on every checkout (``pool_pre_ping``) costs a round trip per
request, while a connection that served a request a moment ago is alive or, when the server
just went away, fails its next statement as ``Unavailable`` and is invalidated (SQLAlchemy
invalidates the whole pool on such an error; the driver-level statements of ``driver_execute``
invalidate their own connection), so later requests reconnect.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

from axdomain.errors import InvalidValue

SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_POOL_SIZE = 10
PING_AFTER_IDLE_S = 1.0


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
    engine = create_engine(normalized, pool_size=POSTGRES_POOL_SIZE)
    _ping_after_idle(engine)
    return engine


def _ping_after_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        # One round trip: autocommit, so the ping opens no transaction to roll back.
        autocommit = dbapi_connection.autocommit
        try:
            dbapi_connection.autocommit = True
            dbapi_connection.execute("SELECT 1")
            dbapi_connection.autocommit = autocommit
        except Exception as error:
            raise DisconnectionError(str(error)) from error  # the pool reconnects


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
