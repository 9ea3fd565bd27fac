"""Risk fold edges: exact refusals, a reservation opened and resolved inside one chain,
duplicate keys in a hand-made scan, and the order of ``holders``."""

from __future__ import annotations

import attrs
import pytest

from axdomain import SYSTEM_ACCOUNTS, AccountId, InvalidValue
from axdomain.ledger.planners import plan_post_withdrawal, plan_reserve_withdrawal
from axdomain.ledger.position import Position
from axdomain.ledger.risk import Reservation, RiskState, _summed
from axdomain.ledger.values import LedgerAccount, TransferFlags
from axdomain.ledger_ids import derive_tb_usd_account_id
from tests.ledger_support import DATED, PERP, World

CUSTODY = SYSTEM_ACCOUNTS.AX_CUSTODY


def _funded(count: int = 1) -> World:
    world = World.build(count)
    for index in range(count):
        assert world.deposit(index, 1_000) == []
    return world


def test_a_post_of_nothing_open_names_the_reservation_exactly() -> None:
    world = _funded()
    [pending] = plan_reserve_withdrawal(
        account=world.customers[0], amount_micro_usd=10, timestamp_ns=1, transfer_ids=iter([900])
    )
    [posted] = plan_post_withdrawal(pending=pending, timestamp_ns=2, transfer_ids=iter([901]))
    with pytest.raises(InvalidValue) as refused:
        world.state.apply_chain([posted])
    assert (refused.value.field, refused.value.value, refused.value.problem) == (
        "pending_id",
        900,
        "no open reservation",
    )


def test_a_reservation_opened_and_posted_in_one_chain_leaves_nothing_held() -> None:
    world = _funded()
    owner = world.customers[0].account_id
    [pending] = plan_reserve_withdrawal(
        account=world.customers[0], amount_micro_usd=300, timestamp_ns=1, transfer_ids=iter([900])
    )
    [posted] = plan_post_withdrawal(pending=pending, timestamp_ns=2, transfer_ids=iter([901]))
    chain = [attrs.evolve(pending, flags=pending.flags | TransferFlags.LINKED), posted]
    stamps = world.state.apply_chain(chain)
    assert [s.account_id for s in stamps] == [owner, CUSTODY]
    assert (world.state.usd(owner), world.state.reserved(owner)) == (700, 0)
    assert world.state.reservations == {}
    assert world.state.usd_credits_pending_micro_usd == {}
    assert world.state.usd(CUSTODY) == -700


def test_resume_rebuilds_open_reservations_in_commit_order() -> None:
    world = _funded(2)
    owners = [c.account_id for c in world.customers]
    held = []
    for index, amount in ((1, 5), (0, 7), (1, 9)):
        [pending] = plan_reserve_withdrawal(
            account=world.customers[index],
            amount_micro_usd=amount,
            timestamp_ns=world.tick(),
            transfer_ids=world.ids,
        )
        assert world.submit([pending]) == []
        held.append(pending)
    resumed = RiskState.resume(world.ledger.scan_accounts(), world.ledger.scan_transfers())
    assert resumed == world.state
    assert list(resumed.reservations) == [t.id for t in held]
    assert resumed.reservations[held[1].id] == Reservation(owners[0], 7)
    assert resumed.reservations_of(owners[1]) == {held[0].id: 5, held[2].id: 9}
    assert resumed.usd_debits_pending_micro_usd == {owners[1]: 14, owners[0]: 7}
    assert resumed.usd_credits_pending_micro_usd == {CUSTODY: 21}
    assert resumed.available(owners[1]) == 1_000 - 14


def test_resume_refuses_a_scan_that_ends_inside_a_chain() -> None:
    world = _funded()
    transfers = world.ledger.scan_transfers()
    transfers[-1] = attrs.evolve(transfers[-1], flags=TransferFlags.LINKED)
    with pytest.raises(InvalidValue) as refused:
        RiskState.resume(world.ledger.scan_accounts(), transfers)
    assert (refused.value.field, refused.value.value, refused.value.problem) == (
        "transfers",
        "scan",
        "ends inside an open linked chain",
    )


def test_resume_sums_a_hand_made_scan_that_repeats_an_account() -> None:
    owner = AccountId(0x0190_0000_0000_0A01)
    usd_id = derive_tb_usd_account_id(owner)
    rows = [
        LedgerAccount(id=usd_id, ledger=1, code=1, credits_posted=5),
        LedgerAccount(id=usd_id, ledger=1, code=1, debits_posted=5),
        LedgerAccount(id=usd_id + (1 << 64), ledger=1, code=1, credits_posted=3),
    ]
    state = RiskState.resume(rows, [])
    assert state.usd_net_micro_usd == {AccountId(owner.value + 1): 3}
    assert _summed(["a", "b", "a"], [2, 4, -2]) == {"b": 4}
    assert _summed(["a", "b"], [2, 4]) == {"a": 2, "b": 4}


def test_holders_lists_one_contract_in_account_order() -> None:
    world = _funded(3)
    assert world.fill(2, 0, 2, 1_000_000) == []
    assert world.fill(1, 2, 1, 1_000_000, DATED) == []
    holders = world.state.holders(PERP)
    assert list(holders) == sorted(holders)
    customers = {a: p for a, p in holders.items() if not a.is_reserved}
    assert customers == {
        world.customers[0].account_id: Position(-2, -2_000_000),
        world.customers[2].account_id: Position(2, 2_000_000),
    }
    assert world.customers[1].account_id not in holders
