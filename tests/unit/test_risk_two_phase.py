"""The risk fold of two-phase withdrawals: reservations, posts and voids, live and resumed."""

from __future__ import annotations

import copy

import attrs
import pytest

from axdomain import SYSTEM_ACCOUNTS
from axdomain.errors import InvalidValue
from axdomain.ledger.planners import (
    plan_post_withdrawal,
    plan_reserve_withdrawal,
    plan_void_withdrawal,
)
from axdomain.ledger.risk import Reservation
from axdomain.ledger.values import Transfer, TransferFlags
from tests.ledger_support import World

CUSTODY = SYSTEM_ACCOUNTS.AX_CUSTODY


def reserve(world: World, index: int, amount: int) -> Transfer:
    [pending] = plan_reserve_withdrawal(
        account=world.customers[index],
        amount_micro_usd=amount,
        timestamp_ns=world.tick(),
        transfer_ids=world.ids,
    )
    assert world.submit([pending]) == []
    return pending


def post(world: World, pending: Transfer) -> None:
    batch = plan_post_withdrawal(pending=pending, timestamp_ns=world.tick(), transfer_ids=world.ids)
    assert world.submit(batch) == []


def void(world: World, pending: Transfer) -> None:
    batch = plan_void_withdrawal(pending=pending, timestamp_ns=world.tick(), transfer_ids=world.ids)
    assert world.submit(batch) == []


def test_a_reservation_holds_cash_without_moving_the_posted_net() -> None:
    world = World.build(2)
    assert world.deposit(0, 1_000) == []
    pending = reserve(world, 0, 600)
    alice = world.customers[0].account_id
    state = world.state
    assert (state.usd(alice), state.reserved(alice), state.available(alice)) == (1_000, 600, 400)
    assert state.usd_credits_pending_micro_usd == {CUSTODY: 600}
    assert state.reservations == {pending.id: Reservation(alice, 600)}
    assert state.reservations_of(alice) == {pending.id: 600}
    assert state.reservations_of(world.customers[1].account_id) == {}
    assert state == world.resumed()


def test_a_post_moves_the_reserve_into_the_posted_nets() -> None:
    world = World.build(1)
    assert world.deposit(0, 1_000) == []
    pending = reserve(world, 0, 600)
    post(world, pending)
    alice = world.customers[0].account_id
    state = world.state
    assert (state.usd(alice), state.reserved(alice), state.available(alice)) == (400, 0, 400)
    assert state.usd(CUSTODY) == -400
    assert state.usd_debits_pending_micro_usd == {}
    assert state.usd_credits_pending_micro_usd == {}
    assert state.reservations == {}
    assert state.last_sequence[alice] == 3  # deposit, reserve, post: three events
    assert state == world.resumed()


def test_a_void_releases_the_reserve_and_posts_nothing() -> None:
    world = World.build(1)
    assert world.deposit(0, 1_000) == []
    first = reserve(world, 0, 300)
    second = reserve(world, 0, 200)
    void(world, first)
    alice = world.customers[0].account_id
    state = world.state
    assert (state.usd(alice), state.reserved(alice)) == (1_000, 200)
    assert state.reservations == {second.id: Reservation(alice, 200)}
    assert state == world.resumed()


def test_a_post_of_no_open_reservation_is_refused_and_changes_nothing() -> None:
    world = World.build(1)
    assert world.deposit(0, 1_000) == []
    pending = reserve(world, 0, 100)
    post(world, pending)
    before = copy.deepcopy(world.state)
    [again] = plan_post_withdrawal(
        pending=pending, timestamp_ns=world.tick(), transfer_ids=world.ids
    )
    with pytest.raises(InvalidValue) as refused:
        world.state.apply_chain([again])
    assert (refused.value.field, refused.value.value) == ("pending_id", pending.id)
    assert world.state == before


def test_one_reservation_is_resolved_once_within_a_chain() -> None:
    world = World.build(1)
    assert world.deposit(0, 1_000) == []
    pending = reserve(world, 0, 100)
    [posted] = plan_post_withdrawal(pending=pending, timestamp_ns=1, transfer_ids=iter([900]))
    [voided] = plan_void_withdrawal(pending=pending, timestamp_ns=1, transfer_ids=iter([901]))
    linked = attrs.evolve(posted, flags=posted.flags | TransferFlags.LINKED)
    with pytest.raises(InvalidValue):
        world.state.apply_chain([linked, voided])
    assert world.state.reserved(world.customers[0].account_id) == 100
