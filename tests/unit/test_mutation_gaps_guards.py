"""Internal guards raise explicitly, so they hold under ``python -O`` too.

A broken internal rule (division by zero in a money path, a zero-lot fill, an inconsistent
backfill report, a customer account without its UBO) must stop the computation, never let
a wrong figure through because asserts were stripped.
"""

from __future__ import annotations

import subprocess
import sys

import attrs
import pytest

from axdomain import Account, AccountId, AccountKind, UserId
from axdomain.backfill import BackfillReport, plan_permission_backfill
from axdomain.ledger.position import Position, div_toward_zero, fill_effect
from axdomain.registry import SeedMismatch

ANN = UserId(0x0190_0000_0000_0A01)
ANN_MAIN = AccountId(0x0190_0000_0000_0A11)


@attrs.frozen
class _UbolessCustomer:
    """Stands for a stored customer row whose UBO was lost (``Account`` itself refuses it)."""

    account_id: AccountId = ANN_MAIN
    ubo_user_id: UserId | None = None
    is_customer: bool = True


def test_division_by_zero_in_a_money_path_raises() -> None:
    with pytest.raises(AssertionError, match=r"^division by zero in a money path$"):
        div_toward_zero(5, 0)
    assert div_toward_zero(-7, 2) == -3


def test_a_zero_lot_fill_raises() -> None:
    with pytest.raises(AssertionError, match=r"^a fill moves at least one lot$"):
        fill_effect(Position(3, 300), 0, 100)
    assert fill_effect(Position(3, 300), -1, 100).closing_lots == -1


def test_backfill_report_counts_must_agree() -> None:
    with pytest.raises(
        AssertionError, match=r"^grants_created disagrees with account_ids: BackfillReport"
    ):
        BackfillReport(accounts_scanned=3, grants_created=2, account_ids=(ANN_MAIN,))
    with pytest.raises(
        AssertionError, match=r"^grants_created outside \[0, accounts_scanned\]: BackfillReport"
    ):
        BackfillReport(accounts_scanned=0, grants_created=1, account_ids=(ANN_MAIN,))
    edge = BackfillReport(accounts_scanned=1, grants_created=1, account_ids=(ANN_MAIN,))
    assert edge.changed_anything


def test_backfill_refuses_a_customer_without_ubo() -> None:
    with pytest.raises(AssertionError, match=r"^customer account without a UBO: _UbolessCustomer"):
        plan_permission_backfill([_UbolessCustomer()], set())  # type: ignore[list-item]
    system = _UbolessCustomer(is_customer=False)
    assert plan_permission_backfill([system], set()) == ()  # type: ignore[list-item]
    assert Account(ANN_MAIN, "ann", AccountKind.CUSTOMER, ANN, 1).ubo_user_id == ANN


GUARD_CALLS = (
    "div_toward_zero(1, 0)",
    "fill_effect(Position(1, 1), 0, 1)",
    "BackfillReport(accounts_scanned=1, grants_created=1, account_ids=())",
    "BackfillReport(accounts_scanned=0, grants_created=1, account_ids=(1,))",
)


def test_guards_survive_python_dash_o() -> None:
    """One interpreter under ``-O`` runs every guard; each must still raise."""
    script = (
        "from axdomain.backfill import BackfillReport\n"
        "from axdomain.ledger.position import Position, div_toward_zero, fill_effect\n"
        "assert False  # stripped under -O\n"
        "raised = []\n"
        f"for call in {GUARD_CALLS!r}:\n"
        "    try:\n"
        "        eval(call)\n"
        "    except AssertionError:\n"
        "        raised.append(call)\n"
        "print(len(raised))\n"
    )
    result = subprocess.run(
        [sys.executable, "-O", "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == str(len(GUARD_CALLS))


@pytest.mark.parametrize(
    ("symbols", "problems"), [((), ()), (("A",), ()), (("A", "B"), ("only one",))]
)
def test_a_seed_mismatch_needs_one_problem_per_symbol(
    symbols: tuple[str, ...], problems: tuple[str, ...]
) -> None:
    with pytest.raises(
        AssertionError, match=r"^a seed mismatch names one problem per symbol, at least one$"
    ):
        SeedMismatch(symbols, problems)
