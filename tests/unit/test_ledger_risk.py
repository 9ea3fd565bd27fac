"""Risk fold, resume equality, sequence stamps and the records they key."""

from __future__ import annotations

import attrs
import pytest

from axdomain import SYSTEM_ACCOUNTS
from axdomain.errors import InvalidValue
from axdomain.ledger.events import TransferDecodeError
from axdomain.ledger.port import CreateTransferResult
from axdomain.ledger.position import Position
from axdomain.ledger.risk import RiskState
from axdomain.ledger.sequencing import records_for_chain
from axdomain.ledger.values import TransferCode, TransferFlags
from tests.ledger_support import DATED, PERP, World


def _world() -> World:
    world = World.build(3)
    for index in range(3):
        assert world.deposit(index, 10**10) == []
    return world


def test_live_state_equals_resume_and_fold_after_partial_close_and_flip() -> None:
    world = _world()
    assert world.fill(0, 1, 10, 1_000_000) == []
    assert world.fill(1, 0, 3, 1_100_003) == []  # partial close, basis rounds toward zero
    assert world.fill(1, 0, 12, 900_000) == []  # flip customer 0 short
    a0 = world.customers[0].account_id
    assert world.state.position(a0, PERP) == Position(-5, -4_500_000)
    assert world.resumed() == world.state
    assert RiskState.fold(world.ledger.scan_transfers()) == world.state


def test_resume_detects_a_fold_that_disagrees_with_the_ledger() -> None:
    world = _world()
    assert world.fill(0, 1, 2, 1_000_000) == []
    tampered = attrs.evolve(world.state, usd_net_micro_usd=dict(world.state.usd_net_micro_usd))
    tampered.usd_net_micro_usd[world.customers[0].account_id] += 1
    assert world.resumed() != tampered


def test_sequence_numbers_are_per_account_and_gap_free() -> None:
    world = _world()
    a0, a1, a2 = (c.account_id for c in world.customers)
    assert world.fill(0, 1, 1, 1_000_000) == []
    assert world.fill(0, 2, 1, 1_000_000, DATED) == []  # another symbol: same counter
    assert world.state.last_sequence[a0] == 3  # deposit + two fills
    assert world.state.last_sequence[a1] == 2
    assert world.state.last_sequence[a2] == 2
    assert world.sequences.last_allocated(a0) == 3
    numbers = [s.sequence_number for s in world.stamps if s.account_id == a0]
    assert numbers == [1, 2, 3]


def test_failed_linked_batch_changes_nothing_and_earns_no_number() -> None:
    world = World.build(2)
    assert world.deposit(0, 100) == []
    assert world.deposit(1, 10**10) == []
    before = (world.state.usd_net_micro_usd.copy(), world.ledger.scan_accounts())
    a0 = world.customers[0].account_id
    # Customer 0 is the taker-less maker with a rebate; make the seller (customer 0) pay a
    # taker fee it cannot afford: the last leg overdraws, so the whole chain fails.
    batch = world.plan_fill(1, 0, 1000, 10_000_000)
    assert batch[-1].code == TransferCode.FEE
    errors = world.submit(batch)
    assert errors
    assert CreateTransferResult.EXCEEDS_CREDITS in {e.result for e in errors}
    assert (world.state.usd_net_micro_usd, world.ledger.scan_accounts()) == before
    assert world.state.last_sequence[a0] == 1
    assert world.resumed() == world.state


def test_records_are_keyed_by_account_and_sequence_number() -> None:
    world = _world()
    batch = world.plan_fill(0, 1, 4, 2_000_000)
    assert world.submit(batch) == []
    stamps = [s for s in world.stamps if s.first_transfer_id == batch[0].id]
    assert len(stamps) == 4  # buyer, seller, AX_PNL (basis), AX_FEES: one number each
    positions, transactions = records_for_chain(batch, stamps, world.state.position)
    a0 = world.customers[0].account_id
    mine = next(p for p in positions if p.account_id == a0)
    assert (mine.qty_lots, mine.basis_micro_usd, mine.contract) == (4, 8_000_000, PERP)
    assert mine.key == (a0, 2)
    keys = [p.key for p in positions] + [t.key for t in transactions]
    assert len({p.key for p in positions}) == len(positions)
    assert len({t.key for t in transactions}) == len(transactions)
    assert all(key[1] >= 1 for key in keys)
    fees = next(t for t in transactions if t.account_id == SYSTEM_ACCOUNTS.AX_FEES)
    assert dict(fees.amounts_micro_usd) == {TransferCode.FEE: -800 + 4_000}
    assert fees.total_micro_usd == 3_200


def test_apply_chain_refuses_a_broken_chain_and_leaves_state() -> None:
    world = _world()
    batch = world.plan_fill(0, 1, 1, 1_000_000)
    snapshot = attrs.evolve(world.state)
    with pytest.raises(InvalidValue) as error:
        world.state.apply_chain([attrs.evolve(batch[-1], flags=TransferFlags.LINKED)])
    assert error.value.field == "flags"
    with pytest.raises(TransferDecodeError):
        world.state.apply_chain([*batch[:-1], attrs.evolve(batch[-1], code=99)])
    assert world.state == snapshot


def test_resume_fails_hard_on_an_open_chain() -> None:
    world = _world()
    transfers = world.ledger.scan_transfers()
    transfers[-1] = attrs.evolve(transfers[-1], flags=TransferFlags.LINKED)
    with pytest.raises(InvalidValue):
        RiskState.resume(world.ledger.scan_accounts(), transfers)
