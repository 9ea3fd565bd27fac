"""A scratch PostgreSQL database for one benchmark run: created, migrated, always dropped."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import sqlalchemy
from sqlalchemy import text

from axadapters.sql import SqlStores, open_sql_stores

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def scratch_stores(admin_url: str, prefix: str) -> Iterator[tuple[SqlStores, str]]:
    """Migrated stores over a new database, and its libpq URL (for raw psycopg floors)."""
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = sqlalchemy.make_url(admin_url).set(database=name)
    stores = open_sql_stores(url.render_as_string(hide_password=False))
    try:
        yield stores, url.set(drivername="postgresql").render_as_string(hide_password=False)
    finally:
        stores.close()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def server_version(stores: SqlStores) -> str:
    with stores.engine.connect() as connection:
        return str(connection.execute(text("SHOW server_version")).scalar_one())
