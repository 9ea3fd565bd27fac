"""The ledger service: one journaled twin behind a local socket, shared by several processes.

The twin is single-writer (one process owns its journal); ``ax ledger-serve`` is that one
process, and every ``ax serve`` reaches it through ``RemoteLedger``, an adapter of the same
``LedgerPort``. A real TigerBeetle cluster replaces both in production.
"""

from axadapters.ledger_service.client import RemoteLedger
from axadapters.ledger_service.server import LedgerServer, parse_ledger_url

__all__ = ["LedgerServer", "RemoteLedger", "parse_ledger_url"]
