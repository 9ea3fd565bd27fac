"""The in-process TigerBeetle twin: the embedded ledger, persisted to an append-only journal."""

from axadapters.ledger_twin.engine import BATCH_EVENTS_MAX, CommittedBatch, LedgerEngine
from axadapters.ledger_twin.journal import (
    FsyncPolicy,
    JournalCorrupt,
    JournalError,
    JournalNeedsRepair,
    JournalRecovery,
)
from axadapters.ledger_twin.twin import LedgerTwin

__all__ = [
    "BATCH_EVENTS_MAX",
    "CommittedBatch",
    "FsyncPolicy",
    "JournalCorrupt",
    "JournalError",
    "JournalNeedsRepair",
    "JournalRecovery",
    "LedgerEngine",
    "LedgerTwin",
]
