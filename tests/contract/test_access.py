"""The access-read and read-only-unit contract on the memory adapters, SQLite and real
PostgreSQL."""

from __future__ import annotations

from axapp.runtime import stores_over
from axapp.stores import Stores, memory_stores
from tests.contract.sql_support import PostgresLeg, SqlDatabases, SqliteLeg
from tests.contract.suite_access import AccessContract


class TestMemoryAccess(AccessContract):
    def make_stores(self) -> Stores:
        return memory_stores()


class SqlMaker:
    sql: SqlDatabases

    def make_stores(self) -> Stores:
        return stores_over(self.sql.stores())


class TestSqliteAccess(SqliteLeg, SqlMaker, AccessContract):
    pass


class TestPostgresAccess(PostgresLeg, SqlMaker, AccessContract):
    pass
