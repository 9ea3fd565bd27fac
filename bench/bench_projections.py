"""Ledger projections into PostgreSQL: projected events per second, next to a raw floor.

An event is one ``(account_id, sequence_number)`` stamp with its position and transaction
records (three rows); each synthetic chain moves USD between two accounts, so it projects
two events and two balance upserts. ``SqlProjections.project`` writes batches of
``--chains-per-batch`` chains, each batch with its cursor in one transaction, the way the
exchange flushes. The floor writes the same rows with psycopg's ``COPY`` into the same
tables (no conflict handling, so it is the bound, not a peer), one transaction per batch.

Usage: python bench/bench_projections.py [--url ...] [--chains 20000]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator, Sequence

import psycopg
from sqlalchemy import text

from axadapters.sql import SqlStores
from axadapters.sql.projections import hex128
from axdomain import AccountId, ContractId
from axdomain.ledger.projection import ProjectedChain, ProjectionCursor, batches
from axdomain.ledger.sequencing import PositionRecord, SequenceStamp, TransactionRecord
from axdomain.ledger.values import Transfer, TransferCode
from pg_scratch import DEFAULT_ADMIN_URL, scratch_stores, server_version

FIRST_ACCOUNT = 0x0190_0000_0000_1000
CONTRACT = ContractId(1001)


def synthetic_chains(count: int, accounts: int) -> list[ProjectedChain]:
    """``count`` one-transfer chains, each touching two accounts in round robin."""
    sequence = [0] * accounts
    usd = [0] * accounts
    chains = []
    for n in range(count):
        at_ns = 1_700_000_000_000_000_000 + n
        transfer = Transfer(
            n + 1, 1, 2, 10, 1, int(TransferCode.INTERNAL_TRANSFER), user_data_64=at_ns
        )
        stamps, positions, transactions, usd_after = [], [], [], []
        for index, signed in ((n % accounts, -10), ((n + 1) % accounts, 10)):
            account = AccountId(FIRST_ACCOUNT + index)
            sequence[index] += 1
            usd[index] += signed
            seq = sequence[index]
            stamps.append(SequenceStamp(account, seq, transfer.id))
            positions.append(PositionRecord(account, seq, CONTRACT, seq, seq * 7, at_ns))
            transactions.append(
                TransactionRecord(
                    account, seq, ((TransferCode.INTERNAL_TRANSFER, signed),), (transfer.id,), at_ns
                )
            )
            usd_after.append((account, usd[index]))
        chains.append(
            ProjectedChain(
                (transfer,), tuple(stamps), tuple(positions), tuple(transactions), tuple(usd_after)
            )
        )
    return chains


def project_all(stores: SqlStores, chains: Sequence[ProjectedChain]) -> float:
    started = time.perf_counter()
    projected = 0
    for chunk in batches(chains):
        projected += len(chunk)
        stores.projections.project(chunk, ProjectionCursor(projected, chunk[-1].transfers[-1].id))
    return time.perf_counter() - started


def copy_rows(chunk: Sequence[ProjectedChain]) -> Iterator[tuple[str, list[tuple[object, ...]]]]:
    events, positions, transactions = [], [], []
    for chain in chunk:
        for s in chain.stamps:
            events.append(
                (f"{s.account_id.value:016x}", s.sequence_number, hex128(s.first_transfer_id))
            )
        for p in chain.positions:
            positions.append(
                (
                    f"{p.account_id.value:016x}",
                    p.sequence_number,
                    p.contract.value,
                    p.qty_lots,
                    p.basis_micro_usd,
                    p.timestamp_ns,
                )
            )
        for t in chain.transactions:
            transactions.append(
                (
                    f"{t.account_id.value:016x}",
                    t.sequence_number,
                    json.dumps([[int(c), a] for c, a in t.amounts_micro_usd]),
                    json.dumps([hex128(i) for i in t.transfer_ids]),
                    t.timestamp_ns,
                )
            )
    yield "account_events (account_id, sequence_number, first_transfer_id)", events
    yield (
        (
            "position_records (account_id, sequence_number, contract_id, qty_lots,"
            " basis_micro_usd, timestamp_ns)"
        ),
        positions,
    )
    yield (
        (
            "transaction_records (account_id, sequence_number, amounts_json,"
            " transfer_ids_json, timestamp_ns)"
        ),
        transactions,
    )


def copy_floor(libpq_url: str, chains: Sequence[ProjectedChain]) -> float:
    with psycopg.connect(libpq_url) as connection:
        started = time.perf_counter()
        for chunk in batches(chains):
            with connection.transaction(), connection.cursor() as cursor:
                for target, rows in copy_rows(chunk):
                    with cursor.copy(f"COPY {target} FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
        return time.perf_counter() - started


def clear(stores: SqlStores) -> None:
    with stores.engine.begin() as connection:
        for table in (
            "account_events",
            "position_records",
            "transaction_records",
            "current_balances",
            "projection_cursor",
        ):
            connection.execute(text(f"TRUNCATE {table}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_ADMIN_URL, help="admin URL of the server")
    parser.add_argument("--chains", type=int, default=20_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=5, help="best of this many runs")
    args = parser.parse_args()
    chains = synthetic_chains(args.chains, args.accounts)
    events = sum(len(c.stamps) for c in chains)
    best = {"new": float("inf"), "replay": float("inf"), "floor": float("inf")}
    with scratch_stores(args.url, "axbench_proj") as (stores, libpq_url):
        project_all(stores, chains[:2_000])  # warm up
        for _ in range(args.rounds):  # interleaved, best of each: the machine is shared
            clear(stores)
            best["new"] = min(best["new"], project_all(stores, chains))
            best["replay"] = min(best["replay"], project_all(stores, chains))
            clear(stores)
            best["floor"] = min(best["floor"], copy_floor(libpq_url, chains))
        version = server_version(stores)
    projected_s, replay_s, floor_s = best["new"], best["replay"], best["floor"]
    print(
        f"PostgreSQL {version}; {args.chains:,} chains, {events:,} events, "
        f"{args.accounts:,} accounts, batches of up to 1,000 chains; best of {args.rounds}"
    )
    for label, seconds in (
        ("SqlProjections.project (new rows)      ", projected_s),
        ("SqlProjections.project (replay, no-op) ", replay_s),
        ("floor: psycopg COPY of the same rows   ", floor_s),
    ):
        print(f"  {label} {events / seconds:10,.0f} events/s  ({seconds:6.2f} s)")


if __name__ == "__main__":
    main()
