"""Contract suites of the account-keyed money records (balances, limits, addresses, ranks).

Each suite's ``make_*`` returns a fresh, empty repository. Every row is keyed by
``account_id`` (never a user id): two accounts of one user never share a row.
"""

from __future__ import annotations

import pytest

from axdomain.account_records import (
    I64_MAX,
    I64_MIN,
    I128_MAX,
    I128_MIN,
    MAX_TOP_N,
    BalanceRepository,
    CurrentBalance,
    DepositAddress,
    DepositAddressRepository,
    LeaderboardEntry,
    LeaderboardRepository,
    LossLimitRepository,
    LtvMonitor,
    LtvMonitorRepository,
    MonthlyLossLimit,
)
from axdomain.errors import Conflict, DomainError, InvalidValue
from axdomain.ids import AccountId, UserId

ALICE = UserId(0x0190_0000_0000_0001)
MAIN = ALICE.as_default_account_id()
DESK = AccountId(0x0190_0000_0000_00A0)
OTHER = AccountId(0x0190_0000_0000_00B0)
T0 = 1_750_000_000_000_000_000


class BalancesContract:
    def make_balances(self) -> BalanceRepository:
        raise NotImplementedError

    def test_put_get_and_replace_per_account(self) -> None:
        balances = self.make_balances()
        assert balances.get_balance(MAIN) is None
        balances.put_balance(CurrentBalance(MAIN, 5_000_000, T0))
        balances.put_balance(CurrentBalance(DESK, -7, T0))
        balances.put_balance(CurrentBalance(MAIN, 6_000_000, T0 + 1))
        assert balances.get_balance(MAIN) == CurrentBalance(MAIN, 6_000_000, T0 + 1)
        assert balances.get_balance(DESK) == CurrentBalance(DESK, -7, T0)
        assert balances.get_balance(OTHER) is None

    @pytest.mark.parametrize("amount", [I128_MAX, I128_MIN, (1 << 64) + 1, -(1 << 70) - 3])
    def test_128_bit_balances_keep_every_digit(self, amount: int) -> None:
        balances = self.make_balances()
        balances.put_balance(CurrentBalance(DESK, amount, T0))
        stored = balances.get_balance(DESK)
        assert stored is not None
        assert stored.balance_micro_usd == amount
        assert type(stored.balance_micro_usd) is int

    def test_balance_outside_128_bits_is_rejected(self) -> None:
        with pytest.raises(InvalidValue) as caught:
            CurrentBalance(DESK, I128_MAX + 1, T0)
        assert caught.value.field == "balance_micro_usd"


class LossLimitsContract:
    def make_loss_limits(self) -> LossLimitRepository:
        raise NotImplementedError

    def test_put_get_and_replace_per_account(self) -> None:
        limits = self.make_loss_limits()
        assert limits.get_loss_limit(DESK) is None
        limits.put_loss_limit(MonthlyLossLimit(DESK, 10**9, T0))
        limits.put_loss_limit(MonthlyLossLimit(MAIN, I64_MAX, T0))
        limits.put_loss_limit(MonthlyLossLimit(DESK, 0, T0 + 5))
        assert limits.get_loss_limit(DESK) == MonthlyLossLimit(DESK, 0, T0 + 5)
        assert limits.get_loss_limit(MAIN) == MonthlyLossLimit(MAIN, I64_MAX, T0)


class LtvMonitorsContract:
    def make_ltv_monitors(self) -> LtvMonitorRepository:
        raise NotImplementedError

    def test_put_get_and_replace_per_account(self) -> None:
        monitors = self.make_ltv_monitors()
        assert monitors.get_ltv_monitor(DESK) is None
        monitors.put_ltv_monitor(LtvMonitor(DESK, 7_000, 8_500, T0))
        monitors.put_ltv_monitor(LtvMonitor(DESK, 6_000, 9_000, T0 + 1))
        assert monitors.get_ltv_monitor(DESK) == LtvMonitor(DESK, 6_000, 9_000, T0 + 1)
        assert monitors.get_ltv_monitor(MAIN) is None

    def test_liquidation_below_margin_call_is_rejected(self) -> None:
        with pytest.raises(InvalidValue) as caught:
            LtvMonitor(DESK, 8_000, 7_000, T0)
        assert caught.value.field == "liquidation_ltv_bps"


class DepositAddressesContract:
    def make_deposit_addresses(self) -> DepositAddressRepository:
        raise NotImplementedError

    def test_keyed_by_account_chain_and_asset(self) -> None:
        addresses = self.make_deposit_addresses()
        usdc_eth = DepositAddress(MAIN, "ethereum", "USDC", "0xaaa", T0)
        usdt_eth = DepositAddress(MAIN, "ethereum", "USDT", "0xbbb", T0)
        usdc_sol = DepositAddress(MAIN, "solana", "USDC", "So1aaa", T0)
        desk_usdc = DepositAddress(DESK, "ethereum", "USDC", "0xccc", T0)
        for address in (usdc_sol, usdt_eth, desk_usdc, usdc_eth):
            addresses.add_address(address)
        assert addresses.get_address(MAIN, "ethereum", "USDC") == usdc_eth
        assert addresses.get_address(DESK, "ethereum", "USDC") == desk_usdc
        assert addresses.get_address(OTHER, "ethereum", "USDC") is None
        assert list(addresses.addresses_for_account(MAIN)) == [usdc_eth, usdt_eth, usdc_sol]
        assert list(addresses.addresses_for_account(OTHER)) == []

    def test_second_address_for_one_key_is_a_conflict(self) -> None:
        addresses = self.make_deposit_addresses()
        first = DepositAddress(DESK, "ethereum", "USDC", "0xaaa", T0)
        addresses.add_address(first)
        with pytest.raises(Conflict) as caught:
            addresses.add_address(DepositAddress(DESK, "ethereum", "USDC", "0xddd", T0))
        assert caught.value.field == "deposit_address"
        assert list(addresses.addresses_for_account(DESK)) == [first]

    def test_one_address_never_funds_two_accounts(self) -> None:
        addresses = self.make_deposit_addresses()
        addresses.add_address(DepositAddress(DESK, "ethereum", "USDC", "0xaaa", T0))
        with pytest.raises(Conflict) as caught:
            addresses.add_address(DepositAddress(MAIN, "ethereum", "USDT", "0xaaa", T0))
        assert (caught.value.field, caught.value.value) == ("address", "0xaaa")
        assert addresses.get_address(MAIN, "ethereum", "USDT") is None


class LeaderboardContract:
    def make_leaderboard(self) -> LeaderboardRepository:
        raise NotImplementedError

    def test_top_orders_by_score_then_account(self) -> None:
        board = self.make_leaderboard()
        rows = [
            LeaderboardEntry("pnl", "daily", T0, MAIN, 50),
            LeaderboardEntry("pnl", "daily", T0, DESK, 90),
            LeaderboardEntry("pnl", "daily", T0, OTHER, 50),
            LeaderboardEntry("pnl", "daily", T0 + 1, OTHER, 1_000),  # another period
            LeaderboardEntry("volume", "daily", T0, MAIN, 10**12),  # another metric
        ]
        for row in rows:
            board.put_entry(row)
        assert list(board.top("pnl", "daily", T0, 10)) == [rows[1], rows[0], rows[2]]
        assert list(board.top("pnl", "daily", T0, 2)) == [rows[1], rows[0]]
        assert list(board.top("pnl", "weekly", T0, 10)) == []

    def test_put_replaces_an_accounts_row_and_negative_scores_rank_last(self) -> None:
        board = self.make_leaderboard()
        board.put_entry(LeaderboardEntry("pnl", "daily", T0, MAIN, 5))
        board.put_entry(LeaderboardEntry("pnl", "daily", T0, DESK, I64_MIN))
        board.put_entry(LeaderboardEntry("pnl", "daily", T0, MAIN, -3))
        assert list(board.top("pnl", "daily", T0, 5)) == [
            LeaderboardEntry("pnl", "daily", T0, MAIN, -3),
            LeaderboardEntry("pnl", "daily", T0, DESK, I64_MIN),
        ]

    @pytest.mark.parametrize("limit", [0, -1, MAX_TOP_N + 1, True])
    def test_bad_limit_is_a_typed_error(self, limit: object) -> None:
        board = self.make_leaderboard()
        with pytest.raises(DomainError) as caught:
            board.top("pnl", "daily", T0, limit)  # type: ignore[arg-type]
        assert caught.value.field == "limit"
