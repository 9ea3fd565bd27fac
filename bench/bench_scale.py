"""Authorized reads/s and order placements/s with one vs two ``ax serve`` processes on the
same stores: one PostgreSQL database, one Redis database number, one ledger service.

Each configuration gets fresh stores and its processes (``tests/scale/cluster.py``). Client
threads (keep-alive, one connection each) spread over the processes round-robin; each
thread acts for its own user. Rows per configuration:

* ``/healthz`` — the floor: no authentication, no use case, measured in the same run;
* ``GET /v1/balances`` — authenticate, authorize (audited), fold the ledger's tail, read;
* ``POST /v1/orders`` over six instruments — thread ``i`` trades instrument ``i % 6`` on
  process ``i % processes``, so each process holds the books it is asked for;
* ``POST /v1/orders`` on one instrument — one book, so one owner: a 503 is retried at the
  next process (the owner), as a client or balancer would.

Needs PostgreSQL and Redis as the tests do. Prints figures only; no assertion on speed.

Usage: python bench/bench_scale.py [requests_per_thread] [threads]   (default 100, 8)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.scale.cluster import Cluster, cluster

MICRO = 1_000_000
SYMBOLS = (
    "COMPUTEDESK-H100-PERP",
    "COMPUTEDESK-A100-PERP",
    "COMPUTEDESK-H200-PERP",
    "COMPUTEDESK-L40S-PERP",
    "COMPUTEDESK-B200-PERP",
    "COMPUTEDESK-MI300X-PERP",
)
LEASE_TTL_MS = 5_000
WARMUP_REQUESTS = 10


def users(c: Cluster, count: int) -> list[str]:
    """``count`` funded users; their session tokens."""
    admin = {"Authorization": f"Bearer {c.operator_token}"}
    http = c.http[0]
    tokens = []
    for n in range(count):
        made = http.post("/v1/admin/users", json={"username": f"u{n}"}, headers=admin).json()
        account = made["default_account_id"]
        deposit = {"amount_micro_usd": 10**9 * MICRO, "idempotency_key": f"fund-{n}"}
        http.post(f"/v1/admin/accounts/{account}/deposits", json=deposit, headers=admin)
        session = http.post(f"/v1/admin/users/{made['user_id']}/sessions", headers=admin)
        tokens.append(session.json()["token"])
    return tokens


Send = Callable[[httpx.Client, int], httpx.Response]


def load(c: Cluster, threads: int, count: int, make: Callable[[int], Send]) -> tuple[float, int]:
    """Requests/s over all threads, and how many answers were 503 (retried elsewhere)."""
    urls = [p.url for p in c.serves]
    refused = [0] * threads

    def worker(i: int) -> None:
        clients = [httpx.Client(base_url=u, timeout=30) for u in urls]
        send = make(i)
        try:
            for n in range(-WARMUP_REQUESTS, count):
                home = i % len(clients)
                for attempt in range(len(clients) * 20):
                    answer = send(clients[(home + attempt) % len(clients)], n)
                    if answer.status_code != 503:
                        break
                    refused[i] += 1
                    time.sleep(0.01 if attempt < len(clients) else 0.2)
                if answer.status_code != 200:
                    raise SystemExit(f"HTTP {answer.status_code}: {answer.text}")
                if n == -1:
                    started[i] = time.perf_counter()
        finally:
            for client in clients:
                client.close()

    started = [0.0] * threads
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    elapsed = time.perf_counter() - min(started)
    return threads * count / elapsed, sum(refused)


def measure(processes: int, count: int, threads: int) -> dict[str, tuple[float, int]]:
    with (
        tempfile.TemporaryDirectory() as folder,
        cluster(Path(folder), serves=processes, lease_ttl_ms=LEASE_TTL_MS) as c,
    ):
        tokens = users(c, threads)

        def healthz(_: int) -> Send:
            return lambda client, _n: client.get("/healthz")

        def balances(i: int) -> Send:
            auth = {"Authorization": f"Bearer {tokens[i]}"}
            return lambda client, _n: client.get("/v1/balances", headers=auth)

        def orders(symbol_of: Callable[[int], str], tag: str) -> Callable[[int], Send]:
            def make(i: int) -> Send:
                auth = {"Authorization": f"Bearer {tokens[i]}"}

                def send(client: httpx.Client, n: int) -> httpx.Response:
                    key = f"{tag}-{i}-{n}"
                    body = {
                        "symbol": symbol_of(i),
                        "side": "buy",
                        "qty_lots": 1,
                        "limit_price_micro_usd": 1 * MICRO,
                        "client_order_id": key,
                        "idempotency_key": key,
                    }
                    return client.post("/v1/orders", json=body, headers=auth)

                return send

            return make

        return {
            "/healthz (floor)": load(c, threads, count, healthz),
            "GET /v1/balances": load(c, threads, count, balances),
            "POST /v1/orders, 6 instruments": load(
                c, threads, count, orders(lambda i: SYMBOLS[i % len(SYMBOLS)], "spread")
            ),
            "POST /v1/orders, 1 instrument": load(
                c, threads, count, orders(lambda i: SYMBOLS[0], "one")
            ),
        }


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    results = {n: measure(n, count, threads) for n in (1, 2)}
    load_avg = os.getloadavg()[0]
    print(
        f"ax serve x1 vs x2 on one PostgreSQL + Redis + ledger service; {threads} client threads"
        f" x {count} requests per row; {os.cpu_count()} CPUs, load average {load_avg:.1f}"
    )
    print(f"{'route':32} {'1 proc req/s':>13} {'2 procs req/s':>14} {'x2/x1':>6} {'503s (x2)':>10}")
    for label in results[1]:
        one, (two, refused) = results[1][label][0], results[2][label]
        print(f"{label:32} {one:13.0f} {two:14.0f} {two / one:6.2f} {refused:10d}")


if __name__ == "__main__":
    main()
