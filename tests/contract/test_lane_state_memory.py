"""The lane state contract suite against the memory adapter."""

from __future__ import annotations

from axadapters.lane_state import MemoryLaneStateStore
from axdomain.venues import LaneStateStore
from tests.contract.suite_lane_state import LaneStateContract


class TestMemoryLaneState(LaneStateContract):
    def make_store(self) -> LaneStateStore:
        return MemoryLaneStateStore()
