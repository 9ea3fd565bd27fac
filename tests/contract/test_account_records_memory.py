"""The account-record contract suites against the memory adapters."""

from __future__ import annotations

from axadapters.memory.account_records import (
    MemoryBalances,
    MemoryDepositAddresses,
    MemoryLeaderboard,
    MemoryLossLimits,
    MemoryLtvMonitors,
)
from tests.contract.suite_account_records import (
    BalancesContract,
    DepositAddressesContract,
    LeaderboardContract,
    LossLimitsContract,
    LtvMonitorsContract,
)


class TestMemoryBalances(BalancesContract):
    def make_balances(self) -> MemoryBalances:
        return MemoryBalances()


class TestMemoryLossLimits(LossLimitsContract):
    def make_loss_limits(self) -> MemoryLossLimits:
        return MemoryLossLimits()


class TestMemoryLtvMonitors(LtvMonitorsContract):
    def make_ltv_monitors(self) -> MemoryLtvMonitors:
        return MemoryLtvMonitors()


class TestMemoryDepositAddresses(DepositAddressesContract):
    def make_deposit_addresses(self) -> MemoryDepositAddresses:
        return MemoryDepositAddresses()


class TestMemoryLeaderboard(LeaderboardContract):
    def make_leaderboard(self) -> MemoryLeaderboard:
        return MemoryLeaderboard()
