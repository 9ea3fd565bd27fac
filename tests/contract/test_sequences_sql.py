"""The sequences contract suite against SQLite and real PostgreSQL."""

from __future__ import annotations

from axadapters.sql.sequences import SqlSequences
from tests.contract.sql_support import PostgresLeg, SqlDatabases, SqliteLeg
from tests.contract.suite_sequences import SequencesContract


class SqlSequencesMaker:
    sql: SqlDatabases

    def make_sequences(self) -> SqlSequences:
        return self.sql.stores().sequences


class TestSqliteSequences(SqliteLeg, SqlSequencesMaker, SequencesContract):
    pass


class TestPostgresSequences(PostgresLeg, SqlSequencesMaker, SequencesContract):
    pass
