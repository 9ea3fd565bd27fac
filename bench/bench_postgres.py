"""Authorize-through-PostgreSQL latency and contended sequence allocation throughput.

Creates a scratch database on the server, migrates it, seeds accounts with grants, and
prints figures (no assertions):

* authorize: per request, one keyed read of the ``(user, account)`` grant and one of the
  account row, then ``axdomain.authorize`` -- p50/p99 in microseconds;
* the bare keyed ``SELECT`` of the grant row on the same table, for comparison;
* sequence allocations per second on one account shared by several threads, each with its
  own connection and one transaction per allocation.

Usage: python bench/bench_postgres.py [--url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from collections.abc import Callable

import sqlalchemy
from sqlalchemy import Connection, Engine, text

from axadapters.sql import SqlStores, open_sql_stores
from axadapters.sql.identity import get_account_in, get_grant_in
from axadapters.sql.sequences import allocate_in
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
    authorize,
)

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FIRST_USER = 0x0190_0000_0000_0000
NS_PER_US = 1_000


def seed(stores: SqlStores, accounts: int) -> list[tuple[UserId, AccountId]]:
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


def timed(
    engine: Engine,
    requests: int,
    pairs: list[tuple[UserId, AccountId]],
    step: Callable[[Connection, UserId, AccountId], object],
) -> list[int]:
    samples = []
    for n in range(requests):
        user, account = pairs[n % len(pairs)]
        started = time.perf_counter_ns()
        with engine.connect() as connection:
            step(connection, user, account)
        samples.append(time.perf_counter_ns() - started)
    return samples


def authorize_step(connection: Connection, user: UserId, account: AccountId) -> object:
    grant = get_grant_in(connection, user, account)
    decision = authorize(
        UserSession(user), get_account_in(connection, account), Action.TRADE, grant
    )
    assert decision.allowed, decision
    return decision


def bare_select_step(connection: Connection, user: UserId, account: AccountId) -> object:
    row = connection.execute(
        text("SELECT can_trade FROM account_permissions WHERE user_id = :u AND account_id = :a"),
        {"u": f"{user.value:016x}", "a": f"{account.value:016x}"},
    ).first()
    assert row is not None
    return row


def allocations_per_second(engine: Engine, threads: int, each: int) -> float:
    account = AccountId(0x0190_0000_0000_0C0C)
    start = threading.Barrier(threads + 1)

    def work() -> None:
        with engine.connect() as connection:
            start.wait()
            for _ in range(each):
                with connection.begin():
                    allocate_in(connection, account)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    return threads * each / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_ADMIN_URL, help="admin URL of the server")
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--allocations", type=int, default=500, help="per thread")
    args = parser.parse_args()

    admin = sqlalchemy.create_engine(args.url, isolation_level="AUTOCOMMIT")
    name = f"axbench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = sqlalchemy.make_url(args.url).set(database=name).render_as_string(hide_password=False)
    stores = open_sql_stores(url)
    try:
        pairs = seed(stores, args.accounts)
        timed(stores.engine, 500, pairs, authorize_step)  # warm the pool and the caches
        auth = timed(stores.engine, args.requests, pairs, authorize_step)
        bare = timed(stores.engine, args.requests, pairs, bare_select_step)
        rate = allocations_per_second(stores.engine, args.threads, args.allocations)
        with stores.engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
    finally:
        stores.close()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    print(f"PostgreSQL {version}; {args.accounts} accounts; {args.requests} requests each")
    for label, samples in (
        ("authorize (grant + account + decide)", auth),
        ("bare keyed SELECT of the grant row  ", bare),
    ):
        p50, p99 = percentiles_us(samples)
        print(f"  {label}  p50 {p50:8.1f} us   p99 {p99:8.1f} us")
    print(
        f"  sequence allocations, {args.threads} threads on one account: {rate:,.0f} /s "
        f"({args.threads * args.allocations} allocations)"
    )


if __name__ == "__main__":
    main()
