"""Requests per second and p50/p99 latency of one ``ax serve`` process, in one run.

Three routes against the same server: ``/healthz`` (no authentication, no use case: the
framework's floor), ``GET /v1/balances`` (authenticate + authorize + audit + one read) and
``POST /v1/orders`` that rests (authorize, margin, idempotency record, order log, book).
One keep-alive connection, requests one after another, so requests/s = 1 / mean latency.
The server runs on embedded defaults (SQLite in a temporary data folder) unless AX_*
variables say otherwise. Prints figures only; no assertion on speed.

Usage: python bench/bench_http.py [requests_per_route]   (default 2000)
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

MICRO = 1_000_000
PERP = "COMPUTEDESK-H100-PERP"
WARMUP_REQUESTS = 200
START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def ax(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("ax")), *args]


def measure(label: str, count: int, send: Callable[[int], httpx.Response]) -> dict[str, float]:
    for i in range(WARMUP_REQUESTS):
        send(-1 - i)
    latencies_us: list[float] = []
    started = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        response = send(i)
        latencies_us.append((time.perf_counter() - t0) * 1e6)
        if response.status_code != 200:
            raise SystemExit(f"{label}: HTTP {response.status_code}: {response.text}")
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies_us, n=100)
    return {"rps": count / elapsed, "p50_us": cuts[49], "p99_us": cuts[98]}


def in_process_read(folder: str, count: int) -> dict[str, float]:
    """The same authorized read without HTTP: authenticate + ``reads.balances`` in this
    process, on its own data folder (what the HTTP shell adds is the difference)."""
    from axapp.bootstrap import application, create_operator, load_pepper
    from axapp.config import Config
    from axapp.runtime import open_runtime

    config = Config(data_dir=Path(folder) / "in-process")
    with open_runtime(config) as runtime:
        app = application(runtime)
        ops = app.gateway.authenticate(
            create_operator(runtime.stores, "bench", load_pepper(config))
        )
        user, _ = app.operator.onboard_user(ops, "bench")
        token = app.operator.issue_session(ops, user.user_id)

        def read(_: int) -> httpx.Response:
            app.reads.balances(app.gateway.authenticate(token))
            return httpx.Response(200)

        return measure("in-process read", count, read)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as folder:
        direct = in_process_read(folder, count)
        env = {**os.environ, "AX_DATA_DIR": folder}
        ops = subprocess.run(
            ax("operator", "create", "bench"), env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        port = free_port()
        server = subprocess.Popen(
            ax("serve", "--host", "127.0.0.1", "--port", str(port)),
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            if "listening" not in line:
                raise SystemExit(f"ax serve did not start: {line!r}")
            run(f"http://127.0.0.1:{port}", ops, count, direct)
        finally:
            server.terminate()
            server.wait(START_TIMEOUT_S)


def run(base: str, ops_token: str, count: int, direct: dict[str, float]) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        admin = {"Authorization": f"Bearer {ops_token}"}
        user = client.post("/v1/admin/users", json={"username": "bench"}, headers=admin).json()
        token = client.post(f"/v1/admin/users/{user['user_id']}/sessions", headers=admin).json()
        session = {"Authorization": f"Bearer {token['token']}"}
        deposit = {"amount_micro_usd": 10**9 * MICRO, "idempotency_key": "bench-deposit"}
        client.post(
            f"/v1/admin/accounts/{user['default_account_id']}/deposits", json=deposit, headers=admin
        )

        def order(i: int) -> httpx.Response:
            body = {
                "symbol": PERP,
                "side": "buy",
                "qty_lots": 1,
                "limit_price_micro_usd": 1 * MICRO,
                "client_order_id": f"bench-{i}",
                "idempotency_key": f"bench-{i}",
            }
            return client.post("/v1/orders", json=body, headers=session)

        rows = [
            ("bare route /healthz (floor)", lambda i: client.get("/healthz")),
            ("GET /v1/balances", lambda i: client.get("/v1/balances", headers=session)),
            ("POST /v1/orders (rests)", order),
        ]
        results = {label: measure(label, count, send) for label, send in rows}
    results["balances use case, no HTTP"] = direct
    floor = results["bare route /healthz (floor)"]
    print(f"ax serve on embedded defaults, {count} sequential requests per route, keep-alive")
    print(f"{'route':32} {'req/s':>9} {'p50 us':>9} {'p99 us':>9} {'p50 / floor':>12}")
    for label, r in results.items():
        ratio = r["p50_us"] / floor["p50_us"]
        print(f"{label:32} {r['rps']:9.0f} {r['p50_us']:9.0f} {r['p99_us']:9.0f} {ratio:11.1f}x")


if __name__ == "__main__":
    main()
