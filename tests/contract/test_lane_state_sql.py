"""The lane state contract suite against SQLite and real PostgreSQL."""

from __future__ import annotations

from axadapters.lane_state.sql import SqlLaneStateStore
from axdomain.venues import LaneStateStore
from tests.contract.sql_support import PostgresLeg, SqlDatabases, SqliteLeg
from tests.contract.suite_lane_state import LaneStateContract


class SqlLaneStateMaker:
    sql: SqlDatabases

    def make_store(self) -> LaneStateStore:
        return SqlLaneStateStore(self.sql.engine(self.sql.new_url()))


class TestSqliteLaneState(SqliteLeg, SqlLaneStateMaker, LaneStateContract):
    pass


class TestPostgresLaneState(PostgresLeg, SqlLaneStateMaker, LaneStateContract):
    pass
