"""Two ``ax serve`` processes on one PostgreSQL, one Redis and one ledger service.

The same requests (same idempotency keys) go to both processes at once: deposits move money
once and answer alike; an order is taken by the process holding its instrument's book (the
other answers 503 with Retry-After, and the retry there replays the first answer). Then the
owner is SIGKILLed with an order resting on its book: the survivor refuses the instrument
until the lease's TTL has passed, then takes it over, rebuilds the book from the shared
open orders (the resting order fills against a new one) and holds the only lease. Every
invariant holds and the projections equal a replay of the ledger.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from axadapters.ledger_service import RemoteLedger
from axadapters.sql import SqlStores
from axadapters.sql.engine import create_sql_engine
from axapp.repair import projection_drift
from axapp.runtime import stores_over
from axdomain.ids import AccountId
from axdomain.ledger.values import USD_LEDGER, TransferCode
from axdomain.ledger_ids import derive_tb_usd_account_id
from tests.scale.cluster import Cluster, cluster

MICRO = 1_000_000
LEASE_TTL_MS = 1_500
SYMBOL = "COMPUTEDESK-H100-PERP"
DEPOSITS = 3
MAX_RETRIES = 200  # 0.2 s apart: far past the TTL, so never taking over is a failure


def both(
    c: Cluster, method: str, path: str, token: str, body: dict[str, Any]
) -> list[httpx.Response]:
    """The same request sent to both processes at the same moment."""
    headers = {"Authorization": f"Bearer {token}"}

    def send(index: int) -> httpx.Response:
        return c.http[index].request(method, path, json=body, headers=headers)

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(send, (0, 1)))


def place_everywhere(c: Cluster, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """An order sent to both: the book's owner answers 200, the other 503 + Retry-After (or
    200 too, if the lease lapsed and moved in between: then a replay); sent to both again,
    every 200 is the first answer byte for byte."""
    first = both(c, "POST", "/v1/orders", token, body)
    statuses = sorted(r.status_code for r in first)
    assert statuses in ([200, 200], [200, 503]), [r.text for r in first]
    ok = [r for r in first if r.status_code == 200]
    for refused in (r for r in first if r.status_code == 503):
        assert refused.json()["code"] == "unavailable"
        assert int(refused.headers["Retry-After"]) >= 1
    for client in c.http:
        again = client.post("/v1/orders", json=body, headers={"Authorization": f"Bearer {token}"})
        assert again.status_code in (200, 503)
        if again.status_code == 200:
            assert again.content == ok[0].content
    return ok[0].json()


def onboard(c: Cluster, index: int, name: str) -> tuple[str, str]:
    ops = {"Authorization": f"Bearer {c.operator_token}"}
    client = c.http[index]
    made = client.post("/v1/admin/users", json={"username": name}, headers=ops)
    assert made.status_code == 200, made.text
    user, account = made.json()["user_id"], made.json()["default_account_id"]
    session = client.post(f"/v1/admin/users/{user}/sessions", headers=ops)
    assert session.status_code == 200, session.text
    return account, session.json()["token"]


def order(key: str, side: str, qty: int, price: int) -> dict[str, Any]:
    return {
        "symbol": SYMBOL,
        "side": side,
        "qty_lots": qty,
        "limit_price_micro_usd": price * MICRO,
        "client_order_id": key,
        "idempotency_key": key,
    }


def lease(engine: Any) -> tuple[int, int]:
    """(index of the owning process, fencing token) of the one instrument traded."""
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT owner, token FROM instrument_leases")).all()
    assert len(rows) == 1, rows  # one instrument traded, one lease row
    return (0 if rows[0].owner.startswith("serve-0/") else 1), rows[0].token


@pytest.mark.postgres
@pytest.mark.redis
def test_two_serves_share_money_and_books_and_survive_a_kill(tmp_path: Path) -> None:
    with cluster(tmp_path, serves=2, lease_ttl_ms=LEASE_TTL_MS) as c:
        engine = create_sql_engine(c.database_url)
        ledger = RemoteLedger.connect(c.env["AX_LEDGER_URL"])
        try:
            alice, alice_token = onboard(c, 0, "alice")
            bob, bob_token = onboard(c, 1, "bob")

            # Deposits: each key sent to both processes at once moves money once.
            amounts = {}
            for n in range(DEPOSITS):
                for account in (alice, bob):
                    key, amount = f"dep-{account}-{n}", (1_000 + n) * MICRO
                    body = {"amount_micro_usd": amount, "idempotency_key": key}
                    answers = both(
                        c, "POST", f"/v1/admin/accounts/{account}/deposits", c.operator_token, body
                    )
                    assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
                    assert answers[0].json() == answers[1].json()
                    amounts[key] = (account, amount)

            # Orders, each to both processes: alice rests sells, bob's buy fills two of them.
            place_everywhere(c, alice_token, order("a-sell-1", "sell", 1, 1_000))
            place_everywhere(c, alice_token, order("a-sell-2", "sell", 1, 1_001))
            place_everywhere(c, alice_token, order("a-sell-3", "sell", 2, 1_050))
            bought = place_everywhere(c, bob_token, order("b-buy-1", "buy", 2, 1_001))
            assert bought["order"]["status"] == "filled"
            assert [f["qty_lots"] for f in bought["fills"]] == [1, 1]

            # Kill the book's owner; a-sell-3 rests on its book.
            owner, token_before = lease(engine)
            survivor = 1 - owner
            c.serves[owner].kill()
            headers = {"Authorization": f"Bearer {bob_token}"}
            body = order("b-buy-2", "buy", 2, 1_050)
            client = c.http[survivor]
            answer = client.post("/v1/orders", json=body, headers=headers)
            for _ in range(MAX_RETRIES):  # the dead owner's lease has not lapsed yet
                if answer.status_code != 503:
                    break
                assert answer.json()["code"] == "unavailable"
                time.sleep(min(float(answer.headers["Retry-After"]), 0.2))
                answer = client.post("/v1/orders", json=body, headers=headers)
            assert answer.status_code == 200, answer.text
            taken = answer.json()
            # The rebuilt book held alice's resting order: the new buy fills against it.
            assert taken["order"]["status"] == "filled"
            assert taken["fills"][0]["price_micro_usd"] == 1_050 * MICRO
            assert lease(engine) == (survivor, token_before + 1)  # one change of owner

            # Money moved exactly once per deposit key, whoever answered.
            usd = ledger.query_transfers(USD_LEDGER)
            deposits = [t for t in usd if t.code == TransferCode.DEPOSIT]
            assert sorted(t.amount for t in deposits) == sorted(a for _, a in amounts.values())
            ops = {"Authorization": f"Bearer {c.operator_token}"}
            report = client.get("/v1/admin/invariants", headers=ops)
            assert report.status_code == 200, report.text
            assert report.json()["violations"] == []
            mine = {"Authorization": f"Bearer {alice_token}"}
            seen = client.get("/v1/balances", headers=mine).json()["usd_micro_usd"]
            ref = derive_tb_usd_account_id(AccountId.from_hex(alice))
            (on_ledger,) = ledger.lookup_accounts([ref])
            assert seen == on_ledger.credits_posted - on_ledger.debits_posted
            # ``ax repair --check``: the projections both processes wrote equal a replay.
            sql = SqlStores.on(engine)
            assert projection_drift(stores_over(sql), ledger) == []
        finally:
            ledger.close()
            engine.dispose()
