"""Memory adapters for the account-keyed money records (balances, limits, addresses, ranks)."""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from axdomain.account_records import (
    CurrentBalance,
    DepositAddress,
    LeaderboardEntry,
    LtvMonitor,
    MonthlyLossLimit,
    check_top_limit,
)
from axdomain.errors import Conflict
from axdomain.ids import AccountId


class MemoryBalances:
    def __init__(self) -> None:
        self._rows: dict[AccountId, CurrentBalance] = {}

    def put_balance(self, balance: CurrentBalance) -> None:
        self._rows[balance.account_id] = balance

    def get_balance(self, account_id: AccountId) -> CurrentBalance | None:
        return self._rows.get(account_id)


class MemoryLossLimits:
    def __init__(self) -> None:
        self._rows: dict[AccountId, MonthlyLossLimit] = {}

    def put_loss_limit(self, limit: MonthlyLossLimit) -> None:
        self._rows[limit.account_id] = limit

    def get_loss_limit(self, account_id: AccountId) -> MonthlyLossLimit | None:
        return self._rows.get(account_id)


class MemoryLtvMonitors:
    def __init__(self) -> None:
        self._rows: dict[AccountId, LtvMonitor] = {}

    def put_ltv_monitor(self, monitor: LtvMonitor) -> None:
        self._rows[monitor.account_id] = monitor

    def get_ltv_monitor(self, account_id: AccountId) -> LtvMonitor | None:
        return self._rows.get(account_id)


class MemoryDepositAddresses:
    def __init__(self) -> None:
        self._rows: dict[tuple[AccountId, str, str], DepositAddress] = {}
        self._taken: set[tuple[str, str]] = set()  # (blockchain, address): unique index
        self._by_account: dict[AccountId, list[DepositAddress]] = {}

    def add_address(self, address: DepositAddress) -> None:
        key = (address.account_id, address.blockchain, address.asset)
        if key in self._rows:
            raise Conflict("deposit_address", f"{key[0]}/{key[1]}/{key[2]}", "already exists")
        if (address.blockchain, address.address) in self._taken:
            raise Conflict("address", address.address, "already funds another account")
        self._rows[key] = address
        self._taken.add((address.blockchain, address.address))
        self._by_account.setdefault(address.account_id, []).append(address)

    def get_address(
        self, account_id: AccountId, blockchain: str, asset: str
    ) -> DepositAddress | None:
        return self._rows.get((account_id, blockchain, asset))

    def addresses_for_account(self, account_id: AccountId) -> Sequence[DepositAddress]:
        mine = self._by_account.get(account_id, [])
        return sorted(mine, key=lambda row: (row.blockchain, row.asset))


class MemoryLeaderboard:
    def __init__(self) -> None:
        # Per (metric, cadence, period): one board, so ``top`` reads only its own period.
        self._boards: dict[tuple[str, str, int], dict[AccountId, LeaderboardEntry]] = {}

    def put_entry(self, entry: LeaderboardEntry) -> None:
        board = self._boards.setdefault((entry.metric, entry.cadence, entry.period_start_ns), {})
        board[entry.account_id] = entry

    def top(
        self, metric: str, cadence: str, period_start_ns: int, limit: int
    ) -> Sequence[LeaderboardEntry]:
        count = check_top_limit(limit)
        period = self._boards.get((metric, cadence, period_start_ns), {}).values()
        return heapq.nsmallest(count, period, key=lambda row: (-row.score, row.account_id))
