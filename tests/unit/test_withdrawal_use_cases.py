"""Two-phase withdrawals through the use cases: a customer reserves, an operator posts or
voids; free cash, retries, conflicts and a restart."""

from __future__ import annotations

import pytest

from axapp.bootstrap import assemble
from axapp.gateway import AccessDenied
from axdomain.authorization import DenyReason
from axdomain.errors import Conflict, InvalidValue, NotFound
from axdomain.intake import InsufficientFunds
from tests.app_support import MICRO, PEPPER, World


@pytest.fixture
def w() -> World:
    return World.build()


def test_a_withdrawal_holds_free_cash_until_an_operator_posts_it(w: World) -> None:
    _, account, alice = w.user("alice", 1_000 * MICRO)
    a = account.account_id
    [withdrawal] = w.app.money.withdraw(
        alice, amount_micro_usd=300 * MICRO, idempotency_key="w"
    ).transfer_ids
    assert w.app.money.pending_withdrawals(w.ops, a).items == ((withdrawal, 300 * MICRO),)
    with pytest.raises(InsufficientFunds) as refused:
        w.app.money.withdraw(alice, amount_micro_usd=701 * MICRO, idempotency_key="w2")
    assert refused.value.field == "amount_micro_usd"
    posted = w.app.money.post_withdrawal(w.ops, a, withdrawal, "p")
    assert posted.amount_micro_usd == 300 * MICRO
    balances = w.app.reads.balances(alice)
    assert balances["usd_micro_usd"] == 700 * MICRO
    assert balances["free_micro_usd"] == 700 * MICRO
    assert balances["withdrawals_pending_micro_usd"] == 0
    assert w.app.money.pending_withdrawals(w.ops, a).items == ()
    kinds = [t["kind"] for t in w.app.reads.transactions(alice).items]
    assert kinds == ["deposit", "withdrawal", "withdrawal"]
    assert w.app.exchange.check_invariants() == []


def test_a_void_gives_the_cash_back(w: World) -> None:
    _, account, alice = w.user("alice", 1_000 * MICRO)
    [withdrawal] = w.app.money.withdraw(
        alice, amount_micro_usd=1_000 * MICRO, idempotency_key="w"
    ).transfer_ids
    assert w.app.reads.balances(alice)["free_micro_usd"] == 0
    w.app.money.void_withdrawal(w.ops, account.account_id, withdrawal, "v")
    balances = w.app.reads.balances(alice)
    assert (balances["usd_micro_usd"], balances["free_micro_usd"]) == (1_000 * MICRO,) * 2
    assert w.app.exchange.check_invariants() == []


def test_a_retried_post_replays_and_a_second_resolution_conflicts(w: World) -> None:
    _, account, alice = w.user("alice", 1_000 * MICRO)
    a = account.account_id
    [withdrawal] = w.app.money.withdraw(
        alice, amount_micro_usd=100 * MICRO, idempotency_key="w"
    ).transfer_ids
    first = w.app.money.post_withdrawal(w.ops, a, withdrawal, "p")
    assert w.app.money.post_withdrawal(w.ops, a, withdrawal, "p") == first
    for resolve, key in ((w.app.money.post_withdrawal, "p2"), (w.app.money.void_withdrawal, "v")):
        with pytest.raises(Conflict) as conflict:
            resolve(w.ops, a, withdrawal, key)
        assert (conflict.value.field, conflict.value.problem) == ("withdrawal_id", "already posted")
    assert w.app.reads.balances(alice)["usd_micro_usd"] == 900 * MICRO


def test_only_the_accounts_own_pending_withdrawal_resolves(w: World) -> None:
    _, alice_account, alice = w.user("alice", 1_000 * MICRO)
    _, bob_account, _ = w.user("bob", 1_000 * MICRO)
    [withdrawal] = w.app.money.withdraw(
        alice, amount_micro_usd=MICRO, idempotency_key="w"
    ).transfer_ids
    with pytest.raises(NotFound) as missing:
        w.app.money.post_withdrawal(w.ops, bob_account.account_id, withdrawal, "p")
    assert missing.value.field == "withdrawal_id"
    [deposit] = w.app.money.deposit(w.ops, alice_account.account_id, MICRO, "d").transfer_ids
    with pytest.raises(NotFound):  # custody's debit, not this account's withdrawal
        w.app.money.void_withdrawal(w.ops, alice_account.account_id, deposit, "v")
    [moved] = w.app.money.transfer(
        alice,
        from_account_id=alice_account.account_id,
        to_account_id=w.app.identity.create_account(alice, "alice-2").account_id,
        amount_micro_usd=MICRO,
        idempotency_key="t",
    ).transfer_ids
    with pytest.raises(InvalidValue, match="not a pending withdrawal"):
        w.app.money.void_withdrawal(w.ops, alice_account.account_id, moved, "v")
    with pytest.raises(InvalidValue) as bad:
        w.app.money.post_withdrawal(w.ops, alice_account.account_id, 0, "p")
    assert (bad.value.field, bad.value.value) == ("withdrawal_id", 0)
    assert w.app.money.pending_withdrawals(w.ops, alice_account.account_id).items == (
        (withdrawal, MICRO),
    )


def test_only_an_operator_resolves_a_withdrawal(w: World) -> None:
    _, account, alice = w.user("alice", 1_000 * MICRO)
    [withdrawal] = w.app.money.withdraw(
        alice, amount_micro_usd=MICRO, idempotency_key="w"
    ).transfer_ids
    with pytest.raises(AccessDenied) as denied:
        w.app.money.post_withdrawal(alice, account.account_id, withdrawal, "p")
    assert denied.value.reason is DenyReason.NOT_PERMITTED
    assert w.app.reads.balances(alice)["withdrawals_pending_micro_usd"] == MICRO


def test_reservations_survive_a_restart(w: World) -> None:
    _, account, alice = w.user("alice", 1_000 * MICRO)
    [withdrawal] = w.app.money.withdraw(
        alice, amount_micro_usd=250 * MICRO, idempotency_key="w"
    ).transfer_ids
    app = w.app
    w.app = assemble(app.stores, app.exchange.ledger, app.gateway._sessions, PEPPER)
    assert w.app.exchange.resume_matches_live()
    assert w.app.reads.balances(alice)["free_micro_usd"] == 750 * MICRO
    w.app.money.post_withdrawal(w.ops, account.account_id, withdrawal, "p")
    assert w.app.reads.balances(alice)["usd_micro_usd"] == 750 * MICRO
