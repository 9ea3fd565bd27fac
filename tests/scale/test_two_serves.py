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
from axadapters.sql.engine import create_sql_engine
from axdomain.ids import AccountId
from axdomain.ledger.values import USD_LEDGER, TransferCode
from axdomain.ledger_ids import derive_tb_usd_account_id
from tests.scale.cluster import Cluster, cluster

MICRO = 1_000_000
LEASE_TTL_MS = 1_500
SYMBOL = "COMPUTEDESK-H100-PERP"
DEPOSITS = 8


def both(
    c: Cluster, method: str, path: str, token: str, body: dict[str, Any]
) -> list[httpx.Response]:
    """The same request sent to both processes at the same moment."""
    headers = {"Authorization": f"Bearer {token}"}

    def send(index: int) -> httpx.Response:
        with c.client(index) as client:
            return client.request(method, path, json=body, headers=headers)

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(send, (0, 1)))


def place_everywhere(c: Cluster, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """An order sent to both: the book's owner answers 200, the other 503 + Retry-After;
    the refused one resent where it was refused answers 503 again (still owned), and resent
    to the owner replays the first answer byte for byte."""
    first = both(c, "POST", "/v1/orders", token, body)
    statuses = sorted(r.status_code for r in first)
    assert statuses in ([200, 200], [200, 503]), [r.text for r in first]
    ok = [r for r in first if r.status_code == 200]
    for refused in (r for r in first if r.status_code == 503):
        assert refused.json()["code"] == "unavailable"
        assert int(refused.headers["Retry-After"]) >= 1
    for index in (0, 1):
        with c.client(index) as client:
            again = client.post(
                "/v1/orders", json=body, headers={"Authorization": f"Bearer {token}"}
            )
        if again.status_code == 200:
            assert again.content == ok[0].content
    return ok[0].json()


def onboard(c: Cluster, index: int, name: str) -> tuple[str, str]:
    ops = {"Authorization": f"Bearer {c.operator_token}"}
    with c.client(index) as client:
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


def owner_index(c: Cluster, engine: Any) -> int:
    with engine.connect() as connection:
        owners = [r.owner for r in connection.execute(text("SELECT owner FROM instrument_leases"))]
    assert len(owners) == 1, owners  # one instrument traded, one lease row
    return 0 if owners[0].startswith("serve-0/") else 1


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
            owner = owner_index(c, engine)
            survivor = 1 - owner
            c.serves[owner].kill()
            headers = {"Authorization": f"Bearer {bob_token}"}
            body = order("b-buy-2", "buy", 2, 1_050)
            refused_at = time.monotonic()
            with c.client(survivor) as client:
                answer = client.post("/v1/orders", json=body, headers=headers)
                while answer.status_code == 503:  # the dead owner's lease has not lapsed yet
                    assert answer.headers["Retry-After"]
                    assert time.monotonic() - refused_at < 5 * LEASE_TTL_MS / 1000
                    time.sleep(0.1)
                    answer = client.post("/v1/orders", json=body, headers=headers)
                assert answer.status_code == 200, answer.text
                taken = answer.json()
                # The rebuilt book held alice's resting order: the new buy fills against it.
                assert taken["order"]["status"] == "filled"
                assert taken["fills"][0]["price_micro_usd"] == 1_050 * MICRO
                assert owner_index(c, engine) == survivor
                with engine.connect() as connection:
                    token = connection.execute(text("SELECT token FROM instrument_leases")).scalar()
                assert token == 2  # one change of owner

                # Money moved exactly once per deposit key, whoever answered.
                deposits = [
                    t for t in ledger.query_transfers(USD_LEDGER) if t.code == TransferCode.DEPOSIT
                ]
                assert len(deposits) == len(amounts)
                assert sorted(t.amount for t in deposits) == sorted(a for _, a in amounts.values())

                ops = {"Authorization": f"Bearer {c.operator_token}"}
                report = client.get("/v1/admin/invariants", headers=ops)
                assert report.status_code == 200, report.text
                assert report.json()["violations"] == []
                seen = client.get(
                    "/v1/balances", headers={"Authorization": f"Bearer {alice_token}"}
                )
                alice_usd = seen.json()["usd_micro_usd"]
            alice_ledger = ledger.lookup_accounts(
                [derive_tb_usd_account_id(AccountId.from_hex(alice))]
            )
            assert (
                alice_ledger
                and alice_usd == alice_ledger[0].credits_posted - alice_ledger[0].debits_posted
            )
            repair = c.ax("repair", "--check")
            assert (repair.returncode, repair.stdout.splitlines()[-1]) == (
                0,
                "drift: 0 finding(s)",
            ), repair.stderr
        finally:
            ledger.close()
            engine.dispose()
