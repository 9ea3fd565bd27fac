"""Broken-object-level-authorization matrix: every account-scoped use case x every caller
situation, with the expected outcome written in the table. A cell that is allowed where the
table says otherwise is a leak; the test fails on any difference."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest

from axapp.gateway import AccessDenied, AuthenticationError
from axapp.use_cases.membership import KeyNotFound
from axapp.use_cases.orders import OrderNotFound
from axdomain import SYSTEM_ACCOUNTS, AccountId, Permissions, Principal
from axdomain.errors import DomainError
from axdomain.orders import Side
from tests.app_support import MICRO, World

READS = ("balances", "positions", "orders", "fills", "transactions", "risk")
OTHERS = (
    "place",
    "cancel_by_id",
    "cancel_by_client_id",
    "replace",
    "set_limits",
    "withdraw",
    "transfer",
    "grant",
    "revoke",
    "mint_key",
    "revoke_key",
)
OPERATOR_ONLY = ("pending_withdrawals", "post_withdrawal", "void_withdrawal")
USE_CASES = READS + OTHERS + OPERATOR_ONLY

CUSTOMERS_REFUSED = dict.fromkeys(OPERATOR_ONLY, "NOT_PERMITTED")  # operator actions
ALL_ALLOWED = {**dict.fromkeys(USE_CASES, "allowed"), **CUSTOMERS_REFUSED}
NO_GRANT = {
    **dict.fromkeys(USE_CASES, "NO_GRANT"),
    **dict.fromkeys(("cancel_by_id", "cancel_by_client_id", "replace", "revoke_key"), "hidden"),
    **CUSTOMERS_REFUSED,
}
KEY_NO_GRANT = {**NO_GRANT, "mint_key": "NOT_PERMITTED"}
UNAUTH = {**dict.fromkeys(USE_CASES, "unauth"), "mint_key": "NOT_PERMITTED"}

# situation -> expected outcome per use case ("hidden" = looks exactly like an unknown
# order / key; "unauth" = the credential is refused).
EXPECTED: dict[str, dict[str, str]] = {
    "owner session": ALL_ALLOWED,
    "no grant": NO_GRANT,
    "grant on another account": NO_GRANT,
    "revoked grant": NO_GRANT,
    "READ_ONLY grant": {
        **dict.fromkeys(USE_CASES, "NOT_PERMITTED"),
        **dict.fromkeys(READS, "allowed"),
        "mint_key": "allowed",
        **dict.fromkeys(("cancel_by_id", "cancel_by_client_id", "replace", "revoke_key"), "hidden"),
    },
    "REDUCE_OR_CLOSE-only grant": {
        **dict.fromkeys(USE_CASES, "NOT_PERMITTED"),
        "cancel_by_id": "allowed",
        "cancel_by_client_id": "allowed",
        "replace": "hidden",  # the new order would open: TRADE needed, the old order stays
        "revoke_key": "hidden",
    },
    "narrower key scope (READ_ONLY key, full grant)": {
        **dict.fromkeys(USE_CASES, "KEY_SCOPE"),
        **dict.fromkeys(READS, "allowed"),
        **dict.fromkeys(("cancel_by_id", "cancel_by_client_id", "replace", "revoke_key"), "hidden"),
        "mint_key": "NOT_PERMITTED",
        **CUSTOMERS_REFUSED,
    },
    "key of another account": {**KEY_NO_GRANT},
    "key whose user lost the grant": {**KEY_NO_GRANT},
    "revoked key": UNAUTH,
    "expired key": UNAUTH,
    "key from outside its networks": dict.fromkeys(USE_CASES, "unauth"),
    "frozen account": {
        **ALL_ALLOWED,
        "place": "ACCOUNT_FROZEN",
        "cancel_by_id": "hidden",
        "cancel_by_client_id": "hidden",
        "replace": "hidden",
        "withdraw": "ACCOUNT_FROZEN",
        "transfer": "ACCOUNT_FROZEN",
    },
    "close-only account": {
        **ALL_ALLOWED,
        "place": "CLOSE_ONLY",
        "replace": "hidden",
        "withdraw": "CLOSE_ONLY",
        "transfer": "CLOSE_ONLY",
    },
    "system account": NO_GRANT,
    "another user's default account": NO_GRANT,
    "operator on a customer route": {
        **dict.fromkeys(USE_CASES, "NOT_PERMITTED"),
        "revoke_key": "hidden",
        **dict.fromkeys(OPERATOR_ONLY, "allowed"),
    },
}


@attrs.define
class Scene:
    world: World
    caller: Principal | None
    target: AccountId
    order_id: int
    client_order_id: str
    key_id: int
    grantee: object
    withdrawal_id: int
    unauthenticated: bool = False


def build_scene(situation: str) -> Scene:
    w = World.build()
    app = w.app
    _, alice_default, alice = w.user("alice", 100_000 * MICRO)
    carol_user, carol_default, carol = w.user("carol", 100_000 * MICRO)
    dave_user, _, _ = w.user("dave")
    desk = app.identity.create_account(alice, "alice-desk").account_id
    other = app.identity.create_account(alice, "alice-other").account_id
    w.deposit(desk, 100_000 * MICRO)
    placed = w.place(alice, Side.BUY, 1, 1_000 * MICRO, account_id=desk, client_order_id="c-1")
    order_id = placed.order.order.order_id  # type: ignore[attr-defined]
    alice_key_id, _ = w.mint(alice, desk, Permissions.READ_ONLY)
    held = app.money.withdraw(alice, account_id=desk, amount_micro_usd=MICRO, idempotency_key="h")
    [withdrawal_id] = held.transfer_ids
    target, caller = desk, alice
    unauth = False
    if situation == "no grant":
        caller = carol
    elif situation == "grant on another account":
        app.membership.grant(alice, other, carol_user.user_id, Permissions.FULL_ACCESS)
        caller = carol
    elif situation == "revoked grant":
        app.membership.grant(alice, desk, carol_user.user_id, Permissions.TRADER)
        app.membership.revoke(alice, desk, carol_user.user_id)
        caller = carol
    elif situation == "READ_ONLY grant":
        app.membership.grant(alice, desk, carol_user.user_id, Permissions.READ_ONLY)
        caller = carol
    elif situation == "REDUCE_OR_CLOSE-only grant":
        app.membership.grant(alice, desk, carol_user.user_id, Permissions(can_reduce_or_close=True))
        caller = carol
    elif situation == "narrower key scope (READ_ONLY key, full grant)":
        _, token = w.mint(alice, desk, Permissions.READ_ONLY)
        caller = app.gateway.authenticate(token)
    elif situation == "key of another account":
        _, token = w.mint(alice, alice_default.account_id, Permissions.TRADER)
        caller = app.gateway.authenticate(token)
    elif situation == "key whose user lost the grant":
        app.membership.grant(alice, desk, carol_user.user_id, Permissions.TRADER)
        _, token = w.mint(carol, desk, Permissions.TRADER)
        caller = app.gateway.authenticate(token)
        app.membership.revoke(alice, desk, carol_user.user_id)
    elif situation == "revoked key":
        key_id, token = w.mint(alice, desk, Permissions.TRADER)
        caller = app.gateway.authenticate(token)
        app.membership.revoke_key(alice, key_id)
    elif situation == "expired key":
        now = w.clock.now
        _, token = w.mint(alice, desk, Permissions.TRADER, expires_at_ns=now + 10**9)
        caller = app.gateway.authenticate(token)
        w.clock.advance(2 * 10**9)
    elif situation == "key from outside its networks":
        _, token = w.mint(alice, desk, Permissions.TRADER, allowed_cidrs=["10.0.0.0/8"])
        with pytest.raises(AuthenticationError):
            app.gateway.authenticate(token, "192.0.2.7")
        unauth = True
    elif situation == "frozen account":
        app.operator.set_flags(w.ops, desk, is_frozen=True, is_close_only=False)
    elif situation == "close-only account":
        app.operator.set_flags(w.ops, desk, is_frozen=False, is_close_only=True)
    elif situation == "system account":
        target = SYSTEM_ACCOUNTS.AX_PNL
    elif situation == "another user's default account":
        caller, target = carol, alice_default.account_id
    elif situation == "operator on a customer route":
        caller = w.ops
    del carol_default
    if target != desk:
        order_id, alice_key_id, withdrawal_id = 0xDEAD_BEEF, 0xDEAD_BEEF, 0xDEAD_BEEF
    return Scene(
        w, caller, target, order_id, "c-1", alice_key_id, dave_user.user_id, withdrawal_id, unauth
    )


def call(scene: Scene, use_case: str) -> Callable[[], object]:
    app, p, a = scene.world.app, scene.caller, scene.target
    assert p is not None
    limits = {
        "max_open_positions": 3,
        "max_notional_micro_usd": 10**12,
        "monthly_loss_limit_micro_usd": 10**11,
    }
    key = scene.world.key()
    calls: dict[str, Callable[[], object]] = {
        "balances": lambda: app.reads.balances(p, a),
        "positions": lambda: app.reads.positions(p, a),
        "orders": lambda: app.reads.orders(p, a),
        "fills": lambda: app.reads.fills(p, a),
        "transactions": lambda: app.reads.transactions(p, a),
        "risk": lambda: app.reads.risk(p, a),
        "place": lambda: scene.world.place(p, Side.BUY, 1, 1_000 * MICRO, account_id=a),
        "cancel_by_id": lambda: app.orders.cancel(p, order_id=scene.order_id),
        "cancel_by_client_id": lambda: app.orders.cancel(
            p, client_order_id=scene.client_order_id, account_id=a
        ),
        "replace": lambda: app.orders.replace(
            p, order_id=scene.order_id, qty_lots=2, limit_price_micro_usd=1_000 * MICRO
        ),
        "set_limits": lambda: app.limits.set_limits(p, account_id=a, **limits),
        "withdraw": lambda: app.money.withdraw(
            p, account_id=a, amount_micro_usd=MICRO, idempotency_key=key
        ),
        "transfer": lambda: app.money.transfer(
            p,
            from_account_id=a,
            to_account_id=_other_default(scene),
            amount_micro_usd=MICRO,
            idempotency_key=key,
        ),
        "grant": lambda: app.membership.grant(p, a, scene.grantee, Permissions.READ_ONLY),
        "revoke": lambda: app.membership.revoke(p, a, scene.grantee),
        "mint_key": lambda: app.membership.mint_key(p, account_id=a, scope=Permissions.READ_ONLY),
        "revoke_key": lambda: app.membership.revoke_key(p, scene.key_id),
        "pending_withdrawals": lambda: app.money.pending_withdrawals(p, a),
        "post_withdrawal": lambda: app.money.post_withdrawal(p, a, scene.withdrawal_id, key),
        "void_withdrawal": lambda: app.money.void_withdrawal(p, a, scene.withdrawal_id, key),
    }
    return calls[use_case]


def _other_default(scene: Scene) -> AccountId:
    """A destination the caller may READ: the caller's own default account (or alice's)."""
    p = scene.caller
    user = getattr(p, "user_id", None)
    if user is None:
        return SYSTEM_ACCOUNTS.AX_PNL
    own: AccountId = user.as_default_account_id()
    return own if own != scene.target else SYSTEM_ACCOUNTS.AX_PNL


def outcome(run: Callable[[], object]) -> str:
    try:
        run()
    except AccessDenied as denied:
        return denied.reason.name
    except (OrderNotFound, KeyNotFound):
        return "hidden"
    except AuthenticationError:
        return "unauth"
    except DomainError as error:
        return f"refused:{type(error).__name__}"
    return "allowed"


@pytest.mark.parametrize("situation", list(EXPECTED))
def test_every_use_case_decides_as_the_table_says(situation: str) -> None:
    got = {}
    for use_case in USE_CASES:
        scene = build_scene(situation)
        if scene.unauthenticated:
            got[use_case] = "unauth"
            continue
        got[use_case] = outcome(call(scene, use_case))
    assert got == EXPECTED[situation]


def test_zero_leaks_summary() -> None:
    """The table itself allows nothing outside the caller's live grant and key scope."""
    allowed_situations = {
        s for s, row in EXPECTED.items() if any(v == "allowed" for v in row.values())
    }
    assert allowed_situations == {
        "owner session",
        "narrower key scope (READ_ONLY key, full grant)",
        "READ_ONLY grant",
        "REDUCE_OR_CLOSE-only grant",
        "frozen account",
        "close-only account",
        "operator on a customer route",  # only the operator-only withdrawal use cases
    }
    operator_row = EXPECTED["operator on a customer route"]
    assert {u for u, v in operator_row.items() if v == "allowed"} == set(OPERATOR_ONLY)
