"""Ledger twin throughput: linked batches of transfers, memory-only and journaled.

Prints figures only (no assertions). Usage::

    python bench/bench_ledger_twin.py [--transfers 100000] [--batch 8] [--fsync-transfers 10000]

Journaled runs use a temporary directory; the fsync-per-batch run is shorter because its
cost is the disk's, not the twin's.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from axadapters.ledger_twin import FsyncPolicy, LedgerTwin
from axdomain.ledger.values import (
    USD_LEDGER,
    AccountFlags,
    LedgerAccount,
    Transfer,
    TransferCode,
    TransferFlags,
)

CUSTOMERS = 200
CUSTODY_ID = 1
FIRST_CUSTOMER_ID = 1000
FUNDING_MICRO_USD = 10**15


def opening(twin: LedgerTwin) -> int:
    """Create and fund the accounts; returns the next free transfer id."""
    accounts = [LedgerAccount(id=CUSTODY_ID, ledger=USD_LEDGER, code=1)]
    accounts += [
        LedgerAccount(
            id=FIRST_CUSTOMER_ID + i,
            ledger=USD_LEDGER,
            code=2,
            flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
        )
        for i in range(CUSTOMERS)
    ]
    assert twin.create_accounts(accounts) == []
    deposits = [
        Transfer(
            id=1 + i,
            debit_account_id=CUSTODY_ID,
            credit_account_id=FIRST_CUSTOMER_ID + i,
            amount=FUNDING_MICRO_USD,
            ledger=USD_LEDGER,
            code=int(TransferCode.DEPOSIT),
        )
        for i in range(CUSTOMERS)
    ]
    assert twin.create_transfers(deposits) == []
    return CUSTOMERS + 1


def make_batches(first_id: int, transfers: int, batch_size: int) -> list[list[Transfer]]:
    rng = random.Random(42)
    batches: list[list[Transfer]] = []
    next_id = first_id
    for _ in range(transfers // batch_size):
        batch = []
        for leg in range(batch_size):
            debit, credit = rng.sample(range(CUSTOMERS), 2)
            last = leg == batch_size - 1
            batch.append(
                Transfer(
                    id=next_id,
                    debit_account_id=FIRST_CUSTOMER_ID + debit,
                    credit_account_id=FIRST_CUSTOMER_ID + credit,
                    amount=rng.randrange(1, 1_000_000),
                    ledger=USD_LEDGER,
                    code=int(TransferCode.REALIZED_PNL),
                    flags=TransferFlags.NONE if last else TransferFlags.LINKED,
                )
            )
            next_id += 1
        batches.append(batch)
    return batches


def run(label: str, make_twin: Callable[[], LedgerTwin], transfers: int, batch: int) -> None:
    twin = make_twin()
    try:
        batches = make_batches(opening(twin), transfers, batch)
        failed = 0
        started = time.perf_counter()
        for events in batches:
            failed += len(twin.create_transfers(events))
        elapsed_s = time.perf_counter() - started
    finally:
        twin.close()
    count = len(batches) * batch
    print(
        f"{label:<34} {count:>8} transfers in {elapsed_s:7.3f} s = "
        f"{count / elapsed_s:>10,.0f} transfers/s ({len(batches) / elapsed_s:,.0f} batches/s)"
        f"{f', {failed} failed' if failed else ''}"
    )


def run_replay(path: Path) -> None:
    size_bytes = path.stat().st_size
    started = time.perf_counter()
    with LedgerTwin.open(path) as twin:
        count = len(twin.scan_transfers())
    elapsed_s = time.perf_counter() - started
    print(
        f"{'replay at open':<34} {count:>8} transfers in {elapsed_s:7.3f} s = "
        f"{count / elapsed_s:>10,.0f} transfers/s ({size_bytes / 1e6:.1f} MB journal)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--fsync-transfers", type=int, default=10_000)
    args = parser.parse_args()
    print(f"batches of {args.batch} linked transfers, {CUSTOMERS} funded customer accounts")
    run("memory", LedgerTwin, args.transfers, args.batch)
    with tempfile.TemporaryDirectory() as directory:
        buffered = Path(directory) / "buffered.journal"
        run(
            "journaled, fsync=os_buffered",
            lambda: LedgerTwin.open(buffered, fsync=FsyncPolicy.OS_BUFFERED),
            args.transfers,
            args.batch,
        )
        run_replay(buffered)
        synced = Path(directory) / "synced.journal"
        run(
            "journaled, fsync=every_batch",
            lambda: LedgerTwin.open(synced, fsync=FsyncPolicy.EVERY_BATCH),
            args.fsync_transfers,
            args.batch,
        )


if __name__ == "__main__":
    main()
