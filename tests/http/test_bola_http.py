"""The BOLA matrix again, through HTTP: every user route x the caller situations of
``tests/unit/test_bola_matrix.py``, with that table's expected outcomes. A 200 where the
table says otherwise is a leak; the test fails on any difference. The three "not found"
bodies of an account are byte-identical."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from axdomain import AccountId, Permissions, Principal, UserId
from axdomain.orders import Side
from tests.app_support import MICRO
from tests.http.support import HttpWorld
from tests.unit.test_bola_matrix import EXPECTED, USE_CASES

READ_ONLY = ["list", "read"]
AX_PNL = "0000000000000003"
MISSING = "deadbeefdeadbeef"

# Over HTTP a dead credential is refused before any use case runs, mint_key included.
HTTP_EXPECTED = {
    **EXPECTED,
    "revoked key": {**EXPECTED["revoked key"], "mint_key": "unauth"},
    "expired key": {**EXPECTED["expired key"], "mint_key": "unauth"},
}
OUTCOMES = {
    (404, "account_not_found", "account_id"): "NO_GRANT",
    (404, "account_not_found", "key_id"): "hidden",
    (404, "order_not_found", "order_id"): "hidden",
    (403, "not_permitted"): "NOT_PERMITTED",
    (403, "key_scope"): "KEY_SCOPE",
    (403, "account_frozen"): "ACCOUNT_FROZEN",
    (403, "close_only"): "CLOSE_ONLY",
    (401, "unauthenticated"): "unauth",
}


@attrs.define
class Scene:
    h: HttpWorld
    token: str
    caller_default: str | None
    target: str
    order_id: str
    key_id: str
    grantee: str
    withdrawal_id: str
    client_host: str | None = None


class Setup:
    """Scene set-up straight through the use cases (only the probed call goes over HTTP)."""

    def __init__(self, h: HttpWorld) -> None:
        self.h, self.app, self.ops = h, h.world.app, h.world.ops

    def user(self, name: str, deposit_micro_usd: int = 0) -> tuple[UserId, str, str]:
        user, account = self.app.operator.onboard_user(self.ops, name)
        token = self.app.operator.issue_session(self.ops, user.user_id)
        if deposit_micro_usd:
            self.h.world.deposit(account.account_id, deposit_micro_usd)
        return user.user_id, str(account.account_id), token

    def session(self, token: str) -> Principal:
        return self.app.gateway.authenticate(token)

    def mint(self, token: str, account: str, scope: Permissions, **kw: Any) -> tuple[int, str]:
        key, secret = self.app.membership.mint_key(
            self.session(token), account_id=AccountId.from_hex(account), scope=scope, **kw
        )
        return key.key_id, secret

    def grant(self, token: str, account: str, user: UserId, scope: Permissions) -> None:
        self.app.membership.grant(self.session(token), AccountId.from_hex(account), user, scope)

    def revoke(self, token: str, account: str, user: UserId) -> None:
        self.app.membership.revoke(self.session(token), AccountId.from_hex(account), user)


def build_scene(situation: str) -> Scene:
    h = HttpWorld.build()
    s, app = Setup(h), h.world.app
    _, alice_default, alice = s.user("alice", 100_000 * MICRO)
    carol_user, carol_default, carol = s.user("carol", 100_000 * MICRO)
    dave_user, _, _ = s.user("dave")
    desk = str(app.identity.create_account(s.session(alice), "alice-desk").account_id)
    other = str(app.identity.create_account(s.session(alice), "alice-other").account_id)
    h.world.deposit(AccountId.from_hex(desk), 100_000 * MICRO)
    placed = h.world.place(
        s.session(alice),
        Side.BUY,
        1,
        1_000 * MICRO,
        account_id=AccountId.from_hex(desk),
        client_order_id="c-1",
    )
    order_id = f"{placed.order.order.order_id:016x}"  # type: ignore[attr-defined]
    alice_key, _ = s.mint(alice, desk, Permissions.READ_ONLY)
    hold = {"account_id": desk, "amount_micro_usd": MICRO, "idempotency_key": "hold"}
    [withdrawal_id] = h.ok(alice, "POST", "/v1/withdrawals", json=hold)["transfer_ids"]
    target, token, caller_default = desk, alice, alice_default
    host = None
    if situation in ("no grant", "grant on another account", "revoked grant"):
        token, caller_default = carol, carol_default
        if situation == "grant on another account":
            s.grant(alice, other, carol_user, Permissions.FULL_ACCESS)
        if situation == "revoked grant":
            s.grant(alice, desk, carol_user, Permissions.TRADER)
            s.revoke(alice, desk, carol_user)
    elif situation == "READ_ONLY grant":
        s.grant(alice, desk, carol_user, Permissions.READ_ONLY)
        token, caller_default = carol, carol_default
    elif situation == "REDUCE_OR_CLOSE-only grant":
        s.grant(alice, desk, carol_user, Permissions(can_reduce_or_close=True))
        token, caller_default = carol, carol_default
    elif situation == "narrower key scope (READ_ONLY key, full grant)":
        _, token = s.mint(alice, desk, Permissions.READ_ONLY)
    elif situation == "key of another account":
        _, token = s.mint(alice, alice_default, Permissions.TRADER)
    elif situation == "key whose user lost the grant":
        s.grant(alice, desk, carol_user, Permissions.TRADER)
        _, token = s.mint(carol, desk, Permissions.TRADER)
        s.revoke(alice, desk, carol_user)
        caller_default = carol_default
    elif situation == "revoked key":
        key_id, token = s.mint(alice, desk, Permissions.TRADER)
        h.ok(alice, "DELETE", f"/v1/api-keys/{key_id:016x}")
    elif situation == "expired key":
        now = h.world.clock.now
        _, token = s.mint(alice, desk, Permissions.TRADER, expires_at_ns=now + 10**9)
        h.world.clock.advance(2 * 10**9)
    elif situation == "key from outside its networks":
        _, token = s.mint(alice, desk, Permissions.TRADER, allowed_cidrs=["10.0.0.0/8"])
        host = "192.0.2.7"
    elif situation == "frozen account":
        flags = {"is_frozen": True, "is_close_only": False}
        h.ok(h.ops_token, "POST", f"/v1/admin/accounts/{desk}/flags", json=flags)
    elif situation == "close-only account":
        flags = {"is_frozen": False, "is_close_only": True}
        h.ok(h.ops_token, "POST", f"/v1/admin/accounts/{desk}/flags", json=flags)
    elif situation == "system account":
        target = AX_PNL
    elif situation == "another user's default account":
        token, caller_default, target = carol, carol_default, alice_default
    elif situation == "operator on a customer route":
        token, caller_default = h.ops_token, None
    key_id = f"{alice_key:016x}"
    if target != desk:
        order_id, key_id = f"{0xDEAD_BEEF:016x}", f"{0xDEAD_BEEF:016x}"
        withdrawal_id = f"{0xDEAD_BEEF:032x}"
    return Scene(
        h, token, caller_default, target, order_id, key_id, str(dave_user), withdrawal_id, host
    )


def request(scene: Scene, use_case: str) -> tuple[str, str, dict[str, Any]]:
    a, h = scene.target, scene.h
    read = {"params": {"account_id": a}}
    destination = scene.caller_default if scene.caller_default not in (None, a) else AX_PNL
    money = {"amount_micro_usd": MICRO, "idempotency_key": h.key()}
    limits = {
        "account_id": a,
        "max_open_positions": 3,
        "max_notional_micro_usd": 10**12,
        "monthly_loss_limit_micro_usd": 10**11,
    }
    table: dict[str, tuple[str, str, dict[str, Any]]] = {
        "balances": ("GET", "/v1/balances", read),
        "positions": ("GET", "/v1/positions", read),
        "orders": ("GET", "/v1/orders", read),
        "fills": ("GET", "/v1/fills", read),
        "transactions": ("GET", "/v1/transactions", read),
        "risk": ("GET", "/v1/risk", read),
        "place": ("POST", "/v1/orders", {"json": h.order_body(a)}),
        "cancel_by_id": ("POST", "/v1/orders/cancel", {"json": {"order_id": scene.order_id}}),
        "cancel_by_client_id": (
            "POST",
            "/v1/orders/cancel",
            {"json": {"client_order_id": "c-1", "account_id": a}},
        ),
        "replace": (
            "POST",
            "/v1/orders/replace",
            {
                "json": {
                    "order_id": scene.order_id,
                    "qty_lots": 2,
                    "limit_price_micro_usd": 1_000 * MICRO,
                }
            },
        ),
        "set_limits": ("PUT", "/v1/limits", {"json": limits}),
        "withdraw": ("POST", "/v1/withdrawals", {"json": {"account_id": a, **money}}),
        "transfer": (
            "POST",
            "/v1/transfers",
            {"json": {"from_account_id": a, "to_account_id": destination, **money}},
        ),
        "grant": (
            "POST",
            "/v1/grants",
            {"json": {"account_id": a, "user_id": scene.grantee, "permissions": READ_ONLY}},
        ),
        "revoke": ("DELETE", "/v1/grants", {"params": {"account_id": a, "user_id": scene.grantee}}),
        "mint_key": ("POST", "/v1/api-keys", {"json": {"account_id": a, "permissions": READ_ONLY}}),
        "revoke_key": ("DELETE", f"/v1/api-keys/{scene.key_id}", {}),
        "pending_withdrawals": ("GET", f"/v1/admin/accounts/{a}/withdrawals", {}),
        "post_withdrawal": (
            "POST",
            f"/v1/admin/accounts/{a}/withdrawals/{scene.withdrawal_id}/post",
            {"json": {"idempotency_key": h.key()}},
        ),
        "void_withdrawal": (
            "POST",
            f"/v1/admin/accounts/{a}/withdrawals/{scene.withdrawal_id}/void",
            {"json": {"idempotency_key": h.key()}},
        ),
    }
    return table[use_case]


def outcome(scene: Scene, use_case: str) -> str:
    method, path, kw = request(scene, use_case)
    client = scene.h.client if scene.client_host is None else scene.h.as_client(scene.client_host)
    response = client.request(
        method, path, headers={"Authorization": f"Bearer {scene.token}"}, **kw
    )
    if response.status_code == 200:
        return "allowed"
    body = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert set(body) == {"type", "title", "status", "detail", "code", "field", "value"}
    status, code, field = response.status_code, body["code"], body["field"]
    found = OUTCOMES.get((status, code, field)) or OUTCOMES.get((status, code))
    return found or f"refused:{status}:{code}"


@pytest.mark.parametrize("situation", list(HTTP_EXPECTED))
def test_every_route_decides_as_the_table_says(situation: str) -> None:
    got = {use_case: outcome(build_scene(situation), use_case) for use_case in USE_CASES}
    assert got == HTTP_EXPECTED[situation]


def test_zero_leaks_through_http() -> None:
    """Nothing is allowed outside the caller's live grant and key scope (the same set of
    situations as the use-case matrix)."""
    allowed = {s for s, row in HTTP_EXPECTED.items() if "allowed" in row.values()}
    assert allowed == {s for s, row in EXPECTED.items() if "allowed" in row.values()}


def test_the_three_not_found_bodies_are_byte_identical() -> None:
    h = HttpWorld.build()
    _, alice_default, alice = h.user("alice")
    _, _, carol = h.user("carol")
    desk = h.account(alice, "alice-desk")
    _, default_key = h.mint(alice, alice_default, READ_ONLY)
    no_grant = h.call(carol, "GET", "/v1/balances", params={"account_id": desk})
    other_key = h.call(default_key, "GET", "/v1/balances", params={"account_id": desk})
    missing = h.call(carol, "GET", "/v1/balances", params={"account_id": MISSING})
    for response in (no_grant, other_key, missing):
        assert response.status_code == 404
        assert response.json()["code"] == "account_not_found"
    assert no_grant.content == other_key.content
    assert missing.content == no_grant.content.replace(desk.encode(), MISSING.encode())
    assert set(no_grant.headers) == set(missing.headers)


def test_a_misspelt_account_id_never_reads_the_default_account() -> None:
    h = HttpWorld.build()
    _, _, alice = h.user("alice")
    desk = h.account(alice, "desk")
    read = h.call(alice, "GET", "/v1/balances", params={"acount_id": desk})
    assert read.status_code == 422
    assert read.json()["field"] == "acount_id"
    body = h.order_body(None, acount_id=desk)
    place = h.call(alice, "POST", "/v1/orders", json=body)
    assert place.status_code == 422
    assert (place.json()["code"], place.json()["field"]) == ("invalid_value", "acount_id")
