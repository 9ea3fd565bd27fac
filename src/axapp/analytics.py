"""Composition of the analytics port: which store to open, and the projection that feeds it
from the committed ledger.

The projection is a pure function of the ledger (``project_ledger``), so it never needs its
own durable log: the store keeps how many chains it has fully stored, a restart re-projects
from there, and because every write is idempotent on its natural key a crash between
"records written" and "cursor advanced" only causes a harmless rewrite.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TextIO

from axadapters.clickhouse import DEFAULT_DATABASE, chdb_dsn, open_clickhouse
from axapp.config import Config
from axdomain.analytics import MAX_WRITE_RECORDS, AnalyticsStore, project_ledger
from axdomain.cache import RiskSnapshot
from axdomain.ids import AccountId
from axdomain.ledger.port import LedgerPort
from axdomain.ledger.sequencing import PositionRecord, TransactionRecord


def analytics_dsn(config: Config) -> str:
    """``AX_CLICKHOUSE_DSN`` when set, else embedded chDB in ``AX_DATA_DIR/chdb``."""
    return config.clickhouse_dsn or chdb_dsn(config.chdb_folder)


def open_analytics(config: Config, database: str = DEFAULT_DATABASE) -> AnalyticsStore:
    """The configured analytics store, schema migrated. Close it when done: embedded chDB
    holds its folder for the whole process until then."""
    return open_clickhouse(analytics_dsn(config), database, config.clickhouse_cluster)


class LedgerProjection:
    """Feeds one analytics store from one ledger, in commit order.

    Use: ``projection = LedgerProjection(store, ledger)``; ``projection.catch_up()`` once at
    start (before new commits); then ``projection.on_commit(positions, transactions)`` after
    every committed chain, and ``projection.on_risk_snapshots(snapshots)`` whenever risk is
    recomputed.
    """

    def __init__(self, store: AnalyticsStore, ledger: LedgerPort) -> None:
        self.store = store
        self.ledger = ledger
        self.chains = 0

    def catch_up(self) -> int:
        """Store the records of every chain committed since the stored cursor; returns how
        many chains were projected. Records go out in blocks of at most
        ``MAX_WRITE_RECORDS``, the cursor advancing after each block."""
        start = self.store.projected_chains()
        positions: list[PositionRecord] = []
        transactions: list[TransactionRecord] = []
        done = start
        for chain in project_ledger(self.ledger.scan_transfers(), skip_chains=start):
            positions += chain.positions
            transactions += chain.transactions
            done = chain.index + 1
            if len(positions) + len(transactions) >= MAX_WRITE_RECORDS // 2:
                self._flush(positions, transactions, done)
                positions, transactions = [], []
        self._flush(positions, transactions, done)
        self.chains = max(done, start)
        return self.chains - start

    def on_commit(
        self, positions: Sequence[PositionRecord], transactions: Sequence[TransactionRecord]
    ) -> None:
        """The records of exactly one chain that the ledger has just committed."""
        self.chains += 1
        self._flush(list(positions), list(transactions), self.chains)

    def on_risk_snapshots(self, snapshots: Sequence[RiskSnapshot]) -> None:
        """Account-level snapshots; idempotent on ``(account_id, as_of_ns)``."""
        for start in range(0, len(snapshots), MAX_WRITE_RECORDS):
            self.store.write_risk_snapshots(snapshots[start : start + MAX_WRITE_RECORDS])

    def _flush(
        self, positions: list[PositionRecord], transactions: list[TransactionRecord], chains: int
    ) -> None:
        if positions:
            self.store.write_positions(positions)
        if transactions:
            self.store.write_transactions(transactions)
        self.store.mark_projected(chains)


def format_latest_positions(store: AnalyticsStore, account_id: AccountId) -> list[str]:
    """One line per contract: the account's latest positions as read back from analytics."""
    lines = []
    for record in store.latest_positions(account_id):
        lines.append(
            f"{record.contract}: qty_lots={record.qty_lots} "
            f"basis_micro_usd={record.basis_micro_usd} seq={record.sequence_number}"
        )
    return lines


def write_latest_positions(out: TextIO, store: AnalyticsStore, account_id: AccountId) -> None:
    out.write(f"latest positions of {account_id} (read back from analytics):\n")
    lines = format_latest_positions(store, account_id) or ["(none)"]
    for line in lines:
        out.write(f"  {line}\n")


def records_of(
    records: Iterable[PositionRecord | TransactionRecord],
) -> tuple[list[PositionRecord], list[TransactionRecord]]:
    """Split the exchange's mixed record list into the two kinds the port writes."""
    items = list(records)
    return (
        [r for r in items if isinstance(r, PositionRecord)],
        [r for r in items if isinstance(r, TransactionRecord)],
    )


def project_and_show(out: TextIO, config: Config, ledger: LedgerPort, account_id: AccountId) -> int:
    """The demo's analytics step in one call: open the configured store, catch the
    projection up with the ledger, print ``account_id``'s latest positions read back from
    it, close. Returns how many chains this call projected."""
    store = open_analytics(config)
    try:
        projected = LedgerProjection(store, ledger).catch_up()
        out.write(f"analytics: projected {projected} ledger events into {analytics_dsn(config)}\n")
        write_latest_positions(out, store, account_id)
    finally:
        store.close()
    return projected
