"""Memory lane state for tests and the demo."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from axdomain.venues.lanes import KillSwitchEvent, LaneHealth, require_cursor


class MemoryLaneStateStore:
    def __init__(self) -> None:
        self._cursors: dict[str, str] = {}
        self._health: dict[str, LaneHealth] = {}
        self._kill_log: list[KillSwitchEvent] = []
        self._lock = threading.Lock()

    def get_cursor(self, source: str) -> str | None:
        with self._lock:
            return self._cursors.get(source)

    def put_cursor(self, source: str, cursor: str, at_ns: int) -> None:
        require_cursor(cursor)
        with self._lock:
            self._cursors[source] = cursor

    def put_health(self, health: LaneHealth) -> None:
        with self._lock:
            self._health[health.label] = health

    def get_health(self, label: str) -> LaneHealth | None:
        with self._lock:
            return self._health.get(label)

    def all_health(self) -> Sequence[LaneHealth]:
        with self._lock:
            return [self._health[label] for label in sorted(self._health)]

    def append_kill_switch(self, event: KillSwitchEvent) -> None:
        with self._lock:
            self._kill_log.append(event)

    def kill_switch(self, label: str) -> KillSwitchEvent | None:
        history = self.kill_switch_history(label)
        return history[-1] if history else None

    def kill_switch_history(self, label: str) -> Sequence[KillSwitchEvent]:
        with self._lock:
            return [event for event in self._kill_log if event.label == label]
