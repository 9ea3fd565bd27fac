"""``LedgerTwin``: the embedded ledger — TigerBeetle's rules in process, persisted to a journal.

Memory-only (``LedgerTwin()``) for tests; ``LedgerTwin.open(path)`` replays the journal
and appends one record per create call that changed anything. A batch whose events all
fail writes nothing (except a burnt transfer id, which TigerBeetle also remembers). The
journal is written before the call returns; if the write fails the batch is taken back
in memory and the error raised, so memory never runs ahead of the file.

One writer owns a journal at a time (an advisory file lock); calls are serialized by a lock.

The twin is single-writer by design and does not scale out: one process, one journal, no
replicas. A second process opening the same journal is refused ("in use by another
writer"), so several ``ax serve`` instances, or surviving the loss of a machine, need a
TigerBeetle cluster (``AX_TIGERBEETLE_ADDRESSES``, several replicas) instead.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

import attrs

from axadapters.ledger_twin.engine import CommittedBatch, LedgerEngine
from axadapters.ledger_twin.journal import (
    FsyncPolicy,
    JournalError,
    JournalNeedsRepair,
    JournalRecovery,
    JournalWriter,
    replay_journal,
)
from axdomain.ledger.port import TIGERBEETLE_BATCH_EVENTS_MAX, AccountError, TransferError
from axdomain.ledger.values import LedgerAccount, Transfer


class LedgerTwin:
    """Implements ``LedgerPort``; see ``engine`` for the exact TigerBeetle subset."""

    def __init__(
        self,
        *,
        clock_ns: Callable[[], int] | None = None,
        batch_events_max: int = TIGERBEETLE_BATCH_EVENTS_MAX,
    ) -> None:
        self._engine = LedgerEngine(clock_ns, batch_events_max)
        self._journal: JournalWriter | None = None
        self._recovery: JournalRecovery | None = None
        self._needs_repair = False
        self._closed = False
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        clock_ns: Callable[[], int] | None = None,
        fsync: FsyncPolicy = FsyncPolicy.EVERY_BATCH,
        repair_torn_tail: bool = False,
        batch_events_max: int = TIGERBEETLE_BATCH_EVENTS_MAX,
    ) -> LedgerTwin:
        """Replay the journal at ``path`` (created if absent) and append to it from now on.

        A torn last record is reported in ``recovery`` and left in the file; writes raise
        ``JournalNeedsRepair`` until ``repair_torn_tail()`` (or ``repair_torn_tail=True``
        here) moves those bytes aside. Corruption before the end raises ``JournalCorrupt``.
        """
        twin = cls(clock_ns=clock_ns, batch_events_max=batch_events_max)
        journal_path = Path(path)
        outcome = replay_journal(journal_path, twin._engine.replay)
        twin._journal = JournalWriter(journal_path, fsync, outcome.valid_bytes)
        twin._recovery = outcome.recovery
        twin._needs_repair = outcome.recovery is not None
        if repair_torn_tail and twin._needs_repair:
            twin.repair_torn_tail()
        return twin

    @property
    def recovery(self) -> JournalRecovery | None:
        """The torn tail found at open, or ``None`` when the journal ended cleanly."""
        return self._recovery

    @property
    def last_timestamp(self) -> int:
        return self._engine.last_timestamp

    @property
    def batch_events_max(self) -> int:
        return self._engine.batch_events_max

    def pending_status(self, transfer_id: int) -> str | None:
        """``pending``/``posted``/``voided``/``expired`` of a pending transfer (twin only:
        TigerBeetle shows it only through balances and the post/void results)."""
        with self._lock:
            return self._engine.pending_status(transfer_id)

    def repair_torn_tail(self) -> JournalRecovery:
        """Copy the torn bytes to ``<journal>.torn-<offset>`` and cut them off the journal."""
        with self._lock:
            recovery = self._recovery
            if recovery is None or not self._needs_repair:
                raise JournalNeedsRepair("there is no torn tail to repair")
            assert self._journal is not None
            path = Path(recovery.path)
            saved = path.with_name(f"{path.name}.torn-{recovery.valid_bytes}")
            with path.open("rb") as source:
                source.seek(recovery.valid_bytes)
                saved.write_bytes(source.read())
            self._journal.truncate(recovery.valid_bytes)
            self._recovery = attrs.evolve(recovery, saved_tail=str(saved))
            self._needs_repair = False
            return self._recovery

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._journal is not None:
                self._journal.close()

    def __enter__(self) -> LedgerTwin:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- LedgerPort ------------------------------------------------------------------------

    def create_accounts(self, accounts: Sequence[LedgerAccount]) -> list[AccountError]:
        with self._lock:
            self._check_writable()
            errors, batch = self._engine.create_accounts(accounts)
            self._persist(batch)
            return errors

    def create_transfers(self, transfers: Sequence[Transfer]) -> list[TransferError]:
        with self._lock:
            self._check_writable()
            errors, batch = self._engine.create_transfers(transfers)
            self._persist(batch)
            return errors

    def lookup_accounts(self, ids: Sequence[int]) -> list[LedgerAccount]:
        with self._lock:
            return self._engine.lookup_accounts(ids)

    def lookup_transfers(self, ids: Sequence[int]) -> list[Transfer]:
        with self._lock:
            return self._engine.lookup_transfers(ids)

    def query_accounts(self, ledger: int, user_data_32: int | None = None) -> list[LedgerAccount]:
        with self._lock:
            return self._engine.query_accounts(ledger, user_data_32)

    def query_transfers(self, ledger: int) -> list[Transfer]:
        with self._lock:
            return self._engine.query_transfers(ledger)

    def get_account_transfers(self, account_id: int) -> list[Transfer]:
        with self._lock:
            return self._engine.get_account_transfers(account_id)

    def scan_accounts(self) -> list[LedgerAccount]:
        with self._lock:
            return self._engine.scan_accounts()

    def scan_transfers(self) -> list[Transfer]:
        with self._lock:
            return self._engine.scan_transfers()

    # -- internals -------------------------------------------------------------------------

    def _check_writable(self) -> None:
        if self._closed:
            raise JournalError("the ledger twin is closed")
        if self._needs_repair:
            raise JournalNeedsRepair(
                "the journal ends in a torn record; call repair_torn_tail() before writing"
            )

    def _persist(self, batch: CommittedBatch) -> None:
        if self._journal is None or batch.is_empty:
            return
        try:
            self._journal.append(batch)
        except BaseException:
            self._engine.undo_batch(batch)
            raise
