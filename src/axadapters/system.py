"""The real clock, id generator and randomness source (the domain receives these)."""

from __future__ import annotations

import os
import threading
import time

from axdomain.ids import RESERVED_ID_LIMIT

_TIME_BITS = 48
_RANDOM_BITS = 16
_RANDOM_MASK = (1 << _RANDOM_BITS) - 1
_MAX_ID = (1 << 64) - 1


class SystemClock:
    def now_ns(self) -> int:
        return time.time_ns()


class OsSecretSource:
    def token_bytes(self, count: int) -> bytes:
        return os.urandom(count)


class UlidIdGenerator:
    """Top 64 bits of a ULID: 48-bit Unix ms time + 16 random bits, monotonic.

    Within one millisecond (or if the wall clock steps back) the next id is the previous
    one plus one, the ULID spec's monotonic rule; ids therefore never repeat or decrease in
    a process. The ms time is always > 0, so no id lands in the reserved system range.
    """

    def __init__(self, clock_ms: object = None, random16: object = None) -> None:
        self._clock_ms = clock_ms if callable(clock_ms) else (lambda: time.time_ns() // 1_000_000)
        self._random16 = (
            random16 if callable(random16) else (lambda: int.from_bytes(os.urandom(2), "big"))
        )
        self._last = 0
        self._lock = threading.Lock()

    def new_id(self) -> int:
        with self._lock:
            now_ms = int(self._clock_ms())
            assert 0 < now_ms < (1 << _TIME_BITS), now_ms
            candidate = (now_ms << _RANDOM_BITS) | (int(self._random16()) & _RANDOM_MASK)
            new_value = max(candidate, self._last + 1)
            assert RESERVED_ID_LIMIT <= new_value <= _MAX_ID, new_value
            self._last = new_value
            return new_value
