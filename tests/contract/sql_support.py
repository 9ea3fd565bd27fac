"""SQL test databases: a migrated template per session, a fresh copy per repository.

PostgreSQL: the session migrates one template database; every ``stores()`` call clones it
with ``CREATE DATABASE ... TEMPLATE`` (milliseconds, no migration per test) and the clone
is dropped when the test ends. Names carry a per-run random prefix so parallel runs on one
server never collide. SQLite: the template is a migrated file that is copied.

An unreachable PostgreSQL goes through ``unavailable_service``: a failure under CI=true,
a loud skip elsewhere, never a silent pass.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import Engine, text

from axadapters.sql import SqlStores, open_sql_stores
from axadapters.sql.engine import create_sql_engine
from axdomain import Account, AccountKind, User
from tests.conftest import unavailable_service
from tests.contract.suite_identity import ALICE, BOB, SECOND

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DB_PREFIX = "axt_"
CONNECT_TIMEOUT_S = 3


def admin_url() -> str:
    return os.environ.get("AX_TEST_POSTGRES_URL") or DEFAULT_ADMIN_URL


def database_url(name: str) -> str:
    url = sqlalchemy.make_url(admin_url()).set(database=name)
    return url.render_as_string(hide_password=False)


class PostgresServer:
    """Admin connection that creates and drops this run's databases."""

    def __init__(self) -> None:
        self.run_prefix = f"{DB_PREFIX}{uuid.uuid4().hex[:10]}"
        self.template = f"{self.run_prefix}_tpl"
        self._admin = sqlalchemy.create_engine(
            admin_url(),
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
        )
        self._count = 0

    def check_reachable(self) -> None:
        try:
            with self._admin.connect() as connection:
                connection.execute(text("SELECT 1"))
        except sqlalchemy.exc.OperationalError as error:
            self._admin.dispose()
            unavailable_service("PostgreSQL", f"{admin_url()}: {error.orig}")

    def execute(self, sql: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(sql))

    def migrate_template(self) -> None:
        self.execute(f'CREATE DATABASE "{self.template}"')
        open_sql_stores(database_url(self.template)).close()

    def new_database(self) -> str:
        self._count += 1
        name = f"{self.run_prefix}_{self._count}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def new_empty_database(self) -> str:
        """A database with no schema at all (for migration tests from an old revision)."""
        self._count += 1
        name = f"{self.run_prefix}_{self._count}"
        self.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop(self, name: str) -> None:
        assert name.startswith(self.run_prefix), name  # never anyone else's database
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self.drop(self.template)
        self._admin.dispose()


class PostgresDatabases:
    """Per test: clone databases on demand, dispose engines and drop them all at the end."""

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self._names: list[str] = []
        self._engines: list[Engine] = []

    def new_url(self) -> str:
        name = self.server.new_database()
        self._names.append(name)
        return database_url(name)

    def engine(self, url: str) -> Engine:
        engine = create_sql_engine(url)
        self._engines.append(engine)
        return engine

    def new_empty_url(self) -> str:
        name = self.server.new_empty_database()
        self._names.append(name)
        return database_url(name)

    def stores(self) -> SqlStores:
        return SqlStores.on(self.engine(self.new_url()))

    def cleanup(self) -> None:
        for engine in self._engines:
            engine.dispose()
        for name in self._names:
            self.server.drop(name)


class SqliteDatabases:
    """Per test: copies of the migrated template file in the test's tmp_path."""

    def __init__(self, template: Path, folder: Path) -> None:
        self._template = template
        self._folder = folder
        self._engines: list[Engine] = []

    def new_url(self) -> str:
        path = self._folder / f"ax-{len(self._engines)}-{uuid.uuid4().hex[:6]}.db"
        shutil.copyfile(self._template, path)
        return f"sqlite:///{path}"

    def engine(self, url: str) -> Engine:
        engine = create_sql_engine(url)
        self._engines.append(engine)
        return engine

    def stores(self) -> SqlStores:
        return SqlStores.on(self.engine(self.new_url()))

    def cleanup(self) -> None:
        for engine in self._engines:
            engine.dispose()


SqlDatabases = PostgresDatabases | SqliteDatabases


class SqliteLeg:
    """Mixin for a contract subclass: ``self.sql.stores()`` is a fresh migrated SQLite file."""

    sql: SqlDatabases

    @pytest.fixture(autouse=True)
    def _sqlite_databases(self, sqlite_databases: SqliteDatabases) -> None:
        self.sql = sqlite_databases


@pytest.mark.postgres
class PostgresLeg:
    """Mixin for a contract subclass: ``self.sql.stores()`` is a fresh PostgreSQL database."""

    sql: SqlDatabases

    @pytest.fixture(autouse=True)
    def _postgres_databases(self, postgres_databases: PostgresDatabases) -> None:
        self.sql = postgres_databases


def seed_suite_users(stores: SqlStores) -> SqlStores:
    """The SQL schema enforces references the memory adapters do not: create the users the
    identity suite refers to (an account's UBO, a grant's or key's user) first."""
    stores.users.add_user(User(ALICE, "alice", 1))
    stores.users.add_user(User(BOB, "bob", 1))
    return stores


def seed_suite_accounts(stores: SqlStores) -> SqlStores:
    seed_suite_users(stores)
    for account_id, name in ((ALICE.as_default_account_id(), "alice-main"), (SECOND, "desk")):
        stores.accounts.add_account(Account(account_id, name, AccountKind.CUSTOMER, ALICE, 1))
    return stores


def sqlite_template(folder: Path) -> Path:
    path = folder / "template.db"
    open_sql_stores(f"sqlite:///{path}").close()
    return path


def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.check_reachable()
    server.migrate_template()
    try:
        yield server
    finally:
        server.close()
