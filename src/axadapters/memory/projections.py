"""Memory projections of the committed ledger, flag history and pending fills."""

from __future__ import annotations

from collections.abc import Sequence

from axdomain.ids import AccountId
from axdomain.ledger.invariants import AccountFlagChange
from axdomain.ledger.projection import PendingFill, ProjectedChain, ProjectionCursor
from axdomain.ledger.sequencing import PositionRecord, SequenceStamp, TransactionRecord


class MemoryProjections:
    def __init__(self) -> None:
        self._cursor = ProjectionCursor()
        self._stamps: dict[tuple[AccountId, int], SequenceStamp] = {}
        self._positions: dict[tuple[AccountId, int], PositionRecord] = {}
        self._transactions: dict[tuple[AccountId, int], TransactionRecord] = {}
        self._balances: dict[AccountId, int] = {}

    def cursor(self) -> ProjectionCursor:
        return self._cursor

    def project(self, chains: Sequence[ProjectedChain], cursor: ProjectionCursor) -> None:
        if self._cursor.transfers_projected >= cursor.transfers_projected:
            return  # already projected (by another writer of the same ledger)
        for chain in chains:
            for stamp in chain.stamps:
                self._stamps.setdefault((stamp.account_id, stamp.sequence_number), stamp)
            for p in chain.positions:
                self._positions.setdefault(p.key, p)
            for t in chain.transactions:
                self._transactions.setdefault(t.key, t)
            self._balances.update(chain.usd_after)
        self._cursor = cursor

    def stamps(self) -> Sequence[SequenceStamp]:
        return [self._stamps[k] for k in sorted(self._stamps)]

    def position_records(self, account_id: AccountId) -> Sequence[PositionRecord]:
        return [v for k, v in sorted(self._positions.items()) if k[0] == account_id]

    def transaction_records(self, account_id: AccountId) -> Sequence[TransactionRecord]:
        return [v for k, v in sorted(self._transactions.items()) if k[0] == account_id]

    def balances(self) -> dict[AccountId, int]:
        return dict(self._balances)

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


class MemoryFlagHistory:
    def __init__(self) -> None:
        self._changes: list[AccountFlagChange] = []

    def append(self, change: AccountFlagChange) -> None:
        self._changes.append(change)

    def all_changes(self) -> Sequence[AccountFlagChange]:
        return list(self._changes)


class MemoryPendingFills:
    def __init__(self) -> None:
        self._pending: dict[tuple[int, int], PendingFill] = {}

    def put(self, fill: PendingFill) -> None:
        self._pending.setdefault((fill.taker_order_id, fill.fill_key), fill)

    def all_pending(self) -> Sequence[PendingFill]:
        return [self._pending[k] for k in sorted(self._pending)]

    def delete(self, taker_order_id: int, fill_key: int) -> None:
        self._pending.pop((taker_order_id, fill_key), None)
