"""Account reads on the account-leading ``positions`` vs the legacy user-leading layout, and
projection insert throughput, on embedded chDB (or a server with ``--dsn``).

Prints figures next to their floors measured in the same run (no assertions):

* projection insert: ``write_positions`` of ``PositionRecord`` values (the projection's
  path), against the floor of the driver inserting the same rows as ready-made tuples;
* "latest positions of one account" (``LIMIT 1 BY`` on the account): rows read (``EXPLAIN
  ESTIMATE``: rows in the granules left after primary-key analysis) and p50 latency, on the
  account-leading table and on the legacy table keyed ``(user_id, ...)`` filtered by
  ``account_id`` -- the full scan seed 000 section 2c.2 warns about; floors: the account's
  own row count, and a ``SELECT 1`` round trip.

Usage: python bench/bench_clickhouse.py [--accounts 10000] [--rows-per-account 100]
                                        [--dsn chdb:///tmp/folder]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from axadapters.clickhouse import chdb_dsn, open_clickhouse
from axadapters.clickhouse.schema import POSITIONS
from axdomain import AccountId
from axdomain.contracts import ContractId, ProductId
from axdomain.ledger.sequencing import PositionRecord

FIRST_ACCOUNT = 0x0190_0000_0000_0000
START_NS = 1_767_225_600 * 1_000_000_000  # 2026-01-01
STEP_NS = 60 * 60 * 1_000_000_000
READ_SAMPLES = 50
CONTRACTS = [ContractId.perp(ProductId(1001 + 2 * n)) for n in range(4)]


def records(accounts: int, per_account: int) -> list[PositionRecord]:
    out = []
    for n in range(accounts):
        account = AccountId(FIRST_ACCOUNT + n)
        for seq in range(1, per_account + 1):
            out.append(
                PositionRecord(
                    account,
                    seq,
                    CONTRACTS[seq % len(CONTRACTS)],
                    seq - per_account // 2,
                    -seq * 1_000_000,
                    START_NS + seq * STEP_NS + n,
                )
            )
    return out


def latest_sql(database: str, table: str) -> str:
    return (
        "SELECT contract_id, sequence_number, qty_lots, basis_micro_usd, timestamp_ns "
        f"FROM `{database}`.`{table}` WHERE account_id = {{a:UInt64}} "
        "ORDER BY timestamp_ns DESC, sequence_number DESC LIMIT 1 BY contract_id"
    )


def measure(client: object, sql: str, accounts: list[int]) -> tuple[float, float, int]:
    """p50 latency (ms), mean rows the engine plans to read after index analysis
    (``EXPLAIN ESTIMATE``: chDB has no query_log, and its per-query read_rows statistic
    counts result rows), and rows returned for the last account."""
    latencies, read = [], []
    returned = 0
    for value in accounts:
        started = time.perf_counter_ns()
        result = client.query(sql, parameters={"a": value})  # type: ignore[attr-defined]
        latencies.append(time.perf_counter_ns() - started)
        returned = len(result.result_rows)
        estimate = client.query(f"EXPLAIN ESTIMATE {sql}", parameters={"a": value})  # type: ignore[attr-defined]
        read.append(sum(int(row[3]) for row in estimate.result_rows))
    return statistics.median(latencies) / 1e6, statistics.mean(read), returned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--rows-per-account", type=int, default=100)
    parser.add_argument("--dsn", default=None, help="default: chDB in a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        dsn = args.dsn or chdb_dsn(Path(scratch) / "chdb")
        database = f"axbench_{uuid.uuid4().hex[:8]}"
        store = open_clickhouse(dsn, database)
        try:
            run(store, database, args.accounts, args.rows_per_account)
        finally:
            store.session.command(f"DROP DATABASE IF EXISTS `{database}` SYNC")
            store.close()


def run(store, database: str, accounts: int, per_account: int) -> None:  # type: ignore[no-untyped-def]
    client = store.session.client
    total = accounts * per_account
    print(f"positions: {total:,} rows over {accounts:,} accounts ({per_account} per account)")

    started = time.perf_counter()
    values = records(accounts, per_account)
    build_s = time.perf_counter() - started
    print(f"  building {total:,} PositionRecord values: {build_s:.1f} s (not in the rates)")

    batch = 100_000
    started = time.perf_counter()
    for start in range(0, total, batch):
        store.write_positions(values[start : start + batch])
    projection_s = time.perf_counter() - started

    tuples = [
        (
            r.account_id.value,
            r.sequence_number,
            r.timestamp_ns,
            str(r.contract),
            r.contract.value,
            r.qty_lots,
            r.basis_micro_usd,
        )
        for r in values
    ]
    store.session.command(f"CREATE TABLE `{database}`.floor AS `{database}`.positions")
    started = time.perf_counter()
    for start in range(0, total, batch):
        client.insert(
            "floor",
            tuples[start : start + batch],
            column_names=list(POSITIONS.column_names),
            database=database,
        )
    floor_s = time.perf_counter() - started
    print(
        f"  projection insert (write_positions): {total / projection_s:,.0f} rows/s"
        f"   | floor, driver insert of ready tuples: {total / floor_s:,.0f} rows/s"
    )

    legacy = (
        f"CREATE TABLE `{database}`.positions_legacy (user_id UInt64, "
        + ", ".join(f"`{n}` {t}" for n, t in POSITIONS.columns)
        + f") ENGINE = ReplacingMergeTree PARTITION BY {POSITIONS.partition_by} "
        "ORDER BY (user_id, timestamp_ns, sequence_number, symbol)"
    )
    store.session.command(legacy)
    names = ", ".join(POSITIONS.column_names)
    store.session.command(
        f"INSERT INTO `{database}`.positions_legacy (user_id, {names}) "
        f"SELECT account_id, {names} FROM `{database}`.positions"
    )
    for table in ("positions", "positions_legacy"):
        store.session.command(f"OPTIMIZE TABLE `{database}`.`{table}` FINAL")

    rng = random.Random(7)
    sample = [FIRST_ACCOUNT + rng.randrange(accounts) for _ in range(READ_SAMPLES)]
    client.query("SELECT 1")
    ping = []
    for _ in range(READ_SAMPLES):
        started = time.perf_counter_ns()
        client.query("SELECT 1")
        ping.append(time.perf_counter_ns() - started)
    ping_ms = statistics.median(ping) / 1e6
    new_ms, new_rows, returned = measure(client, latest_sql(database, "positions"), sample)
    old_ms, old_rows, _ = measure(client, latest_sql(database, "positions_legacy"), sample)
    print(f"latest positions of one account ({READ_SAMPLES} random accounts, {returned} rows back)")
    print(
        f"  account-leading positions: {new_rows:,.0f} rows read ({100 * new_rows / total:.3f} %"
        f" of {total:,}), p50 {new_ms:.2f} ms"
    )
    print(
        f"  legacy user-leading, filtered by account_id: {old_rows:,.0f} rows read "
        f"({100 * old_rows / total:.1f} %), p50 {old_ms:.2f} ms"
    )
    print(
        f"  floors: the account's own rows {per_account} ({100 * per_account / total:.3f} %);"
        f" SELECT 1 round trip p50 {ping_ms:.2f} ms"
    )
    explain = client.query(
        f"EXPLAIN indexes = 1 {latest_sql(database, 'positions')}", parameters={"a": sample[0]}
    ).result_rows
    granules = [str(row[0]).strip() for row in explain if "Granules" in str(row[0])]
    print(f"  EXPLAIN indexes (account-leading): {'; '.join(granules)}")


if __name__ == "__main__":
    main()
