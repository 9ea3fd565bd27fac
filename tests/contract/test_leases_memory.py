"""The lease contract suite against the memory adapter."""

from __future__ import annotations

from axadapters.memory.leases import MemoryInstrumentLeases
from tests.contract.suite_leases import LeaseContract


class TestMemoryLeases(LeaseContract):
    def make_leases(self) -> MemoryInstrumentLeases:
        return MemoryInstrumentLeases()
