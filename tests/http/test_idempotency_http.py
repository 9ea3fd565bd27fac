"""Idempotent replay through HTTP: the same status and the same body bytes, money moved once;
another body under the same key is 409."""

from __future__ import annotations

from tests.app_support import MICRO
from tests.http.support import HttpWorld


def test_the_same_withdrawal_twice_moves_money_once() -> None:
    h = HttpWorld.build()
    _, account, session = h.user("alice", 1_000 * MICRO)
    body = {"amount_micro_usd": 100 * MICRO, "idempotency_key": "withdraw-1"}
    first = h.call(session, "POST", "/v1/withdrawals", json=body)
    again = h.call(session, "POST", "/v1/withdrawals", json=body)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    balance = h.ok(session, "GET", "/v1/balances")
    assert balance["usd_micro_usd"] == 900 * MICRO
    moves = h.ok(session, "GET", "/v1/transactions", params={"account_id": account})["items"]
    assert [m["amount_micro_usd"] for m in moves] == [1_000 * MICRO, -100 * MICRO]
    other = h.call(session, "POST", "/v1/withdrawals", json={**body, "amount_micro_usd": 1})
    assert other.status_code == 409
    assert (other.json()["code"], other.json()["field"]) == ("conflict", "idempotency_key")
    assert h.ok(session, "GET", "/v1/balances")["usd_micro_usd"] == 900 * MICRO


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
