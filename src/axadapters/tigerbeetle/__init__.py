"""The ledger port over a real TigerBeetle cluster, through the official client."""

from axadapters.tigerbeetle.ledger import TigerBeetleLedger, UnexpectedLedgerResult

__all__ = ["TigerBeetleLedger", "UnexpectedLedgerResult"]
