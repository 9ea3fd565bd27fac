"""The analytics port in memory: dicts keyed by the natural keys, which makes every write
idempotent by construction (a replayed record overwrites itself)."""

from __future__ import annotations

from collections.abc import Sequence

from axdomain.analytics import (
    MAX_READ_ROWS,
    RiskRollup,
    Rollup,
    require_account,
    require_account_snapshot,
    require_batch,
    require_window,
    rollups_of,
)
from axdomain.cache import RiskSnapshot
from axdomain.contracts import ContractId
from axdomain.errors import InvalidValue
from axdomain.ids import AccountId
from axdomain.ledger.sequencing import PositionRecord, TransactionRecord


def _bounded(rows: list[object], field: str) -> None:
    if len(rows) > MAX_READ_ROWS:
        raise InvalidValue(field, len(rows), f"more than {MAX_READ_ROWS} rows: narrow the window")


class MemoryAnalyticsStore:
    def __init__(self) -> None:
        self._positions: dict[tuple[AccountId, int, ContractId], PositionRecord] = {}
        self._transactions: dict[tuple[AccountId, int], TransactionRecord] = {}
        self._snapshots: dict[tuple[AccountId, int], RiskSnapshot] = {}
        self._projected_chains = 0

    def write_positions(self, records: Sequence[PositionRecord]) -> None:
        require_batch("positions", records, PositionRecord)
        for r in records:
            self._positions[(r.account_id, r.sequence_number, r.contract)] = r

    def write_transactions(self, records: Sequence[TransactionRecord]) -> None:
        require_batch("transactions", records, TransactionRecord)
        for r in records:
            self._transactions[r.key] = r

    def write_risk_snapshots(self, snapshots: Sequence[RiskSnapshot]) -> None:
        require_batch("risk_snapshots", snapshots, RiskSnapshot)
        for s in snapshots:
            require_account_snapshot(s)
        for s in snapshots:
            self._snapshots[(s.account_id, s.as_of_ns)] = s

    def latest_positions(self, account_id: AccountId) -> list[PositionRecord]:
        require_account(account_id)
        latest: dict[ContractId, PositionRecord] = {}
        for r in self._positions.values():
            if r.account_id != account_id:
                continue
            seen = latest.get(r.contract)
            if seen is None or (r.timestamp_ns, r.sequence_number) > (
                seen.timestamp_ns,
                seen.sequence_number,
            ):
                latest[r.contract] = r
        return [latest[c] for c in sorted(latest)]

    def positions_between(
        self, account_id: AccountId, start_ns: int, end_ns: int
    ) -> list[PositionRecord]:
        require_account(account_id)
        start, end = require_window(start_ns, end_ns)
        rows = sorted(
            (
                r
                for r in self._positions.values()
                if r.account_id == account_id and start <= r.timestamp_ns < end
            ),
            key=lambda r: (r.timestamp_ns, r.sequence_number, r.contract),
        )
        _bounded(list(rows), "positions")
        return rows

    def transactions_between(
        self, account_id: AccountId, start_ns: int, end_ns: int
    ) -> list[TransactionRecord]:
        require_account(account_id)
        start, end = require_window(start_ns, end_ns)
        rows = sorted(
            (
                r
                for r in self._transactions.values()
                if r.account_id == account_id and start <= r.timestamp_ns < end
            ),
            key=lambda r: (r.timestamp_ns, r.sequence_number),
        )
        _bounded(list(rows), "transactions")
        return rows

    def risk_snapshots_between(
        self, account_id: AccountId, start_ns: int, end_ns: int
    ) -> list[RiskSnapshot]:
        require_account(account_id)
        start, end = require_window(start_ns, end_ns)
        rows = [
            self._snapshots[key]
            for key in sorted(self._snapshots)
            if key[0] == account_id and start <= key[1] < end
        ]
        _bounded(list(rows), "risk_snapshots")
        return rows

    def risk_rollups(
        self, account_id: AccountId, rollup: Rollup, start_ns: int, end_ns: int
    ) -> list[RiskRollup]:
        require_account(account_id)
        start, end = require_window(start_ns, end_ns)
        if not isinstance(rollup, Rollup):
            raise InvalidValue("rollup", rollup, "must be a Rollup")
        mine = [s for (a, _), s in self._snapshots.items() if a == account_id]
        rows = [r for r in rollups_of(mine, rollup) if start <= r.bucket_start_ns < end]
        _bounded(list(rows), "risk_rollups")
        return rows

    def projected_chains(self) -> int:
        return self._projected_chains

    def mark_projected(self, chains: int) -> None:
        if isinstance(chains, bool) or not isinstance(chains, int) or chains < 0:
            raise InvalidValue("chains", chains, "must be a non-negative int")
        self._projected_chains = max(self._projected_chains, chains)

    def close(self) -> None:
        return None
