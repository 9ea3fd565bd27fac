"""The analytics port: position, transaction and risk-snapshot history, read one account at
a time (SPEC §13).

Records are projections of the committed ledger (``PositionRecord`` / ``TransactionRecord``
keyed ``(account_id, sequence_number)``) and account-level ``RiskSnapshot`` values keyed
``(account_id, as_of_ns)``. A projection replayed after a crash writes the same records
again, so every write is idempotent on those natural keys: no reader may count a replayed
record twice. Every read names exactly one account; there is no "all accounts" reader, so a
store can always lead its lookup with ``account_id``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

import attrs

from axdomain._checks import require_range
from axdomain.cache import I64_MAX, RiskSnapshot
from axdomain.errors import DomainError, InvalidValue
from axdomain.ids import AccountId
from axdomain.ledger.events import split_chains
from axdomain.ledger.risk import RiskState
from axdomain.ledger.sequencing import PositionRecord, TransactionRecord, records_for_chain
from axdomain.ledger.values import Transfer

NS_PER_HOUR = 3_600_000_000_000
NS_PER_DAY = 24 * NS_PER_HOUR
# One read returns at most this many rows; a wider question must be asked in pieces.
MAX_READ_ROWS = 100_000
# One write call carries at most this many records (a store may insert them in smaller
# blocks, never larger).
MAX_WRITE_RECORDS = 100_000


class AnalyticsStorageError(DomainError):
    """The analytics store failed (unreachable, refused a statement, corrupt answer).

    ``field`` names the store, ``value`` the operation; the driver's own exception is chained
    but never surfaces as an untyped traceback.
    """


class Rollup(enum.Enum):
    """The fixed rollup granularities of ``risk_snapshots``, with their bucket width."""

    HOUR = NS_PER_HOUR
    DAY = NS_PER_DAY

    @property
    def bucket_ns(self) -> int:
        return int(self.value)


@attrs.frozen
class RiskRollup:
    """One account's risk over one bucket, built only from duplicate-insensitive aggregates
    (distinct sample count, min, max, value at the latest instant), so a snapshot written
    twice leaves the rollup unchanged."""

    account_id: AccountId
    bucket_start_ns: int
    samples: int
    equity_min_micro_usd: int
    equity_max_micro_usd: int
    equity_last_micro_usd: int
    maintenance_margin_max_micro_usd: int
    last_as_of_ns: int


def require_account(value: object) -> AccountId:
    if not isinstance(value, AccountId):
        raise InvalidValue("account_id", value, "must be an AccountId")
    return value


def require_window(start_ns: object, end_ns: object) -> tuple[int, int]:
    """A half-open ``[start_ns, end_ns)`` window inside the i64 nanosecond range."""
    start = require_range("start_ns", start_ns, 0, I64_MAX)
    end = require_range("end_ns", end_ns, 0, I64_MAX)
    if end < start:
        raise InvalidValue("end_ns", end, f"must not be before start_ns={start}")
    return start, end


def require_account_snapshot(snapshot: object) -> RiskSnapshot:
    """Analytics keeps the account-level snapshot only: per-symbol slices share its
    ``(account_id, as_of_ns)`` key and would replace it."""
    if not isinstance(snapshot, RiskSnapshot):
        raise InvalidValue("risk_snapshot", snapshot, "must be a RiskSnapshot")
    if snapshot.symbol is not None:
        raise InvalidValue("symbol", snapshot.symbol, "analytics keeps account-level snapshots")
    return snapshot


def require_batch(field: str, records: Sequence[object], kind: type) -> None:
    if len(records) > MAX_WRITE_RECORDS:
        raise InvalidValue(field, len(records), f"at most {MAX_WRITE_RECORDS} per call")
    for record in records:
        if not isinstance(record, kind):
            raise InvalidValue(field, record, f"must be a {kind.__name__}")


def bucket_start(timestamp_ns: int, rollup: Rollup) -> int:
    return timestamp_ns - timestamp_ns % rollup.bucket_ns


def rollups_of(snapshots: Iterable[RiskSnapshot], rollup: Rollup) -> list[RiskRollup]:
    """The reference rollup: snapshots of one account, distinct by ``as_of_ns``, grouped by
    bucket in bucket order."""
    by_bucket: dict[tuple[AccountId, int], dict[int, RiskSnapshot]] = {}
    for snapshot in snapshots:
        key = (snapshot.account_id, bucket_start(snapshot.as_of_ns, rollup))
        by_bucket.setdefault(key, {})[snapshot.as_of_ns] = snapshot
    answer = []
    for (account, start), members in sorted(by_bucket.items()):
        equities = [s.equity_micro_usd for s in members.values()]
        last = members[max(members)]
        answer.append(
            RiskRollup(
                account_id=account,
                bucket_start_ns=start,
                samples=len(members),
                equity_min_micro_usd=min(equities),
                equity_max_micro_usd=max(equities),
                equity_last_micro_usd=last.equity_micro_usd,
                maintenance_margin_max_micro_usd=max(
                    s.maintenance_margin_micro_usd for s in members.values()
                ),
                last_as_of_ns=last.as_of_ns,
            )
        )
    return answer


@attrs.frozen
class ChainRecords:
    """The records one committed chain (ledger event) projects to; ``index`` counts chains
    from 0 in commit order, so ``index + 1`` chains are projected once these are stored."""

    index: int
    positions: tuple[PositionRecord, ...]
    transactions: tuple[TransactionRecord, ...]


def project_ledger(
    transfers: Sequence[Transfer], *, skip_chains: int = 0
) -> Iterator[ChainRecords]:
    """Every committed chain's records, rebuilt from a ledger scan in commit order.

    The fold is the live one (``RiskState.apply_chain``), so the records equal those the
    exchange emitted when it committed. Chains before ``skip_chains`` are folded but not
    yielded (already projected).
    """
    require_range("skip_chains", skip_chains, 0, I64_MAX)
    state = RiskState()
    for index, chain in enumerate(split_chains(list(transfers))):
        stamps = state.apply_chain(chain)
        if index < skip_chains:
            continue
        positions, transactions = records_for_chain(chain, stamps, state.position)
        yield ChainRecords(index, tuple(positions), tuple(transactions))


class AnalyticsStore(Protocol):
    """Append-mostly history with idempotent writes and one-account reads."""

    def write_positions(self, records: Sequence[PositionRecord]) -> None:
        """Store each record; a record already stored under its key is not stored twice."""

    def write_transactions(self, records: Sequence[TransactionRecord]) -> None: ...

    def write_risk_snapshots(self, snapshots: Sequence[RiskSnapshot]) -> None:
        """Account-level snapshots only (``symbol`` is None); the rollups follow."""

    def latest_positions(self, account_id: AccountId) -> list[PositionRecord]:
        """The newest record per contract, in contract order (flat ones included)."""

    def positions_between(
        self, account_id: AccountId, start_ns: int, end_ns: int
    ) -> list[PositionRecord]:
        """Records with ``start_ns <= timestamp_ns < end_ns`` by (timestamp, sequence)."""

    def transactions_between(
        self, account_id: AccountId, start_ns: int, end_ns: int
    ) -> list[TransactionRecord]: ...

    def risk_snapshots_between(
        self, account_id: AccountId, start_ns: int, end_ns: int
    ) -> list[RiskSnapshot]:
        """Snapshots by ``as_of_ns``; older than the store's retention may be gone."""

    def risk_rollups(
        self, account_id: AccountId, rollup: Rollup, start_ns: int, end_ns: int
    ) -> list[RiskRollup]:
        """Buckets whose start lies in the window, in bucket order."""

    def projected_chains(self) -> int:
        """How many ledger chains the projection has fully stored (its resume point)."""

    def mark_projected(self, chains: int) -> None:
        """Raise the resume point to ``chains`` (never lowers it)."""

    def close(self) -> None: ...
