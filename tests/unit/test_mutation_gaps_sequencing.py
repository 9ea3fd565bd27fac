"""Sequence stamps and the position / transaction records of one chain, field by field."""

from __future__ import annotations

import attrs
import pytest

from axadapters.memory.sequences import MemorySequences
from axdomain import SYSTEM_ACCOUNTS, AccountId, Conflict, InvalidValue
from axdomain.ledger.position import Position
from axdomain.ledger.sequencing import (
    PositionRecord,
    SequenceStamp,
    TransactionRecord,
    accounts_touched,
    records_for_chain,
    require_chain,
    stamp_chain,
)
from axdomain.ledger.values import Transfer, TransferCode, TransferFlags
from tests.ledger_support import DATED, PERP, World


def _world() -> World:
    world = World.build(2)
    assert world.deposit(0, 10_000_000) == []
    assert world.deposit(1, 10_000_000) == []
    return world


def _linked(transfer: Transfer) -> Transfer:
    return attrs.evolve(transfer, flags=transfer.flags | TransferFlags.LINKED)


def test_require_chain_names_the_breaking_leg() -> None:
    with pytest.raises(InvalidValue) as empty:
        require_chain([])
    assert (empty.value.field, empty.value.value, empty.value.problem) == (
        "chain",
        0,
        "a ledger event has at least one transfer",
    )
    chain = _world().plan_fill(0, 1, 1, 1_000_000)
    require_chain(chain)
    require_chain(chain[-1:])
    last = len(chain) - 1
    for index, broken in (
        (last, [*chain[:-1], _linked(chain[-1])]),
        (1, [chain[0], attrs.evolve(chain[1], flags=TransferFlags.NONE), *chain[2:]]),
    ):
        with pytest.raises(InvalidValue) as raised:
            require_chain(broken)
        assert (raised.value.field, raised.value.value, raised.value.problem) == (
            "flags",
            broken[index].id,
            f"leg {index} breaks the linked chain",
        )


def test_a_fill_stamps_and_records_every_account_it_touches() -> None:
    """A deposit linked in front of a fill: two USD codes for the buyer, two fee legs for
    AX_FEES, a system account whose qty did not move and sequences that differ per account."""
    world = _world()
    buyer, seller = (c.account_id for c in world.customers)
    deposit = world.plan_deposit(0, 1_000)
    fill = world.plan_fill(0, 1, 3, 2_000_000)
    chain = [*deposit[:-1], _linked(deposit[-1]), *fill]
    counterparty = SYSTEM_ACCOUNTS.AX_CUSTODY
    fees = SYSTEM_ACCOUNTS.AX_FEES
    touched = accounts_touched(chain)
    assert touched == (counterparty, buyer, seller, AccountId(1), fees)
    sequences = MemorySequences()
    sequences.allocate(buyer, 4)
    stamps = stamp_chain(chain, sequences)
    assert [s.account_id for s in stamps] == list(touched)
    assert {s.first_transfer_id for s in stamps} == {chain[0].id}
    numbers = {s.account_id: s.sequence_number for s in stamps}
    assert (numbers[buyer], numbers[seller]) == (5, 1)
    assert sequences.last_allocated(buyer) == 5

    assert world.submit(chain) == []
    positions, transactions = records_for_chain(chain, stamps, world.state.position)
    at_ns = chain[0].user_data_64
    assert at_ns == deposit[0].user_data_64 != fill[0].user_data_64
    assert positions == [
        PositionRecord(seller, 1, PERP, -3, -6_000_000, at_ns),
        PositionRecord(buyer, 5, PERP, 3, 6_000_000, at_ns),
        PositionRecord(AccountId(1), 1, PERP, 0, 0, at_ns),
    ]
    assert positions[0].key == (positions[0].account_id, positions[0].sequence_number)
    records = {t.account_id: t for t in transactions}
    buyer_fee, seller_fee = (t for t in fill if t.code == TransferCode.FEE)
    assert records[buyer] == TransactionRecord(
        buyer,
        5,
        ((TransferCode.FEE, 600), (TransferCode.DEPOSIT, 1_000)),
        (deposit[0].id, buyer_fee.id),
        at_ns,
    )
    assert records[buyer].key == (buyer, 5)
    assert records[buyer].total_micro_usd == 1_600
    assert records[fees].amounts_micro_usd == ((TransferCode.FEE, 2_400),)
    assert records[fees].transfer_ids == (buyer_fee.id, seller_fee.id)
    assert records[seller].amounts_micro_usd == ((TransferCode.FEE, -3_000),)


def test_a_deposit_records_the_signed_usd_of_both_sides() -> None:
    world = _world()
    owner = world.customers[0].account_id
    chain = world.plan_deposit(0, 70)
    stamps = [
        SequenceStamp(owner, 3, chain[0].id),
        SequenceStamp(SYSTEM_ACCOUNTS.AX_CUSTODY, 9, chain[0].id),
    ]
    positions, transactions = records_for_chain(chain, stamps, lambda a, c: Position())
    assert positions == []
    records = {t.account_id: t for t in transactions}
    assert records[owner] == TransactionRecord(
        owner, 3, ((TransferCode.DEPOSIT, 70),), tuple(t.id for t in chain), chain[0].user_data_64
    )
    assert records[SYSTEM_ACCOUNTS.AX_CUSTODY].amounts_micro_usd == ((TransferCode.DEPOSIT, -70),)
    assert records[SYSTEM_ACCOUNTS.AX_CUSTODY].sequence_number == 9


def test_one_chain_on_two_contracts_of_one_account_is_refused() -> None:
    world = _world()
    first = world.plan_fill(0, 1, 1, 1_000_000, PERP)
    second = world.plan_fill(0, 1, 1, 1_000_000, DATED)
    chain = [*first[:-1], _linked(first[-1]), *second]
    stamps = stamp_chain(chain, MemorySequences())
    with pytest.raises(Conflict) as raised:
        records_for_chain(chain, stamps, lambda a, c: Position())
    assert (raised.value.field, raised.value.value) == ("chain", chain[0].id)
    assert raised.value.problem.endswith("on two contracts")
