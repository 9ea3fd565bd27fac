"""One thread runs every use case, in arrival order, each under a deadline.

The exchange engine keeps its book and risk state in memory and the use cases are
synchronous, so requests are applied one at a time (as a matching engine does) on a single
worker thread; the event loop stays free to accept, parse and answer. A call that misses
its deadline answers 503 ``unavailable``; the backing service's own timeouts (connect
timeouts, the SQLite busy timeout) bound how long the worker itself can stay stuck.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
REQUEST_TIMEOUT_MS = 10_000
MAX_WAITING_CALLS = 1_000


class Overloaded(Exception):
    """More calls wait for the worker than ``MAX_WAITING_CALLS``."""


class Deadline(Exception):
    """A call did not finish within its deadline."""


class SerialWorker:
    def __init__(self, timeout_ms: int = REQUEST_TIMEOUT_MS) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ax-use-cases")
        self._timeout_s = timeout_ms / 1000
        self._waiting = 0

    async def run(self, call: Callable[[], T]) -> T:
        if self._waiting >= MAX_WAITING_CALLS:
            raise Overloaded
        self._waiting += 1
        try:
            future = asyncio.wrap_future(self._pool.submit(call))
            try:
                return await asyncio.wait_for(future, self._timeout_s)
            except TimeoutError:
                raise Deadline from None
        finally:
            self._waiting -= 1

    def run_blocking(self, call: Callable[[], T]) -> T:
        """For start-up and shut-down work outside the event loop."""
        return self._pool.submit(call).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
