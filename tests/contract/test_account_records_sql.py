"""The account-record contract suites against SQLite and real PostgreSQL."""

from __future__ import annotations

from axadapters.sql.account_records import (
    SqlBalances,
    SqlDepositAddresses,
    SqlLeaderboard,
    SqlLossLimits,
    SqlLtvMonitors,
)
from tests.contract.sql_support import PostgresLeg, SqlDatabases, SqliteLeg
from tests.contract.suite_account_records import (
    BalancesContract,
    DepositAddressesContract,
    LeaderboardContract,
    LossLimitsContract,
    LtvMonitorsContract,
)


class SqlAccountRecords:
    sql: SqlDatabases

    def make_balances(self) -> SqlBalances:
        return self.sql.stores().balances

    def make_loss_limits(self) -> SqlLossLimits:
        return self.sql.stores().loss_limits

    def make_ltv_monitors(self) -> SqlLtvMonitors:
        return self.sql.stores().ltv_monitors

    def make_deposit_addresses(self) -> SqlDepositAddresses:
        return self.sql.stores().deposit_addresses

    def make_leaderboard(self) -> SqlLeaderboard:
        return self.sql.stores().leaderboard


class TestSqliteBalances(SqliteLeg, SqlAccountRecords, BalancesContract):
    pass


class TestSqliteLossLimits(SqliteLeg, SqlAccountRecords, LossLimitsContract):
    pass


class TestSqliteLtvMonitors(SqliteLeg, SqlAccountRecords, LtvMonitorsContract):
    pass


class TestSqliteDepositAddresses(SqliteLeg, SqlAccountRecords, DepositAddressesContract):
    pass


class TestSqliteLeaderboard(SqliteLeg, SqlAccountRecords, LeaderboardContract):
    pass


class TestPostgresBalances(PostgresLeg, SqlAccountRecords, BalancesContract):
    pass


class TestPostgresLossLimits(PostgresLeg, SqlAccountRecords, LossLimitsContract):
    pass


class TestPostgresLtvMonitors(PostgresLeg, SqlAccountRecords, LtvMonitorsContract):
    pass


class TestPostgresDepositAddresses(PostgresLeg, SqlAccountRecords, DepositAddressesContract):
    pass


class TestPostgresLeaderboard(PostgresLeg, SqlAccountRecords, LeaderboardContract):
    pass
