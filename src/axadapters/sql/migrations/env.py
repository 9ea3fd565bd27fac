"""Alembic environment: always online, on the connection ``migrate.upgrade`` hands in.

There is no alembic.ini and no URL here: the caller owns the engine, so the same code
migrates the embedded SQLite file and a PostgreSQL server.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from axadapters.sql.schema import metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    assert isinstance(connection, Connection), "run through axadapters.sql.migrate.upgrade"
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


assert not context.is_offline_mode(), "offline (SQL script) mode is not supported"
run_migrations_online()
