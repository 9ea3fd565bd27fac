"""The unit-of-work contract (and the request-side and projection stores it spans) on the
memory adapters, SQLite and real PostgreSQL."""

from __future__ import annotations

from axapp.runtime import stores_over
from axapp.stores import Stores, memory_stores
from tests.contract.sql_support import PostgresLeg, SqlDatabases, SqliteLeg, seed_suite_accounts
from tests.contract.suite_unit_of_work import UnitOfWorkContract


class TestMemoryUnitOfWork(UnitOfWorkContract):
    def make_stores(self) -> Stores:
        return memory_stores()


class SqlMaker:
    sql: SqlDatabases

    def make_stores(self) -> Stores:
        return stores_over(seed_suite_accounts(self.sql.stores()))


class TestSqliteUnitOfWork(SqliteLeg, SqlMaker, UnitOfWorkContract):
    pass


class TestPostgresUnitOfWork(PostgresLeg, SqlMaker, UnitOfWorkContract):
    pass
