"""Risk-snapshot cache throughput on one Redis server vs a three-master Redis Cluster.

Starts, in the same run and on loopback, one plain ``redis-server`` and a three-master
cluster (the test suite's fixture), then drives ``RedisRiskSnapshotCache`` on each and prints
operations per second (no assertions):

* ``put`` (``SET PX`` of one account's snapshot) and ``get`` (``GET`` of the account key and
  of one symbol key), over many accounts so the cluster's keys spread over every master;
* the floor next to them: bare ``PING`` round trips on the same client, the most a
  one-command-per-operation cache can do on this machine;
* each with 1 and with ``--threads`` client threads (one shared client, as ``ax serve`` has).

Usage: python bench/bench_redis_cluster.py [--ops 20000] [--threads 4] [--accounts 1000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from tests.contract.redis_cluster_support import (  # noqa: E402
    LOOPBACK,
    RedisClusterNodes,
    free_ports,
    redis_cluster,
)
from tests.contract.suite_cache import snapshot  # noqa: E402

from axadapters.redis import RedisClient, RedisRiskSnapshotCache  # noqa: E402
from axdomain import AccountId  # noqa: E402

FIRST_ACCOUNT = 0x0190_0000_0100_0000
TTL_MS = 600_000
SYMBOL = "BTC-PERP"
READY_TIMEOUT_S = 10.0


def rate(threads: int, ops: int, step: Callable[[int], object]) -> float:
    """Operations per second of ``step(n)`` for n in [0, ops), split over ``threads``."""
    start = threading.Barrier(threads + 1)

    def work(offset: int) -> None:
        start.wait()
        for n in range(offset, ops, threads):
            step(n)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    return ops / (time.perf_counter() - began)


def measure(label: str, client: RedisClient, accounts: int, ops: int, threads: int) -> list[str]:
    cache = RedisRiskSnapshotCache(client, "bench:")
    ids = [AccountId(FIRST_ACCOUNT + n) for n in range(accounts)]
    values = [(snapshot(a, None), snapshot(a, SYMBOL)) for a in ids]

    def put(n: int) -> None:
        whole, sliced = values[n % accounts]
        cache.put(whole if n % 2 else sliced, TTL_MS)

    def get(n: int) -> None:
        account = ids[n % accounts]
        found = cache.get_account(account) if n % 2 else cache.get_symbol(account, SYMBOL)
        assert found is not None  # the bench reads what it wrote, or its figure means nothing

    def ping(_: int) -> None:
        client.ping()

    for n in range(2 * accounts):  # every key present before the reads are timed
        put(n)
    lines = []
    for count in sorted({1, threads}):
        figures = {name: rate(count, ops, step) for name, step in (("put", put), ("get", get))}
        floor = rate(count, ops, ping)
        lines.append(
            f"  {label:<22} {count} thread(s): put {figures['put']:>9,.0f} ops/s   "
            f"get {figures['get']:>9,.0f} ops/s   (floor: PING {floor:>9,.0f} /s)"
        )
    return lines


def standalone(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    server = shutil.which("redis-server")
    if server is None:
        raise SystemExit("redis-server is not installed")
    [port] = free_ports(1)
    process = subprocess.Popen(
        [server, "--bind", LOOPBACK, "--port", str(port), "--dir", str(folder),
         "--save", "", "--appendonly", "no", "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        try:
            redis.Redis(host=LOOPBACK, port=port).ping()
            return process, port
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=20_000, help="operations per figure")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--accounts", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        single_process, port = standalone(Path(folder))
        nodes = redis_cluster(Path(folder))
        cluster: RedisClusterNodes = next(nodes)
        single = redis.Redis(host=LOOPBACK, port=port)
        clustered = cluster.client()
        try:
            version = single.info("server")["redis_version"]
            lines = [
                *measure("one server", single, args.accounts, args.ops, args.threads),
                *measure("cluster, 3 masters", clustered, args.accounts, args.ops, args.threads),
            ]
        finally:
            single.close()
            clustered.close()
            single_process.terminate()
            single_process.wait()
            nodes.close()
    load_1m = os.getloadavg()[0]
    print(
        f"Redis {version} on loopback, all on one machine ({os.cpu_count()} CPUs, load average "
        f"{load_1m:.1f} at the end); risk-snapshot cache, {args.accounts} accounts, "
        f"{args.ops} operations per figure"
    )
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
