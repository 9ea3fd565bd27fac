"""The lanes' event log: bounded, thread-safe, every entry carrying its account."""

from __future__ import annotations

import collections
import threading

from axdomain.venues.lanes import LaneEvent, LaneEventKind

DEFAULT_MAX_EVENTS = 10_000


class LaneEventLog:
    """Keeps the newest ``max_events``; older ones are counted in ``dropped``, never block."""

    def __init__(self, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        if max_events < 1:
            raise ValueError("max_events must be positive")
        self._events: collections.deque[tuple[int, LaneEvent]] = collections.deque(
            maxlen=max_events
        )
        self._emitted = 0
        self._lock = threading.Lock()

    def emit(self, event: LaneEvent) -> None:
        with self._lock:
            self._emitted += 1
            self._events.append((self._emitted, event))

    @property
    def emitted(self) -> int:
        return self._emitted

    @property
    def dropped(self) -> int:
        with self._lock:
            return self._emitted - len(self._events)

    def since(self, position: int) -> list[tuple[int, LaneEvent]]:
        """Events with a position after ``position`` (a caller's own cursor into the log)."""
        with self._lock:
            return [(index, event) for index, event in self._events if index > position]

    def events(
        self, label: str | None = None, kind: LaneEventKind | None = None
    ) -> list[LaneEvent]:
        with self._lock:
            return [
                event
                for _, event in self._events
                if (label is None or event.label == label) and (kind is None or event.kind is kind)
            ]
