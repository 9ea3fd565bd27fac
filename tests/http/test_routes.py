"""Every admin route and the user routes of SPEC §12 once, end to end, with the minimal
fields of each answer; and the wire rules (401, 413, strict queries, ids)."""

from __future__ import annotations

from tests.app_support import MICRO
from tests.http.support import PERP, HttpWorld

DATED = "COMPUTEDESK-H100-JAN-2026"


def test_the_contract_lifecycle_through_the_admin_routes() -> None:
    h = HttpWorld.build()
    ops = h.ops_token
    alice_id, alice_acct, alice = h.user("alice", 100_000 * MICRO)
    _, bob_acct, bob = h.user("bob", 100_000 * MICRO)
    product = h.ok(ops, "POST", "/v1/admin/products", json={"name": "COMPUTEDESK-RTX6000"})
    assert isinstance(product["product_id"], int)
    perp = h.ok(alice, "GET", "/v1/positions")  # empty yet
    assert perp == {"account_id": alice_acct, "positions": []}
    listing = {"symbol": DATED, "product_id": 1001, "contract_date": 20260130}
    listed = h.ok(ops, "POST", "/v1/admin/instruments", json=listing)
    assert (listed["symbol"], listed["product_id"], listed["contract_date"]) == (
        DATED,
        1001,
        20260130,
    )
    assert listed["expiration_ns"] is None
    sell = h.ok(bob, "POST", "/v1/orders", json=h.order_body(None, symbol=DATED, side="sell"))
    assert sell["order"]["status"] == "open" and sell["fills"] == []
    buy = h.ok(alice, "POST", "/v1/orders", json=h.order_body(None, symbol=DATED))
    assert buy["order"]["status"] == "filled"
    fill = buy["fills"][0]
    assert {
        "order_id",
        "account_id",
        "symbol",
        "side",
        "qty_lots",
        "price_micro_usd",
        "fee_micro_usd",
        "is_maker",
    } <= set(fill)
    assert fill["account_id"] == alice_acct and "user_id" not in fill
    assert buy["order"]["user_id"] == alice_id
    held = h.ok(alice, "GET", "/v1/positions")["positions"]
    assert [(p["symbol"], p["qty_lots"]) for p in held] == [(DATED, 1)]
    assert h.ok(bob, "GET", "/v1/positions")["positions"][0]["qty_lots"] == -1
    h.ok(bob, "POST", "/v1/orders", json=h.order_body(None, side="sell", qty_lots=2))
    h.ok(alice, "POST", "/v1/orders", json=h.order_body(None, qty_lots=2))
    funding = {"mark_price_micro_usd": 1_000 * MICRO, "rate_ppb": 1_000, "idempotency_key": "f1"}
    funded = h.ok(ops, "POST", f"/v1/admin/instruments/{PERP}/funding", json=funding)
    assert funded["transfer_ids"] and all(len(t) == 32 for t in funded["transfer_ids"])
    settle = {"price_micro_usd": 1_100 * MICRO, "idempotency_key": "s1"}
    settled = h.ok(ops, "POST", f"/v1/admin/instruments/{DATED}/settlement", json=settle)
    assert settled["transfer_ids"]
    delisted = h.ok(ops, "POST", f"/v1/admin/instruments/{DATED}/delist")
    assert delisted["delisted_at_ns"] is not None
    late = h.call(alice, "POST", "/v1/orders", json=h.order_body(None, symbol=DATED))
    assert (late.status_code, late.json()["code"], late.json()["field"]) == (
        422,
        "invalid_value",
        "symbol",
    )
    fills = h.ok(alice, "GET", "/v1/fills", params={"limit": 1})
    assert len(fills["items"]) == 1 and fills["next_cursor"] is not None
    rest = h.ok(alice, "GET", "/v1/fills", params={"limit": 1, "cursor": fills["next_cursor"]})
    assert rest["items"] != fills["items"]
    audit = h.ok(ops, "GET", "/v1/admin/audit", params={"account_id": alice_acct, "limit": 500})
    assert audit["items"] and all(i["account_id"] == alice_acct for i in audit["items"])
    report = h.ok(ops, "GET", "/v1/admin/invariants")
    assert report["violations"] == [] and len(report["counts"]) == 12
    risk = h.ok(alice, "GET", "/v1/risk")
    assert risk["account_id"] == alice_acct
    del bob_acct


def test_user_routes_and_their_minimal_fields() -> None:
    h = HttpWorld.build()
    _, default, alice = h.user("alice", 1_000 * MICRO)
    carol_id, carol_acct, carol = h.user("carol")
    desk = h.ok(alice, "POST", "/v1/accounts", json={"name": "desk"})
    assert desk["name"] == "desk" and len(desk["account_id"]) == 16
    me = h.ok(alice, "GET", "/v1/whoami")
    assert {a["account_id"] for a in me["accounts"]} == {default, desk["account_id"]}
    limits = {
        "account_id": desk["account_id"],
        "max_open_positions": 2,
        "max_notional_micro_usd": 10**9,
        "monthly_loss_limit_micro_usd": 10**8,
    }
    assert h.ok(alice, "PUT", "/v1/limits", json=limits)["max_open_positions"] == 2
    moved = h.ok(
        alice,
        "POST",
        "/v1/transfers",
        json={
            "from_account_id": default,
            "to_account_id": desk["account_id"],
            "amount_micro_usd": 10 * MICRO,
            "idempotency_key": "t1",
        },
    )
    assert moved["amount_micro_usd"] == 10 * MICRO
    assert h.ok(alice, "GET", "/v1/balances", params={"account_id": desk["account_id"]}) == {
        "account_id": desk["account_id"],
        "usd_micro_usd": 10 * MICRO,
        "free_micro_usd": 10 * MICRO,
        "withdrawals_pending_micro_usd": 0,
    }
    h.grant(alice, desk["account_id"], carol_id, ["list", "read"])
    seen = h.ok(carol, "GET", "/v1/whoami")["accounts"]
    assert {a["account_id"] for a in seen} == {carol_acct, desk["account_id"]}
    h.revoke(alice, desk["account_id"], carol_id)
    key_id, token = h.mint(alice, default, ["list", "read", "trade"])
    placed = h.ok(token, "POST", "/v1/orders", json=h.order_body(None, client_order_id="c-9"))
    cancelled = h.ok(token, "POST", "/v1/orders/cancel", json={"client_order_id": "c-9"})
    assert cancelled["status"] == "cancelled"
    assert cancelled["order_id"] == placed["order"]["order_id"]
    again = h.call(token, "POST", "/v1/orders/cancel", json={"order_id": cancelled["order_id"]})
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    resting = h.ok(token, "POST", "/v1/orders", json=h.order_body(None, client_order_id="c-10"))
    replaced = h.ok(
        token,
        "POST",
        "/v1/orders/replace",
        json={
            "order_id": resting["order"]["order_id"],
            "qty_lots": 2,
            "limit_price_micro_usd": 900 * MICRO,
        },
    )
    assert replaced["order"]["qty_lots"] == 2
    open_orders = h.ok(token, "GET", "/v1/orders", params={"status": "open"})["items"]
    assert [o["client_order_id"] for o in open_orders] == ["c-10"]
    assert h.ok(alice, "DELETE", f"/v1/api-keys/{key_id}") == {"revoked": True}
    assert h.call(token, "GET", "/v1/balances").status_code == 401


def test_wire_rules() -> None:
    h = HttpWorld.build()
    _, _, alice = h.user("alice")
    assert h.call(None, "GET", "/v1/balances").json()["code"] == "unauthenticated"
    big = h.call(alice, "POST", "/v1/accounts", content=b"{" + b" " * 70_000 + b"}")
    assert big.status_code == 413
    for params in ({"account_id": "ABCDEF0123456789"}, {"account_id": "0000000000000000"}):
        bad = h.call(alice, "GET", "/v1/balances", params=params)
        assert (bad.status_code, bad.json()["field"]) == (422, "account_id")
    twice = h.call(alice, "GET", "/v1/balances?account_id=a&account_id=b")
    assert twice.status_code == 422
    limit = h.call(alice, "GET", "/v1/orders", params={"limit": 501})
    assert (limit.status_code, limit.json()["field"]) == (422, "limit")
    side = h.call(alice, "POST", "/v1/orders", json=h.order_body(None, side="BUY"))
    assert (side.status_code, side.json()["field"]) == (422, "side")
    text_number = h.call(alice, "POST", "/v1/orders", json=h.order_body(None, qty_lots="1"))
    assert (text_number.status_code, text_number.json()["field"]) == (422, "qty_lots")
    customer_on_admin = h.call(alice, "GET", "/v1/admin/invariants")
    assert (customer_on_admin.status_code, customer_on_admin.json()["code"]) == (
        403,
        "not_permitted",
    )
    spec = h.client.get("/openapi.json")
    assert spec.status_code == 200 and spec.json()["openapi"].startswith("3.1")
