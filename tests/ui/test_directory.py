"""The operator look-ups behind the admin and health pages: operator only, audited, and
account-centric (UBO accounts apart from granted ones)."""

from __future__ import annotations

import pytest

from axapp.gateway import AccessDenied
from axdomain import Permissions
from axdomain.errors import InvalidValue
from axdomain.ids import UserId
from axdomain.orders import Side
from axdomain.permissions import Action
from tests.app_support import MICRO, PERP, World


def test_customers_are_refused_and_the_refusal_is_audited() -> None:
    world = World.build()
    alice, account, session = world.user("alice")
    directory = world.app.directory
    audit = world.app.stores.audit
    before = len(audit.all_records())
    for call in (
        lambda: directory.find_users(session, "alice"),
        lambda: directory.user_accounts(session, alice.user_id),
        lambda: directory.account_facts(session, account.account_id),
        lambda: directory.health_series(session),
    ):
        with pytest.raises(AccessDenied):
            call()
    records = audit.all_records()[before:]
    assert len(records) == 4
    assert all(r.action is Action.READ_AUDIT and not r.allowed for r in records)


def test_accounts_owned_and_granted_grants_and_keys() -> None:
    world = World.build()
    alice, alice_account, alice_s = world.user("alice")
    bob, bob_account, _ = world.user("bob")
    world.app.membership.grant(alice_s, alice_account.account_id, bob.user_id, Permissions.TRADER)
    key_id, token = world.mint(alice_s, alice_account.account_id, Permissions.READ_ONLY)
    directory = world.app.directory
    assert [u.username for u in directory.find_users(world.ops, "B")] == ["bob"]
    assert directory.find_users(world.ops, str(alice.user_id)) == [alice]
    bobs = directory.user_accounts(world.ops, bob.user_id)
    assert [a.account_id for a in bobs.owned] == [bob_account.account_id]
    assert bobs.granted == ((alice_account, Permissions.TRADER),)
    facts = directory.account_facts(world.ops, alice_account.account_id)
    assert facts.ubo == alice
    assert {g.user_id: g.permissions for g, _ in facts.grants} == {
        alice.user_id: Permissions.FULL_ACCESS,
        bob.user_id: Permissions.TRADER,
    }
    assert [k.key_id for k in facts.keys] == [key_id]
    with pytest.raises(InvalidValue, match="no such user"):
        directory.user_accounts(world.ops, UserId(0x0123_4567_89AB_CDEF))
    last = world.app.stores.audit.records_for_account(alice_account.account_id)[-1]
    assert last.action is Action.READ_AUDIT
    assert last.actor_operator_id is not None
    assert token  # the facts carry the key, never its token


def test_health_series_counts_ledger_events_and_position_holders() -> None:
    world = World.build()
    _, _, alice_s = world.user("alice", 10_000 * MICRO)
    _, _, bob_s = world.user("bob", 10_000 * MICRO)
    world.place(alice_s, Side.BUY, 2, 1_000 * MICRO)
    world.place(bob_s, Side.SELL, 2, 1_000 * MICRO)
    series = world.app.directory.health_series(world.ops)
    assert len(series.events_per_minute) == 30
    assert series.events_per_minute[-1] > 2  # two deposits and the trade's transfers
    assert sum(series.events_per_minute[:-1]) == 0
    assert dict(series.open_positions)[PERP] == 2
