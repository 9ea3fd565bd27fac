"""The gateway's authorization read path through PostgreSQL, next to raw psycopg floors.

Creates a scratch database on the server, migrates it, seeds accounts with grants, and
prints figures (no assertions), each beside its floor measured in the same run:

* gateway authorize, one thread: ``Gateway.run(READ)`` up to the moment the effect runs
  (account + grant in one SELECT, ``authorize``, the audit row queued) and the whole call
  (until the audit row is durable, one WAL flush when nothing runs beside it) -- p50/p99
  in microseconds; floor: two prepared keyed SELECTs (grant row, account row) on one raw
  psycopg connection;
* audited authorized reads per second with ``--threads`` concurrent workers through the
  gateway (audit rows group-committed); peer: the same workers on raw psycopg, two
  prepared SELECTs and an autocommitted audit INSERT per read (one WAL flush each);
* sequence allocations per second on one account shared by the workers, each with its own
  connection and one transaction per allocation.

Usage: python bench/bench_postgres.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable

import psycopg

from axadapters.memory.cache import MemorySessionStore
from axadapters.sql import SqlStores
from axadapters.sql.sequences import allocate_in
from axapp.gateway import Authorized, Gateway
from axapp.runtime import stores_over
from axdomain import (
    Account,
    AccountId,
    AccountKind,
    Action,
    Grant,
    Permissions,
    User,
    UserId,
    UserSession,
)
from pg_scratch import DEFAULT_ADMIN_URL, scratch_stores, server_version

FIRST_USER = 0x0190_0000_0000_0000
NS_PER_US = 1_000
PEPPER = b"b" * 32
GRANT_SQL = "SELECT * FROM account_permissions WHERE user_id = %s AND account_id = %s"
ACCOUNT_SQL = "SELECT * FROM trading_accounts WHERE account_id = %s"
AUDIT_SQL = (
    "INSERT INTO audit_log (request_id, at_ns, actor_user_id, account_id, action, allowed,"
    " reason) VALUES (%s, %s, %s, %s, 'read', true, 'allowed')"
)

Pair = tuple[UserId, AccountId]


def seed(stores: SqlStores, accounts: int) -> list[Pair]:
    pairs = []
    for n in range(accounts):
        user = UserId(FIRST_USER + n)
        account = user.as_default_account_id()
        stores.users.add_user(User(user, f"user-{n}", 1))
        stores.accounts.add_account(Account(account, f"acct-{n}", AccountKind.CUSTOMER, user, 1))
        stores.grants.put_grant(Grant(user, account, Permissions.TRADER))
        pairs.append((user, account))
    return pairs


def percentiles_us(samples_ns: list[int]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples_ns, n=100, method="inclusive")
    return cuts[49] / NS_PER_US, cuts[98] / NS_PER_US


def latencies(
    gateway: Gateway, libpq_url: str, pairs: list[Pair], requests: int
) -> tuple[list[int], list[int], list[int]]:
    """Per request, interleaved so both sides see the same load: gateway start to effect
    (the decision), gateway start to return (audit durable), and the raw floor."""
    decided, whole, floor = [], [], []
    reached = [0]

    def effect(_authorized: Authorized) -> None:
        reached[0] = time.perf_counter_ns()

    with psycopg.connect(libpq_url, autocommit=True) as connection:
        for n in range(requests):
            user, account = pairs[n % len(pairs)]
            started = time.perf_counter_ns()
            gateway.run(UserSession(user), Action.READ, account, effect)
            ended = time.perf_counter_ns()
            decided.append(reached[0] - started)
            whole.append(ended - started)
            u, a = f"{user.value:016x}", f"{account.value:016x}"
            started = time.perf_counter_ns()
            grant = connection.execute(GRANT_SQL, (u, a), prepare=True).fetchone()
            row = connection.execute(ACCOUNT_SQL, (a,), prepare=True).fetchone()
            floor.append(time.perf_counter_ns() - started)
            assert grant is not None and row is not None
    return decided, whole, floor


def per_second(threads: int, each: int, work: Callable[[int], Callable[[int], None]]) -> float:
    """``work(thread)`` returns the per-request step of one worker; requests per second."""
    start = threading.Barrier(threads + 1)

    def run(thread: int) -> None:
        step = work(thread)
        start.wait()
        for n in range(each):
            step(n)

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    return threads * each / (time.perf_counter() - began)


def gateway_reads(gateway: Gateway, pairs: list[Pair]) -> Callable[[int], Callable[[int], None]]:
    def work(thread: int) -> Callable[[int], None]:
        def step(n: int) -> None:
            user, account = pairs[(thread * 7919 + n) % len(pairs)]
            gateway.run(UserSession(user), Action.READ, account, lambda a: None)

        return step

    return work


def raw_audited_reads(libpq_url: str, pairs: list[Pair]) -> Callable[[int], Callable[[int], None]]:
    def work(thread: int) -> Callable[[int], None]:
        connection = psycopg.connect(libpq_url, autocommit=True)

        def step(n: int) -> None:
            user, account = pairs[(thread * 7919 + n) % len(pairs)]
            u, a = f"{user.value:016x}", f"{account.value:016x}"
            connection.execute(GRANT_SQL, (u, a), prepare=True).fetchone()
            connection.execute(ACCOUNT_SQL, (a,), prepare=True).fetchone()
            rid = f"raw-{thread}-{n}"
            connection.execute(AUDIT_SQL, (rid, n, u, a), prepare=True)

        return step

    return work


def allocations_per_second(stores: SqlStores, threads: int, each: int) -> float:
    account = AccountId(0x0190_0000_0000_0C0C)

    def work(_thread: int) -> Callable[[int], None]:
        connection = stores.engine.connect()

        def step(_n: int) -> None:
            with connection.begin():
                allocate_in(connection, account)

        return step

    return per_second(threads, each, work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_ADMIN_URL, help="admin URL of the server")
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--requests", type=int, default=3000, help="single-thread latency")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--reads", type=int, default=1000, help="per worker, throughput")
    parser.add_argument("--allocations", type=int, default=300, help="per worker")
    args = parser.parse_args()

    with scratch_stores(args.url, "axbench") as (sql, libpq_url):
        pairs = seed(sql, args.accounts)
        stores = stores_over(sql)
        gateway = Gateway(stores, MemorySessionStore(stores.clock), PEPPER)
        latencies(gateway, libpq_url, pairs, 300)  # warm the pool, caches and prepares
        decided, whole, floor = latencies(gateway, libpq_url, pairs, args.requests)
        reads = per_second(args.threads, args.reads, gateway_reads(gateway, pairs))
        raw_reads = per_second(args.threads, args.reads, raw_audited_reads(libpq_url, pairs))
        allocations = allocations_per_second(sql, args.threads, args.allocations)
        version = server_version(sql)

    print(f"PostgreSQL {version}; {args.accounts} accounts; {args.requests} requests each")
    floor_p50, _ = percentiles_us(floor)
    for label, samples in (
        ("gateway authorize (to the effect)         ", decided),
        ("gateway READ, audit durable (whole call)  ", whole),
        ("floor: two prepared psycopg SELECTs       ", floor),
    ):
        p50, p99 = percentiles_us(samples)
        print(
            f"  {label} p50 {p50:8.1f} us  p99 {p99:8.1f} us  ({p50 / floor_p50:4.2f}x floor p50)"
        )
    print(
        f"  audited authorized reads, {args.threads} workers: gateway {reads:8,.0f} /s   "
        f"raw psycopg, one commit per read {raw_reads:8,.0f} /s   ({reads / raw_reads:4.2f}x)"
    )
    print(f"  sequence allocations, {args.threads} workers on one account: {allocations:,.0f} /s")


if __name__ == "__main__":
    main()
