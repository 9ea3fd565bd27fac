"""Batch limits: planners split into whole chains, the configured limit is honoured."""

from __future__ import annotations

import itertools

import pytest

from axadapters.ledger_twin import LedgerTwin
from axapp.config import Config
from axdomain.errors import InvalidValue
from axdomain.ledger.events import split_chains
from axdomain.ledger.invariants import check_all_invariants
from axdomain.ledger.planners import (
    CHAIN_EVENTS_MAX,
    plan_funding,
    plan_settlement,
    split_batches,
)
from axdomain.ledger.port import TIGERBEETLE_BATCH_EVENTS_MAX
from axdomain.ledger.position import Position
from axdomain.ledger.values import Transfer, TransferFlags
from tests.ledger_support import DATED, PERP, World, customer

DEV_CLUSTER_BATCH = 253  # a cluster started with the 32 KiB development message size
HOLDERS = 10_000


def chain_plan(lengths: list[int]) -> list[Transfer]:
    ids = itertools.count(1)
    planned = []
    for length in lengths:
        for leg in range(length):
            flags = TransferFlags.LINKED if leg < length - 1 else TransferFlags.NONE
            planned.append(
                Transfer(
                    id=next(ids),
                    debit_account_id=1,
                    credit_account_id=2,
                    amount=1,
                    ledger=1,
                    code=5,
                    flags=flags,
                )
            )
    return planned


def test_split_batches_packs_whole_chains_in_order() -> None:
    planned = chain_plan([3, 3, 1, 2, 4, 3])
    batches = split_batches(planned, 6)
    assert [len(b) for b in batches] == [6, 3, 4, 3]
    assert [t for b in batches for t in b] == planned
    for batch in batches:
        assert not batch[-1].flags & TransferFlags.LINKED  # no batch ends inside a chain
    assert split_batches([], 6) == []
    assert split_batches(planned, TIGERBEETLE_BATCH_EVENTS_MAX) == [planned]


def test_split_batches_refuses_a_chain_longer_than_the_limit() -> None:
    with pytest.raises(InvalidValue) as error:
        split_batches(chain_plan([2, 4]), 3)
    assert error.value.field == "batch_events_max"
    with pytest.raises(InvalidValue):
        split_batches(chain_plan([1]), 0)


def test_a_fill_is_the_longest_chain_and_fits_the_smallest_batch() -> None:
    world = World.build(2)
    assert world.deposit(0, 10**12) == [] and world.deposit(1, 10**12) == []
    assert world.fill(0, 1, 5, 1_000_000) == []
    # both sides now close and open: the fill with every leg non-zero
    fill = world.plan_fill(1, 0, 10, 1_000_001)
    assert len(fill) == CHAIN_EVENTS_MAX
    assert split_batches(fill, CHAIN_EVENTS_MAX) == [fill]


def test_funding_over_the_limit_becomes_chains_that_each_fit() -> None:
    positions = {customer(i).account_id: (1 if i % 2 else -1) for i in range(600)}
    planned = plan_funding(
        contract=PERP,
        positions=positions,
        mark_price_micro_usd=1_000_000,
        funding_rate_ppb=1_000,
        timestamp_ns=1,
        transfer_ids=itertools.count(1),
        batch_events_max=DEV_CLUSTER_BATCH,
    )
    assert len(planned) == 600
    assert [len(c) for c in split_chains(planned)] == [253, 253, 94]
    assert [len(b) for b in split_batches(planned, DEV_CLUSTER_BATCH)] == [253, 253, 94]
    small = plan_funding(
        contract=PERP,
        positions=dict(itertools.islice(positions.items(), 4)),
        mark_price_micro_usd=1_000_000,
        funding_rate_ppb=1_000,
        timestamp_ns=1,
        transfer_ids=itertools.count(1),
    )
    assert [len(c) for c in split_chains(small)] == [4]  # unchanged when it fits


def test_settlement_of_ten_thousand_holders_on_a_253_event_cluster() -> None:
    world = World.build(HOLDERS, ledger=LedgerTwin(batch_events_max=DEV_CLUSTER_BATCH))
    deposits: list[Transfer] = []
    for index in range(HOLDERS):
        deposits += world.plan_deposit(index, 10**12)
    assert world.submit(deposits) == []
    fills: list[Transfer] = []
    for pair in range(HOLDERS // 2):
        buyer, seller = 2 * pair, 2 * pair + 1
        fills += world.plan_fill(buyer, seller, 1 + pair % 7, 1_000_000 + pair, DATED)
    assert world.submit(fills) == []
    holders = world.customer_holders(DATED)
    assert len(holders) == HOLDERS
    # one chain per holder, whole chains per 253-event batch
    planned = plan_settlement(
        contract=DATED,
        settlement_price_micro_usd=1_003_000,
        positions={a: p for a, p in world.state.holders(DATED).items() if not a.is_reserved},
        timestamp_ns=world.tick(),
        transfer_ids=world.ids,
    )
    chains = list(split_chains(planned))
    assert len(chains) == HOLDERS  # a holder whose PnL is zero has no PnL leg
    assert {len(c) for c in chains} <= {2, 3}
    batches = split_batches(planned, DEV_CLUSTER_BATCH)
    assert max(len(b) for b in batches) <= DEV_CLUSTER_BATCH
    assert len(batches) >= HOLDERS // (DEV_CLUSTER_BATCH // 3)  # about 84 holders a batch
    assert world.submit(planned) == []
    assert world.customer_holders(DATED) == {}
    assert world.state.position(world.customers[0].account_id, DATED) == Position(0, 0)
    assert check_all_invariants(world.inputs()) == []
    assert world.resumed() == world.state


@pytest.mark.parametrize(
    ("text", "expected"),
    [(None, TIGERBEETLE_BATCH_EVENTS_MAX), ("253", 253), (str(CHAIN_EVENTS_MAX), CHAIN_EVENTS_MAX)],
)
def test_the_batch_limit_comes_from_the_environment(text: str | None, expected: int) -> None:
    env = {} if text is None else {"AX_TIGERBEETLE_BATCH_MAX": text}
    assert Config.from_env(env).tigerbeetle_batch_max == expected


@pytest.mark.parametrize(
    "text", ["0", "6", "8190", "-5", "25x", "1e3", "\uff12\uff15\uff13", "0x10", " 2 53"]
)
def test_a_bad_batch_limit_names_the_variable(text: str) -> None:
    with pytest.raises(InvalidValue) as error:
        Config.from_env({"AX_TIGERBEETLE_BATCH_MAX": text})
    assert error.value.field == "AX_TIGERBEETLE_BATCH_MAX"
