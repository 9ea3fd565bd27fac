"""The cache-port contract suites against the memory adapters (on the system clock)."""

from __future__ import annotations

from axadapters.memory.cache import (
    MemoryRiskSnapshotBus,
    MemoryRiskSnapshotCache,
    MemorySessionStore,
)
from axadapters.system import SystemClock
from tests.contract.suite_cache import (
    RiskSnapshotCacheContract,
    RiskSnapshotPubSubContract,
    SessionStoreContract,
)


class TestMemoryRiskSnapshotCache(RiskSnapshotCacheContract):
    def make_risk_cache(self) -> MemoryRiskSnapshotCache:
        return MemoryRiskSnapshotCache(SystemClock())


class TestMemorySessionStore(SessionStoreContract):
    def make_session_store(self) -> MemorySessionStore:
        return MemorySessionStore(SystemClock())


class TestMemoryRiskSnapshotPubSub(RiskSnapshotPubSubContract):
    def make_snapshot_bus(self) -> MemoryRiskSnapshotBus:
        return MemoryRiskSnapshotBus()
