"""The products contract suite against SQLite and real PostgreSQL."""

from __future__ import annotations

from axadapters.sql.products import SqlProducts
from tests.contract.sql_support import PostgresLeg, SqlDatabases, SqliteLeg
from tests.contract.suite_products import ProductsContract


class SqlProductsMaker:
    sql: SqlDatabases

    def make_products(self) -> SqlProducts:
        return self.sql.stores().products


class TestSqliteProducts(SqliteLeg, SqlProductsMaker, ProductsContract):
    pass


class TestPostgresProducts(PostgresLeg, SqlProductsMaker, ProductsContract):
    pass
