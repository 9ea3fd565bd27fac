"""Durable state of the account lanes: cursors, last health, the kill-switch log."""

from axadapters.lane_state.memory import MemoryLaneStateStore

__all__ = ["MemoryLaneStateStore"]
