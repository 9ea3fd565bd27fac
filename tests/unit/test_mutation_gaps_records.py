"""Account records and the permission backfill, at the unit level.

Both are exercised against real stores by the contract suites; these tests pin the pure
rules (every bound, every field named on rejection, the backfill's choice of accounts) so a
mutation run over the fast suites sees them too.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from axadapters.memory.identity import MemoryAccounts, MemoryGrants
from axdomain import (
    SYSTEM_ACCOUNTS,
    Account,
    AccountId,
    AccountKind,
    Grant,
    InvalidValue,
    Permissions,
    UserId,
)
from axdomain.account_records import (
    CurrentBalance,
    DepositAddress,
    LeaderboardEntry,
    LtvMonitor,
    MonthlyLossLimit,
    check_top_limit,
)
from axdomain.backfill import BackfillReport, backfill_permissions, plan_permission_backfill

DESK = AccountId(0x0190_0000_0000_00D0)
I64_MAX = (1 << 63) - 1
I128_MAX = (1 << 127) - 1


def test_records_accept_their_bounds() -> None:
    assert CurrentBalance(DESK, -(1 << 127), I64_MAX).balance_micro_usd == -(1 << 127)
    assert CurrentBalance(DESK, I128_MAX, 0).balance_micro_usd == I128_MAX
    assert MonthlyLossLimit(DESK, I64_MAX, 0).limit_micro_usd == I64_MAX
    monitor = LtvMonitor(DESK, 1, 1_000_000, 0)
    assert (monitor.margin_call_ltv_bps, monitor.liquidation_ltv_bps) == (1, 1_000_000)
    assert LtvMonitor(DESK, 7, 7, 0).liquidation_ltv_bps == 7
    address = DepositAddress(DESK, "c" * 32, "a" * 32, "x" * 128, 0)
    assert (len(address.blockchain), len(address.asset), len(address.address)) == (32, 32, 128)
    entry = LeaderboardEntry("m" * 64, "c" * 64, 0, DESK, -(1 << 63))
    assert entry.score == -(1 << 63)
    assert LeaderboardEntry("pnl", "daily", I64_MAX, DESK, I64_MAX).score == I64_MAX
    assert (check_top_limit(1), check_top_limit(1000)) == (1, 1000)


RECORD_ERRORS: list[tuple[str, Callable[[], object], str, object, str]] = [
    ("balance_account", lambda: CurrentBalance(5, 0, 0), "account_id", 5, "must be an AccountId"),  # type: ignore[arg-type]
    ("balance_low", lambda: CurrentBalance(DESK, -(1 << 127) - 1, 0), "balance_micro_usd",
     -(1 << 127) - 1, f"must be in [{-(1 << 127)}, {I128_MAX}]"),
    ("balance_high", lambda: CurrentBalance(DESK, 1 << 127, 0), "balance_micro_usd", 1 << 127,
     f"must be in [{-(1 << 127)}, {I128_MAX}]"),
    ("balance_time", lambda: CurrentBalance(DESK, 0, -1), "updated_at_ns", -1,
     f"must be in [0, {I64_MAX}]"),
    ("loss_limit", lambda: MonthlyLossLimit(DESK, 1 << 63, 0), "limit_micro_usd", 1 << 63,
     f"must be in [0, {I64_MAX}]"),
    ("ltv_margin", lambda: LtvMonitor(DESK, 0, 5, 0), "margin_call_ltv_bps", 0,
     "must be in [1, 1000000]"),
    ("ltv_liquidation", lambda: LtvMonitor(DESK, 5, 1_000_001, 0), "liquidation_ltv_bps",
     1_000_001, "must be in [1, 1000000]"),
    ("ltv_order", lambda: LtvMonitor(DESK, 5, 4, 0), "liquidation_ltv_bps", 4,
     "must be >= margin_call_ltv_bps"),
    ("address_chain", lambda: DepositAddress(DESK, "c" * 33, "a", "x", 0), "blockchain",
     "c" * 33, "must be 1..32 chars without outer spaces"),
    ("address_asset", lambda: DepositAddress(DESK, "c", "a" * 33, "x", 0), "asset", "a" * 33,
     "must be 1..32 chars without outer spaces"),
    ("address_text", lambda: DepositAddress(DESK, "c", "a", "x" * 129, 0), "address",
     "x" * 129, "must be 1..128 chars without outer spaces"),
    ("address_account", lambda: DepositAddress(None, "c", "a", "x", 0), "account_id", None,  # type: ignore[arg-type]
     "must be an AccountId"),
    ("entry_metric", lambda: LeaderboardEntry("m" * 65, "c", 0, DESK, 0), "metric", "m" * 65,
     "must be 1..64 chars without outer spaces"),
    ("entry_cadence", lambda: LeaderboardEntry("m", "", 0, DESK, 0), "cadence", "",
     "must be 1..64 chars without outer spaces"),
    ("entry_score", lambda: LeaderboardEntry("m", "c", 0, DESK, 1 << 63), "score", 1 << 63,
     f"must be in [{-(1 << 63)}, {I64_MAX}]"),
    ("entry_period", lambda: LeaderboardEntry("m", "c", -1, DESK, 0), "period_start_ns", -1,
     f"must be in [0, {I64_MAX}]"),
    ("top_zero", lambda: check_top_limit(0), "limit", 0, "must be in [1, 1000]"),
    ("top_high", lambda: check_top_limit(1001), "limit", 1001, "must be in [1, 1000]"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "field", "value", "problem"),
    [case[1:] for case in RECORD_ERRORS],
    ids=[case[0] for case in RECORD_ERRORS],
)
def test_record_errors_name_field_value_and_problem(
    call: Callable[[], object], field: str, value: object, problem: str
) -> None:
    with pytest.raises(InvalidValue) as error:
        call()
    assert (error.value.field, error.value.value, error.value.problem) == (field, value, problem)


# --------------------------------------------------------------------------- backfill

ANN = UserId(0x0190_0000_0000_0001)
BEN = UserId(0x0190_0000_0000_0002)
ANN_MAIN, BEN_MAIN = ANN.as_default_account_id(), BEN.as_default_account_id()
SECOND = AccountId(0x0190_0000_0000_00E0)  # Ann's second account, Ben is a member


def _accounts() -> list[Account]:
    return [
        Account(SECOND, "second", AccountKind.CUSTOMER, ANN, 1),
        Account(BEN_MAIN, "ben", AccountKind.CUSTOMER, BEN, 1),
        Account(SYSTEM_ACCOUNTS.AX_FEES, "fees", AccountKind.SYSTEM, None, 1),
        Account(ANN_MAIN, "ann", AccountKind.CUSTOMER, ANN, 1),
    ]


def test_backfill_plan_grants_each_grantless_customer_its_ubo_in_account_order() -> None:
    planned = plan_permission_backfill(_accounts(), {SECOND})
    assert planned == (
        Grant(ANN, ANN_MAIN, Permissions.FULL_ACCESS),
        Grant(BEN, BEN_MAIN, Permissions.FULL_ACCESS),
    )
    assert plan_permission_backfill(_accounts(), {SECOND, ANN_MAIN, BEN_MAIN}) == ()


def test_backfill_through_the_ports_is_idempotent() -> None:
    accounts, grants = MemoryAccounts(), MemoryGrants()
    for account in _accounts():
        accounts.add_account(account)
    member = Grant(BEN, SECOND, Permissions.TRADER)
    grants.put_grant(member)
    first = backfill_permissions(accounts, grants)
    assert first == BackfillReport(
        accounts_scanned=4, grants_created=2, account_ids=(ANN_MAIN, BEN_MAIN)
    )
    assert first.changed_anything
    assert list(grants.grants_for_account(SECOND)) == [member]
    assert grants.get_grant(ANN, ANN_MAIN) == Grant(ANN, ANN_MAIN, Permissions.FULL_ACCESS)
    second = backfill_permissions(accounts, grants)
    assert second == BackfillReport(accounts_scanned=4, grants_created=0, account_ids=())
    assert not second.changed_anything


def test_backfill_report_refuses_inconsistent_counts() -> None:
    with pytest.raises(AssertionError):
        BackfillReport(accounts_scanned=1, grants_created=2, account_ids=(ANN_MAIN, BEN_MAIN))
    with pytest.raises(AssertionError):
        BackfillReport(accounts_scanned=3, grants_created=1, account_ids=())
    full = BackfillReport(accounts_scanned=2, grants_created=2, account_ids=(ANN_MAIN, BEN_MAIN))
    assert full.changed_anything
