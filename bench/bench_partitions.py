"""Single-account read latency: the account-partitioned order log vs the plain one.

Creates a scratch database, migrates it (``orders`` is hash-partitioned by ``account_id``,
``AX_PG_PARTITIONS`` partitions, default 8), builds ``orders_plain`` with the same columns
in the pre-0005 layout (key ``seq``, index ``(account_id, seq)``, unique ``order_id``),
loads the same rows into both (10^6 by default) and prints p50/p99 in microseconds, one
connection, no assertions:

* one account's page of orders (``WHERE account_id = :a AND seq > 0 ORDER BY seq LIMIT 50``);
* one order by ``(account_id, order_id)``;
* the floor: a primary-key ``SELECT`` of one row of the plain table.

Usage: python bench/bench_partitions.py [--url postgresql://postgres@127.0.0.1:5432/postgres]
       [--rows 1000000] [--accounts 10000] [--requests 5000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Callable

import sqlalchemy
from sqlalchemy import Connection, text

from axadapters.sql import open_sql_stores

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FIRST_ACCOUNT = 0x0190_0000_0000_0000
NS_PER_US = 1_000
PAGE = 50

PLAIN_LAYOUT = (
    "CREATE TABLE orders_plain (LIKE orders INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
    "ALTER TABLE orders_plain ADD PRIMARY KEY (seq)",
    "ALTER TABLE orders_plain ADD UNIQUE (order_id)",
    "CREATE INDEX ON orders_plain (account_id, seq)",
    "CREATE INDEX ON orders_plain (contract_id, status, seq)",
    "CREATE UNIQUE INDEX ON orders_plain (account_id, client_order_id) WHERE status = 'open'",
)

LOAD = """
INSERT INTO {table} (seq, order_id, account_id, user_id, client_order_id, contract_id, side,
    qty_lots, limit_price_micro_usd, time_in_force, created_at_ns, status, reduce_only,
    filled_lots, status_reason)
SELECT g, lpad(to_hex(g), 16, '0'), lpad(to_hex({first} + g % {accounts}), 16, '0'),
    lpad(to_hex({first} + g % {accounts}), 16, '0'), 'c-' || g, 1001, 'buy', 1, 2500000000,
    'gtc', g, CASE WHEN g % 10 = 0 THEN 'open' ELSE 'filled' END, false, 0, NULL
FROM generate_series(1, {rows}) AS g
"""

PAGE_QUERY = "SELECT * FROM {table} WHERE account_id = :a AND seq > 0 ORDER BY seq LIMIT " + str(
    PAGE
)
POINT_QUERY = "SELECT * FROM {table} WHERE account_id = :a AND order_id = :o"
FLOOR_QUERY = "SELECT * FROM orders_plain WHERE seq = :s"


def account_hex(n: int) -> str:
    return f"{FIRST_ACCOUNT + n:016x}"


def timed(
    connection: Connection, requests: int, sql: str, params: Callable[[int], dict[str, str | int]]
) -> list[int]:
    statement = text(sql)
    samples = []
    for n in range(requests):
        bound = params(n)
        started = time.perf_counter_ns()
        rows = connection.execute(statement, bound).all()
        samples.append(time.perf_counter_ns() - started)
        assert rows, (sql, bound)  # a read that found nothing measures nothing
    return samples


def percentiles_us(samples_ns: list[int]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples_ns, n=100, method="inclusive")
    return cuts[49] / NS_PER_US, cuts[98] / NS_PER_US


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_ADMIN_URL, help="admin URL of the server")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=5_000)
    args = parser.parse_args()

    admin = sqlalchemy.create_engine(args.url, isolation_level="AUTOCOMMIT")
    name = f"axbench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = sqlalchemy.make_url(args.url).set(database=name).render_as_string(hide_password=False)
    stores = open_sql_stores(url)
    results: dict[str, list[int]] = {}
    try:
        with stores.engine.begin() as connection:
            for statement in PLAIN_LAYOUT:
                connection.execute(text(statement))
            loads = {}
            for table in ("orders", "orders_plain"):
                started = time.perf_counter()
                sql = LOAD.format(
                    table=table, first=FIRST_ACCOUNT, accounts=args.accounts, rows=args.rows
                )
                connection.execute(text(sql))
                loads[table] = time.perf_counter() - started
        with stores.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as vacuum:
            for table in ("orders", "orders_plain"):
                vacuum.execute(text(f"VACUUM ANALYZE {table}"))
        with stores.engine.connect() as connection:
            partitions = connection.execute(
                text("SELECT count(*) FROM pg_inherits WHERE inhparent = 'orders'::regclass")
            ).scalar_one()
            version = connection.execute(text("SHOW server_version")).scalar_one()
            draw = random.Random(17)
            accounts = [draw.randrange(args.accounts) for _ in range(args.requests)]
            seqs = [draw.randrange(1, args.rows + 1) for _ in range(args.requests)]

            def page(n: int) -> dict[str, str | int]:
                return {"a": account_hex(accounts[n])}

            def point(n: int) -> dict[str, str | int]:
                seq = seqs[n]
                return {"a": account_hex(seq % args.accounts), "o": f"{seq:016x}"}

            for table in ("orders", "orders_plain"):  # warm both
                timed(connection, 500, PAGE_QUERY.format(table=table), page)
            for label, sql, params in (
                ("page, partitioned", PAGE_QUERY.format(table="orders"), page),
                ("page, plain      ", PAGE_QUERY.format(table="orders_plain"), page),
                ("point, partitioned", POINT_QUERY.format(table="orders"), point),
                ("point, plain      ", POINT_QUERY.format(table="orders_plain"), point),
                ("floor: plain PK   ", FLOOR_QUERY, lambda n: {"s": seqs[n]}),
            ):
                results[label] = timed(connection, args.requests, sql, params)
    finally:
        stores.close()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    print(
        f"PostgreSQL {version}; {args.rows:,} orders over {args.accounts:,} accounts; "
        f"{partitions} hash partitions; {args.requests} requests each"
    )
    print(f"  load: partitioned {loads['orders']:.1f} s, plain {loads['orders_plain']:.1f} s")
    for label, samples in results.items():
        p50, p99 = percentiles_us(samples)
        print(f"  {label}  p50 {p50:8.1f} us   p99 {p99:8.1f} us")
    print(f"  (a page is the account's first {PAGE} orders; a point read is one order)")


if __name__ == "__main__":
    main()
