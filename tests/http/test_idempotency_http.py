"""Idempotent replay through HTTP: the same status and the same body bytes, money moved once;
another body under the same key is 409."""

from __future__ import annotations

from tests.app_support import MICRO
from tests.http.support import HttpWorld


def test_the_same_withdrawal_twice_moves_money_once() -> None:
    h = HttpWorld.build()
    _, _, session = h.user("alice", 1_000 * MICRO)
    body = {"amount_micro_usd": 100 * MICRO, "idempotency_key": "withdraw-1"}
    first = h.call(session, "POST", "/v1/withdrawals", json=body)
    again = h.call(session, "POST", "/v1/withdrawals", json=body)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    balance = h.ok(session, "GET", "/v1/balances")
    assert (balance["usd_micro_usd"], balance["free_micro_usd"]) == (1_000 * MICRO, 900 * MICRO)
    assert balance["withdrawals_pending_micro_usd"] == 100 * MICRO
    other = h.call(session, "POST", "/v1/withdrawals", json={**body, "amount_micro_usd": 1})
    assert other.status_code == 409
    assert (other.json()["code"], other.json()["field"]) == ("conflict", "idempotency_key")
    assert h.ok(session, "GET", "/v1/balances")["withdrawals_pending_micro_usd"] == 100 * MICRO


def test_an_operator_lists_posts_and_voids_withdrawals() -> None:
    h = HttpWorld.build()
    _, account, session = h.user("alice", 1_000 * MICRO)
    admin = f"/v1/admin/accounts/{account}/withdrawals"
    ids = []
    for n in (1, 2):
        body = {"amount_micro_usd": n * 100 * MICRO, "idempotency_key": f"w-{n}"}
        [withdrawal] = h.ok(session, "POST", "/v1/withdrawals", json=body)["transfer_ids"]
        ids.append(withdrawal)
    listed = h.ok(h.ops_token, "GET", admin)
    assert listed["items"] == [
        {"withdrawal_id": ids[0], "amount_micro_usd": 100 * MICRO},
        {"withdrawal_id": ids[1], "amount_micro_usd": 200 * MICRO},
    ]
    key = {"idempotency_key": "resolve-1"}
    posted = h.call(h.ops_token, "POST", f"{admin}/{ids[0]}/post", json=key)
    assert posted.status_code == 200
    assert h.call(h.ops_token, "POST", f"{admin}/{ids[0]}/post", json=key).content == posted.content
    again = h.call(h.ops_token, "POST", f"{admin}/{ids[0]}/void", json={"idempotency_key": "r2"})
    assert again.status_code == 409
    assert (again.json()["field"], again.json()["detail"]) == ("withdrawal_id", "already posted")
    h.ok(h.ops_token, "POST", f"{admin}/{ids[1]}/void", json={"idempotency_key": "r3"})
    balance = h.ok(session, "GET", "/v1/balances")
    assert (balance["usd_micro_usd"], balance["free_micro_usd"]) == (900 * MICRO, 900 * MICRO)
    assert h.ok(h.ops_token, "GET", admin)["items"] == []
    moves = h.ok(session, "GET", "/v1/transactions", params={"account_id": account})["items"]
    assert [(m["phase"], m["amount_micro_usd"], m["held_micro_usd"]) for m in moves] == [
        ("single", 1_000 * MICRO, 0),
        ("pending", 0, 100 * MICRO),
        ("pending", 0, 200 * MICRO),
        ("post", -100 * MICRO, -100 * MICRO),
        ("void", 0, -200 * MICRO),
    ]
    customer = h.call(session, "POST", f"{admin}/{ids[1]}/post", json={"idempotency_key": "x"})
    assert customer.status_code in (401, 403)


def test_a_retried_order_returns_the_first_answer() -> None:
    h = HttpWorld.build()
    _, _, session = h.user("alice", 100_000 * MICRO)
    body = h.order_body(None)
    first = h.call(session, "POST", "/v1/orders", json=body)
    again = h.call(session, "POST", "/v1/orders", json=body)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert len(h.ok(session, "GET", "/v1/orders")["items"]) == 1


def test_a_refused_withdrawal_is_refused_again_and_moves_nothing() -> None:
    h = HttpWorld.build()
    _, _, session = h.user("alice", 10 * MICRO)
    body = {"amount_micro_usd": 100 * MICRO, "idempotency_key": "too-much"}
    first = h.call(session, "POST", "/v1/withdrawals", json=body)
    again = h.call(session, "POST", "/v1/withdrawals", json=body)
    assert first.status_code == again.status_code == 422
    assert first.json()["code"] == "insufficient_funds"
    assert first.content == again.content
    assert h.ok(session, "GET", "/v1/balances")["usd_micro_usd"] == 10 * MICRO
