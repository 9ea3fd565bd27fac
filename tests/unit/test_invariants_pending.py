"""The invariants read pending balances: U1 counts what a pending withdrawal holds, G3 sums
pending USD to zero, G1/G2 allow nothing pending on qty or basis accounts. Each rule has a
healthy ledger with an open reservation (no violation) and a broken one (exactly the
violation), so a check that ignored pending sums would fail here."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest

from axdomain import SYSTEM_ACCOUNTS
from axdomain.ledger.invariants import InvariantInputs, Violation, check_all_invariants
from axdomain.ledger.planners import plan_reserve_withdrawal
from axdomain.ledger.values import LedgerAccount
from axdomain.ledger_ids import derive_tb_account_id, derive_tb_usd_account_id
from tests.ledger_support import PERP, World

CUSTODY_USD = derive_tb_usd_account_id(SYSTEM_ACCOUNTS.AX_CUSTODY)


@pytest.fixture
def world() -> World:
    world = World.build(2)
    assert world.deposit(0, 1_000) == []
    assert world.deposit(1, 1_000) == []
    assert world.fill(0, 1, 3, 100) == []
    reserve = plan_reserve_withdrawal(
        account=world.customers[0],
        amount_micro_usd=600,
        timestamp_ns=world.tick(),
        transfer_ids=world.ids,
    )
    assert world.submit(reserve) == []
    return world


def _change(
    inputs: InvariantInputs, tb_id: int, change: Callable[[LedgerAccount], LedgerAccount]
) -> InvariantInputs:
    rows = [change(a) if a.id == tb_id else a for a in inputs.ledger_accounts]
    return attrs.evolve(inputs, ledger_accounts=rows)


def test_an_open_reservation_is_healthy(world: World) -> None:
    inputs = world.inputs()
    [usd] = [a for a in inputs.ledger_accounts if a.id == world_usd(world, 0)]
    assert usd.debits_pending == 600
    assert check_all_invariants(inputs) == []


def world_usd(world: World, index: int) -> int:
    return derive_tb_usd_account_id(world.customers[index].account_id)


def test_u1_counts_debits_pending(world: World) -> None:
    inputs = world.inputs()
    [usd] = [a for a in inputs.ledger_accounts if a.id == world_usd(world, 0)]
    over = usd.available + 1  # hold one micro-USD more than the account has
    broken = _change(
        _change(inputs, usd.id, lambda a: attrs.evolve(a, debits_pending=a.debits_pending + over)),
        CUSTODY_USD,
        lambda a: attrs.evolve(a, credits_pending=a.credits_pending + over),
    )
    net = usd.credits_posted - usd.debits_posted
    assert check_all_invariants(broken) == [
        Violation(
            "U1",
            str(world.customers[0].account_id),
            f"USD available -1 < 0 (net {net}, debits pending {600 + over})",
        )
    ]


def test_u1_holds_at_exactly_zero_available(world: World) -> None:
    inputs = world.inputs()
    [usd] = [a for a in inputs.ledger_accounts if a.id == world_usd(world, 0)]
    rest = usd.available
    healthy = _change(
        _change(inputs, usd.id, lambda a: attrs.evolve(a, debits_pending=a.debits_pending + rest)),
        CUSTODY_USD,
        lambda a: attrs.evolve(a, credits_pending=a.credits_pending + rest),
    )
    assert check_all_invariants(healthy) == []


def test_g3_sums_pending_usd(world: World) -> None:
    broken = _change(
        world.inputs(),
        CUSTODY_USD,
        lambda a: attrs.evolve(a, credits_pending=a.credits_pending - 1),
    )
    assert check_all_invariants(broken) == [
        Violation("G3", "USD", "sum of pending USD (credits - debits) is -1")
    ]


@pytest.mark.parametrize(("code", "offset", "kind"), [("G1", 0, "qty"), ("G2", 1, "basis")])
def test_g1_g2_allow_nothing_pending_on_positions(
    world: World, code: str, offset: int, kind: str
) -> None:
    account = world.customers[1].account_id
    tb_id = derive_tb_account_id(account, PERP) + offset
    broken = _change(
        world.inputs(), tb_id, lambda a: attrs.evolve(a, debits_pending=2, credits_pending=0)
    )
    assert check_all_invariants(broken) == [
        Violation(
            code, f"{account}/{PERP}", f"{kind} account holds debits_pending 2, credits_pending 0"
        )
    ]
