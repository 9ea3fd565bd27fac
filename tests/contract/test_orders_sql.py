"""The orders contract suite against SQLite and real PostgreSQL."""

from __future__ import annotations

from axadapters.sql.orders import SqlOrders
from tests.contract.sql_support import PostgresLeg, SqlDatabases, SqliteLeg
from tests.contract.suite_orders import OrdersContract


class SqlOrdersMaker:
    sql: SqlDatabases

    def make_orders(self) -> SqlOrders:
        return self.sql.stores().orders


class TestSqliteOrders(SqliteLeg, SqlOrdersMaker, OrdersContract):
    pass


class TestPostgresOrders(PostgresLeg, SqlOrdersMaker, OrdersContract):
    pass
