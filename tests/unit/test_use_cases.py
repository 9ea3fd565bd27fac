"""Use cases through the one gateway: the rules of SPEC §3/§4/§11 and the regressions the
authorization review found (stacked reducing orders, resting-order margin, unlisted
contracts, key widening, customer grants on system accounts, stale key principals)."""

from __future__ import annotations

from pathlib import Path

import pytest

from axapp.bootstrap import application, create_operator
from axapp.config import Config
from axapp.gateway import AccessDenied, AuthenticationError
from axapp.runtime import open_runtime
from axapp.use_cases.orders import OrderNotFound
from axdomain import (
    SYSTEM_ACCOUNTS,
    AccountId,
    Conflict,
    DenyReason,
    InvalidValue,
    OrderStatus,
    Permissions,
    ProductId,
    UserId,
)
from axdomain.accounts import AccountKind
from axdomain.intake import InsufficientFunds, OrderRejected
from axdomain.membership import Grant
from axdomain.membership_rules import MembershipRefused, check_grant
from axdomain.orders import Side, TimeInForce
from tests.app_support import MICRO, PERP, World


def denied(reason: DenyReason) -> pytest.RaisesExc[AccessDenied]:
    return pytest.raises(AccessDenied, match=reason.value)


@pytest.fixture
def w() -> World:
    return World.build()


# ----------------------------------------------------------------- identity, membership


def test_create_account_makes_the_caller_its_ubo_with_full_access(w: World) -> None:
    alice_user, _, alice = w.user("alice")
    desk = w.app.identity.create_account(alice, "desk")
    assert desk.ubo_user_id == alice_user.user_id and desk.kind is AccountKind.CUSTOMER
    grant = w.app.stores.grants.get_grant(alice_user.user_id, desk.account_id)
    assert grant is not None and grant.permissions == Permissions.FULL_ACCESS
    names = [a["name"] for a in w.app.identity.whoami(alice).as_dict()["accounts"]]
    assert names == ["alice-default", "desk"] or sorted(names) == ["alice-default", "desk"]
    audit = w.app.stores.audit.records_for_account(desk.account_id)
    assert [r.action.value for r in audit] == ["manage"] and audit[0].allowed


def test_a_key_cannot_create_accounts_or_mint_keys(w: World) -> None:
    _, account, alice = w.user("alice")
    _, token = w.mint(alice, account.account_id, Permissions.FULL_ACCESS)
    key = w.app.gateway.authenticate(token)
    with denied(DenyReason.NOT_PERMITTED):
        w.app.identity.create_account(key, "by-key")
    with denied(DenyReason.NOT_PERMITTED):
        w.app.membership.mint_key(key, scope=Permissions.READ_ONLY)


def test_grant_at_most_the_granters_flags_never_the_ubo_never_a_system_account(w: World) -> None:
    alice_user, _, alice = w.user("alice")
    bob_user, _, bob = w.user("bob")
    carol_user, _, _ = w.user("carol")
    desk = w.app.identity.create_account(alice, "desk").account_id
    manager = Permissions(can_list=True, can_read=True, can_manage=True)
    w.app.membership.grant(alice, desk, bob_user.user_id, manager)
    with pytest.raises(MembershipRefused, match="more than the granter holds"):
        w.app.membership.grant(bob, desk, carol_user.user_id, Permissions.TRADER)
    assert w.app.membership.grant(bob, desk, carol_user.user_id, Permissions.READ_ONLY)
    with pytest.raises(MembershipRefused, match="UBO"):
        w.app.membership.revoke(bob, desk, alice_user.user_id)
    with pytest.raises(MembershipRefused, match="UBO"):
        w.app.membership.grant(bob, desk, alice_user.user_id, Permissions.READ_ONLY)
    assert w.app.membership.revoke(bob, desk, carol_user.user_id) is True
    # a customer grant on AX_PNL: no one holds MANAGE there, and the rule refuses it anyway
    with denied(DenyReason.NO_GRANT):
        w.app.membership.grant(alice, SYSTEM_ACCOUNTS.AX_PNL, bob_user.user_id, manager)
    pnl = w.app.stores.accounts.get_account(SYSTEM_ACCOUNTS.AX_PNL)
    assert pnl is not None
    full = Grant(alice_user.user_id, SYSTEM_ACCOUNTS.AX_PNL, Permissions.FULL_ACCESS)
    with pytest.raises(MembershipRefused, match="system account"):
        check_grant(full, pnl, bob_user.user_id, Permissions.READ_ONLY)


def test_regression_a_read_only_user_cannot_mint_a_wider_key(w: World) -> None:
    alice_user, _, alice = w.user("alice")
    bob_user, _, bob = w.user("bob")
    desk = w.app.identity.create_account(alice, "desk").account_id
    w.app.membership.grant(alice, desk, bob_user.user_id, Permissions.READ_ONLY)
    with pytest.raises(MembershipRefused, match="wider than the grant"):
        w.app.membership.mint_key(bob, account_id=desk, scope=Permissions.FULL_ACCESS)
    key_id, _ = w.mint(bob, desk, Permissions.READ_ONLY)
    assert w.app.stores.keys.get_key(key_id) is not None
    del alice_user


def test_regression_a_key_principal_built_before_revocation_stops_at_once(w: World) -> None:
    _, account, alice = w.user("alice", 1_000 * MICRO)
    key_id, token = w.mint(alice, account.account_id, Permissions.READ_ONLY)
    principal = w.app.gateway.authenticate(token)
    assert w.app.reads.balances(principal)["usd_micro_usd"] == 1_000 * MICRO
    w.app.membership.revoke_key(alice, key_id)
    with pytest.raises(AuthenticationError):
        w.app.reads.balances(principal)
    with pytest.raises(AuthenticationError):
        w.app.gateway.authenticate(token)


def test_key_expiry_and_network_allow_list(w: World) -> None:
    _, account, alice = w.user("alice")
    _, token = w.mint(
        alice,
        account.account_id,
        Permissions.READ_ONLY,
        expires_at_ns=w.clock.now + 10**9,
        allowed_cidrs=["10.1.0.0/16", "2001:db8::/32"],
    )
    assert w.app.gateway.authenticate(token, "10.1.2.3")
    assert w.app.gateway.authenticate(token, "2001:db8::1")
    for outside in ("10.2.0.1", None, "not-an-address"):
        with pytest.raises(AuthenticationError):
            w.app.gateway.authenticate(token, outside)
    inside = w.app.gateway.authenticate(token, "10.1.2.3")
    w.clock.advance(2 * 10**9)
    with pytest.raises(AuthenticationError):
        w.app.reads.balances(inside)
    with pytest.raises(InvalidValue, match="allowed_cidrs"):
        w.mint(alice, account.account_id, Permissions.READ_ONLY, allowed_cidrs=["10.1.2.3/8"])


def test_operator_actions_refuse_customers_and_customers_routes_refuse_operators(
    w: World,
) -> None:
    _, account, alice = w.user("alice")
    with denied(DenyReason.NOT_PERMITTED):
        w.app.operator.list_product(alice, "NOPE")
    with denied(DenyReason.NOT_PERMITTED):
        w.app.money.deposit(alice, account.account_id, MICRO, "k")
    with denied(DenyReason.NOT_PERMITTED):
        w.app.reads.balances(w.ops, account.account_id)
    with denied(DenyReason.NOT_PERMITTED):
        w.app.operator.invariants(alice)


# ----------------------------------------------------------------- orders


def test_regression_stacked_reducing_orders_cannot_open_a_position(w: World) -> None:
    alice_user, _, alice = w.user("alice", 1_000_000 * MICRO)
    carol_user, _, carol = w.user("carol")
    _, _, bob = w.user("bob", 1_000_000 * MICRO)
    desk = w.app.identity.create_account(alice, "desk").account_id
    w.deposit(desk, 1_000_000 * MICRO)
    w.place(bob, Side.SELL, 10, 100 * MICRO)
    w.place(alice, Side.BUY, 10, 100 * MICRO, account_id=desk)  # desk is long 10
    w.app.membership.grant(alice, desk, carol_user.user_id, Permissions(can_reduce_or_close=True))
    first = w.place(carol, Side.SELL, 6, 200 * MICRO, account_id=desk)
    assert first.order.order.reduce_only  # type: ignore[attr-defined]
    # 6 more would take 12 off a long of 10: not reducing, so TRADE is needed
    with denied(DenyReason.NOT_PERMITTED):
        w.place(carol, Side.SELL, 6, 200 * MICRO, account_id=desk)
    assert w.place(carol, Side.SELL, 4, 200 * MICRO, account_id=desk)
    del alice_user


def test_fill_time_guard_cancels_a_reduce_only_order_that_would_flip(w: World) -> None:
    _, _, alice = w.user("alice", 1_000_000 * MICRO)
    _, _, bob = w.user("bob", 1_000_000 * MICRO)
    w.place(bob, Side.SELL, 5, 100 * MICRO)
    w.place(alice, Side.BUY, 5, 100 * MICRO)  # alice long 5
    reducing = w.place(alice, Side.SELL, 5, 300 * MICRO)  # rests, reduce-only
    order = reducing.order.order  # type: ignore[attr-defined]
    assert order.reduce_only
    w.place(alice, Side.SELL, 5, 100 * MICRO, tif=TimeInForce.IOC)  # no buyer: cancelled
    w.place(bob, Side.BUY, 5, 100 * MICRO)  # bob rests a bid
    w.place(alice, Side.SELL, 5, 100 * MICRO)  # alice flat now
    w.place(bob, Side.BUY, 5, 300 * MICRO)  # would make alice short via the reduce-only order
    after = w.app.stores.orders.get_order(order.order_id)
    assert after is not None and after.status is OrderStatus.CANCELLED
    assert after.status_reason is not None and "reduce-only" in after.status_reason
    assert w.app.exchange.book_matches_log()
    assert w.app.exchange.positions(alice.user_id.as_default_account_id()) == {}  # type: ignore[union-attr]


def test_regression_margin_covers_every_resting_opening_order(w: World) -> None:
    _, _, alice = w.user("alice", 10_000 * MICRO)
    # notional 100,000 at 10 % margin needs all 10,000 of free cash
    w.place(alice, Side.BUY, 1, 100_000 * MICRO)
    assert w.app.reads.balances(alice)["free_micro_usd"] == 0
    for _ in range(19):
        with pytest.raises(InsufficientFunds, match="qty_lots"):
            w.place(alice, Side.BUY, 1, 100_000 * MICRO)
    resting = w.app.stores.orders.resting_orders_for_account(
        alice.user_id.as_default_account_id()  # type: ignore[union-attr]
    )
    assert len(resting) == 1
    with pytest.raises(InsufficientFunds):
        w.app.money.withdraw(alice, amount_micro_usd=1, idempotency_key="wd")


def test_regression_unlisted_symbols_usd_products_and_delisted_contracts_take_no_orders(
    w: World,
) -> None:
    _, _, alice = w.user("alice", 10_000 * MICRO)
    with pytest.raises(OrderRejected, match="no such instrument"):
        w.place(alice, Side.BUY, 1, MICRO, symbol="UNLISTED-PERP")
    with pytest.raises(InvalidValue):
        w.app.operator.list_instrument(w.ops, symbol="USD-PERP", product_id=1, contract_date=0)
    with pytest.raises(InvalidValue, match="no such product"):
        w.app.operator.list_instrument(
            w.ops, symbol="NEW-PERP", product_id=ProductId(2001).value, contract_date=0
        )
    instrument = w.app.stores.products.get_instrument(PERP)
    assert instrument is not None
    w.app.operator.list_instrument(
        w.ops,
        symbol="H100-DATED",
        product_id=instrument.product.value,
        contract_date=20300115,
        expiration_ns=w.clock.now + 10**9,
    )
    w.clock.advance(2 * 10**9)
    with pytest.raises(OrderRejected, match="expired"):
        w.place(alice, Side.BUY, 1, MICRO, symbol="H100-DATED")
    assert w.app.stores.orders.all_orders() == []


def test_cancel_by_client_id_replace_atomically_and_conflict_when_not_open(w: World) -> None:
    _, account, alice = w.user("alice", 100_000 * MICRO)
    w.place(alice, Side.BUY, 2, 100 * MICRO, client_order_id="c1")
    replaced = w.app.orders.replace(
        alice, client_order_id="c1", qty_lots=3, limit_price_micro_usd=101 * MICRO
    )
    new = replaced.order.order
    assert (new.client_order_id, new.qty_lots, new.status) == ("c1", 3, OrderStatus.OPEN)
    cancelled = w.app.orders.cancel(alice, client_order_id="c1")
    assert cancelled.order.status is OrderStatus.CANCELLED
    with pytest.raises(Conflict, match="cancelled"):
        w.app.orders.cancel(alice, order_id=new.order_id)
    with pytest.raises(OrderNotFound):
        w.app.orders.cancel(alice, order_id=12345)
    # a replace whose new order is refused leaves the old order open, on the book
    w.place(alice, Side.BUY, 1, 100 * MICRO, client_order_id="c2")
    with pytest.raises(InsufficientFunds):
        w.app.orders.replace(
            alice, client_order_id="c2", qty_lots=10**6, limit_price_micro_usd=100 * MICRO
        )
    kept = w.app.stores.orders.get_by_client_order_id(account.account_id, "c2")
    assert kept is not None and kept.status is OrderStatus.OPEN
    assert w.app.exchange.book_matches_log()


def test_freezing_cancels_resting_orders_and_refuses_money_out(w: World) -> None:
    _, account, alice = w.user("alice", 100_000 * MICRO)
    w.place(alice, Side.BUY, 2, 100 * MICRO)
    w.app.operator.set_flags(w.ops, account.account_id, is_frozen=True, is_close_only=False)
    assert w.app.stores.orders.resting_orders_for_account(account.account_id) == []
    assert w.app.exchange.book_matches_log()
    with denied(DenyReason.ACCOUNT_FROZEN):
        w.app.money.withdraw(alice, amount_micro_usd=1, idempotency_key="k")
    assert w.app.reads.balances(alice)["usd_micro_usd"] == 100_000 * MICRO


def test_a_fill_refused_for_a_close_only_maker_cancels_it_with_the_reason(w: World) -> None:
    _, maker_account, maker = w.user("maker", 100_000 * MICRO)
    _, _, taker = w.user("taker", 100_000 * MICRO)
    resting = w.place(maker, Side.BUY, 3, 100 * MICRO).order.order  # type: ignore[attr-defined]
    w.app.operator.set_flags(w.ops, maker_account.account_id, is_frozen=False, is_close_only=True)
    placed = w.place(taker, Side.SELL, 3, 100 * MICRO)
    assert placed.fills == ()  # type: ignore[attr-defined]
    after = w.app.stores.orders.get_order(resting.order_id)
    assert after is not None and after.status is OrderStatus.CANCELLED
    assert after.status_reason is not None and "close-only" in after.status_reason
    assert w.app.exchange.book_matches_log()
    assert w.app.exchange.check_invariants() == []


# ----------------------------------------------------------------- money


def test_withdrawal_retry_posts_once_and_another_body_conflicts(w: World) -> None:
    _, account, alice = w.user("alice", 1_000 * MICRO)
    first = w.app.money.withdraw(alice, amount_micro_usd=100 * MICRO, idempotency_key="w1")
    again = w.app.money.withdraw(alice, amount_micro_usd=100 * MICRO, idempotency_key="w1")
    assert first == again and len(first.transfer_ids) == 1
    balances = w.app.reads.balances(alice)
    assert balances["usd_micro_usd"] == 1_000 * MICRO  # reserved, not posted yet
    assert balances["free_micro_usd"] == 900 * MICRO
    assert balances["withdrawals_pending_micro_usd"] == 100 * MICRO
    with pytest.raises(Conflict, match="different request"):
        w.app.money.withdraw(alice, amount_micro_usd=5, idempotency_key="w1")
    transactions = w.app.reads.transactions(alice).items
    assert [t["kind"] for t in transactions] == ["deposit", "withdrawal"]
    del account


def test_transfer_needs_transfer_on_the_source_and_read_on_the_destination(w: World) -> None:
    alice_user, alice_default, alice = w.user("alice", 1_000 * MICRO)
    _, bob_default, bob = w.user("bob", 1_000 * MICRO)
    with denied(DenyReason.NO_GRANT):
        w.app.money.transfer(
            alice,
            from_account_id=alice_default.account_id,
            to_account_id=bob_default.account_id,
            amount_micro_usd=MICRO,
            idempotency_key="t1",
        )
    assert w.app.reads.balances(bob)["usd_micro_usd"] == 1_000 * MICRO
    desk = w.app.identity.create_account(alice, "desk").account_id
    moved = w.app.money.transfer(
        alice,
        from_account_id=alice_default.account_id,
        to_account_id=desk,
        amount_micro_usd=250 * MICRO,
        idempotency_key="t2",
    )
    assert len(moved.transfer_ids) == 1
    assert w.app.reads.balances(alice, desk)["usd_micro_usd"] == 250 * MICRO
    assert w.app.exchange.check_invariants() == []
    del alice_user


@pytest.mark.parametrize(
    ("field", "call"),
    [
        (
            "side",
            lambda w, p: w.app.orders.place(
                p,
                symbol=PERP,
                side="buy",
                qty_lots=1,
                limit_price_micro_usd=1,
                client_order_id="c",
                idempotency_key="k",
            ),
        ),
        (
            "qty_lots",
            lambda w, p: w.app.orders.place(
                p,
                symbol=PERP,
                side=Side.BUY,
                qty_lots=True,
                limit_price_micro_usd=1,
                client_order_id="c",
                idempotency_key="k",
            ),
        ),
        (
            "limit_price_micro_usd",
            lambda w, p: w.app.orders.place(
                p,
                symbol=PERP,
                side=Side.BUY,
                qty_lots=1,
                limit_price_micro_usd=1.5,
                client_order_id="c",
                idempotency_key="k",
            ),
        ),
        (
            "symbol",
            lambda w, p: w.app.orders.place(
                p,
                symbol=1001,
                side=Side.BUY,
                qty_lots=1,
                limit_price_micro_usd=1,
                client_order_id="c",
                idempotency_key="k",
            ),
        ),
        ("account_id", lambda w, p: w.app.reads.balances(p, UserId(0x0190_0000_0000_0001))),
        (
            "amount_micro_usd",
            lambda w, p: w.app.money.withdraw(p, amount_micro_usd=False, idempotency_key="k"),
        ),
        (
            "amount_micro_usd",
            lambda w, p: w.app.money.withdraw(p, amount_micro_usd=2.0, idempotency_key="k"),
        ),
        (
            "idempotency_key",
            lambda w, p: w.app.money.withdraw(p, amount_micro_usd=1, idempotency_key="x" * 129),
        ),
        (
            "user_id",
            lambda w, p: w.app.membership.grant(
                p,
                p.user_id.as_default_account_id(),
                AccountId(0x0190_0000_0000_0009),
                Permissions.READ_ONLY,
            ),
        ),
        (
            "permissions",
            lambda w, p: w.app.membership.grant(
                p, p.user_id.as_default_account_id(), p.user_id, ["read"]
            ),
        ),
        ("limit", lambda w, p: w.app.reads.orders(p, limit=10**9)),
        ("cursor", lambda w, p: w.app.reads.fills(p, cursor="9" * 400)),
    ],
)
def test_wrong_types_are_refused_naming_the_field(w: World, field: str, call: object) -> None:
    _, _, alice = w.user("alice", 1_000 * MICRO)
    audit_before = len(w.app.stores.audit.all_records())
    with pytest.raises(InvalidValue) as error:
        call(w, alice)  # type: ignore[operator]
    assert error.value.field == field
    assert len(w.app.stores.audit.all_records()) == audit_before
    assert w.app.stores.orders.all_orders() == []


def test_restart_rebuilds_the_book_from_resting_orders(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path)
    with open_runtime(config) as runtime:
        app = application(runtime)
        ops = app.gateway.authenticate(create_operator(app.stores, "ops", app.gateway_pepper))
        user, account = app.operator.onboard_user(ops, "alice")
        session = app.gateway.authenticate(app.operator.issue_session(ops, user.user_id))
        app.money.deposit(ops, account.account_id, 100_000 * MICRO, "d1")
        placed = app.orders.place(
            session,
            symbol=PERP,
            side=Side.BUY,
            qty_lots=2,
            limit_price_micro_usd=100 * MICRO,
            client_order_id="c1",
            idempotency_key="o1",
        )
        order_id = placed.order.order.order_id
    with open_runtime(config) as runtime:
        app = application(runtime)
        assert app.exchange.book.remaining(order_id) == 2
        assert app.exchange.book_matches_log()
        assert app.exchange.check_invariants() == []


def test_delisting_closes_every_account_of_the_contract_on_the_ledger(w: World) -> None:
    _, _, alice = w.user("alice", 100_000 * MICRO)
    _, _, bob = w.user("bob", 100_000 * MICRO)
    perp = w.app.stores.products.get_instrument(PERP)
    assert perp is not None
    w.app.operator.list_instrument(
        w.ops, symbol="H100-MAR", product_id=perp.product.value, contract_date=20300315
    )
    w.place(bob, Side.SELL, 2, 100 * MICRO, symbol="H100-MAR")
    w.place(alice, Side.BUY, 2, 100 * MICRO, symbol="H100-MAR")
    with pytest.raises(Conflict, match="qty of"):
        w.app.operator.delist(w.ops, "H100-MAR")  # positions are open: the fence holds
    w.app.operator.settlement(w.ops, "H100-MAR", price_micro_usd=101 * MICRO, idempotency_key="s")
    w.app.operator.delist(w.ops, "H100-MAR")
    instrument = w.app.stores.products.get_instrument("H100-MAR")
    assert instrument is not None and instrument.delisted_at_ns is not None
    contract = instrument.contract
    ledger = w.app.exchange.ledger
    accounts = [
        *ledger.query_accounts(contract.qty_ledger, contract.date.value),
        *ledger.query_accounts(contract.qty_ledger + 1, contract.date.value),
    ]
    assert accounts and all(a.is_closed for a in accounts)
    with pytest.raises(OrderRejected, match="delisted"):
        w.place(alice, Side.BUY, 1, 100 * MICRO, symbol="H100-MAR")
    w.app.operator.delist(w.ops, "H100-MAR")  # re-running is harmless
    assert w.app.exchange.check_invariants() == []
    assert w.app.exchange.resume_matches_live()
