"""The analytics contract on the memory adapter."""

from __future__ import annotations

from axadapters.memory.analytics import MemoryAnalyticsStore
from tests.contract.suite_analytics import AnalyticsContract


class TestMemoryAnalytics(AnalyticsContract):
    def make_store(self) -> MemoryAnalyticsStore:
        return MemoryAnalyticsStore()
