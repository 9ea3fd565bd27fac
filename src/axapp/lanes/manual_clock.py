"""A clock moved by hand: backoff in the demo and the tests counts in steps, not seconds."""

from __future__ import annotations

import threading


class ManualClock:
    def __init__(self, start_ns: int) -> None:
        self._now_ns = start_ns
        self._lock = threading.Lock()

    def now_ns(self) -> int:
        with self._lock:
            return self._now_ns

    def advance_ms(self, milliseconds: int) -> None:
        with self._lock:
            self._now_ns += milliseconds * 1_000_000
