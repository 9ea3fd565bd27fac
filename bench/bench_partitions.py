"""Single-account read latency: the account-partitioned order log vs the plain one.

Creates a scratch database, migrates it (``orders`` is hash-partitioned by ``account_id``,
``AX_PG_PARTITIONS`` partitions, default 8), builds ``orders_plain`` with the same columns
in the layout before partitioning (key ``seq``, index ``(account_id, seq)``, unique
``order_id``), loads the same rows into both (10^6 by default) and prints p50/p99 in
microseconds, one connection, no assertions:

* one account's page of orders (``WHERE account_id = :a AND seq > 0 ORDER BY seq LIMIT 50``);
* one order by ``(account_id, order_id)``;
* the floor: a primary-key ``SELECT`` of one row of the plain table;

and for each, the server's own median planning and execution time (``EXPLAIN ANALYZE``).
The partitioned reads run also on a connection with ``plan_cache_mode =
force_generic_plan``: psycopg prepares a statement on its fifth execution, and PostgreSQL
then reuses a generic plan for the plain table but keeps replanning the partitioned one
(its generic plan is costed with every partition), unless told to keep the generic plan,
which prunes partitions when it starts executing.

The variants are interleaved request by request, so machine noise hits them alike.

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
from sqlalchemy import Connection, Engine, text

from axadapters.sql import open_sql_stores

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FIRST_ACCOUNT = 0x0190_0000_0000_0000
NS_PER_US = 1_000
PAGE = 50
TABLES = ("orders", "orders_plain")

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


Params = Callable[[int], dict[str, str | int]]


def interleaved(
    requests: int, variants: list[tuple[str, Connection, str, Params]]
) -> dict[str, list[int]]:
    """Request n of every variant runs back to back (order rotating), so a noisy neighbour
    on the machine slows all variants alike instead of whichever ran during it."""
    samples: dict[str, list[int]] = {label: [] for label, *_ in variants}
    statements = [
        (label, connection, text(sql), params) for label, connection, sql, params in variants
    ]
    for n in range(requests):
        shift = n % len(statements)
        for label, connection, statement, params in statements[shift:] + statements[:shift]:
            bound = params(n)
            started = time.perf_counter_ns()
            rows = connection.execute(statement, bound).all()
            samples[label].append(time.perf_counter_ns() - started)
            assert rows, (label, bound)  # a read that found nothing measures nothing
    return samples


def server_times_us(
    connection: Connection, sql: str, params: Params, runs: int
) -> tuple[float, float]:
    """Median planning and execution time as the server reports them: what the partitioned
    layout changes, without the client and the network around it."""
    statement = text(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
    planning, execution = [], []
    for n in range(runs):
        plan = connection.execute(statement, params(n)).scalar_one()[0]
        planning.append(plan["Planning Time"] * 1_000)
        execution.append(plan["Execution Time"] * 1_000)
    return statistics.median(planning), statistics.median(execution)


def percentiles_us(samples_ns: list[int]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples_ns, n=100, method="inclusive")
    return cuts[49] / NS_PER_US, cuts[98] / NS_PER_US


def load(engine: Engine, rows: int, accounts: int) -> dict[str, float]:
    """Build the plain twin, load the same rows into both tables; seconds per table."""
    seconds = {}
    with engine.begin() as connection:
        for statement in PLAIN_LAYOUT:
            connection.execute(text(statement))
        for table in TABLES:
            started = time.perf_counter()
            sql = LOAD.format(table=table, first=FIRST_ACCOUNT, accounts=accounts, rows=rows)
            connection.execute(text(sql))
            seconds[table] = time.perf_counter() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as vacuum:
        for table in TABLES:
            vacuum.execute(text(f"VACUUM ANALYZE {table}"))
    return seconds


def variants(args: argparse.Namespace) -> list[tuple[str, str, Params]]:
    draw = random.Random(17)
    accounts = [draw.randrange(args.accounts) for _ in range(args.requests)]
    seqs = [draw.randrange(1, args.rows + 1) for _ in range(args.requests)]

    def page(n: int) -> dict[str, str | int]:
        return {"a": account_hex(accounts[n])}

    def point(n: int) -> dict[str, str | int]:
        seq = seqs[n]
        return {"a": account_hex(seq % args.accounts), "o": f"{seq:016x}"}

    def floor(n: int) -> dict[str, str | int]:
        return {"s": seqs[n]}

    partitioned_page, plain_page = (PAGE_QUERY.format(table=t) for t in TABLES)
    partitioned_point, plain_point = (POINT_QUERY.format(table=t) for t in TABLES)
    return [
        ("page, partitioned", partitioned_page, page),
        ("page, plain", plain_page, page),
        ("point, partitioned", partitioned_point, point),
        ("point, plain", plain_point, point),
        ("floor: PK, plain", FLOOR_QUERY, floor),
    ]


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
    try:
        loads = load(stores.engine, args.rows, args.accounts)
        reads = variants(args)
        with stores.engine.connect() as connection, stores.engine.connect() as generic:
            generic.execute(text("SET plan_cache_mode = force_generic_plan"))
            partitions = connection.execute(
                text("SELECT count(*) FROM pg_inherits WHERE inhparent = 'orders'::regclass")
            ).scalar_one()
            version = connection.execute(text("SHOW server_version")).scalar_one()
            timed = [(label, connection, sql, params) for label, sql, params in reads]
            timed += [
                (f"{label}, generic plan", generic, sql, params)
                for label, sql, params in reads
                if "partitioned" in label
            ]
            interleaved(min(500, args.requests), timed)  # warm caches and plans
            results = interleaved(args.requests, timed)
            server = {
                label: server_times_us(connection, sql, params, min(500, args.requests))
                for label, sql, params in reads
            }
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
        line = f"  {label:<34} p50 {p50:8.1f} us   p99 {p99:8.1f} us"
        if label in server:
            planning, execution = server[label]
            line += f"   server: planning {planning:6.1f} us, execution {execution:6.1f} us"
        print(line)
    print(f"  (a page is the account's first {PAGE} orders; a point read is one order;")
    print("   server: median of EXPLAIN ANALYZE; generic plan: plan_cache_mode=force_generic_plan)")


if __name__ == "__main__":
    main()
