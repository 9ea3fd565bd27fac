"""Memory unit of work: snapshot the stores at the start, restore them on an exception.

The memory stores hold plain dicts and lists of immutable values, so a shallow copy of each
container is a faithful snapshot; the cost is linear in the stores' size, which is fine for
the tests and the demo this adapter serves.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Sequence


class MemoryUnitOfWork:
    def __init__(self, stores: Sequence[object]) -> None:
        self._stores = list(stores)
        self._depth = 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        snapshot = [
            {name: copy.copy(value) for name, value in vars(store).items()}
            for store in self._stores
        ]
        self._depth = 1
        try:
            yield
        except BaseException:
            for store, state in zip(self._stores, snapshot, strict=True):
                vars(store).update(state)
            raise
        finally:
            self._depth = 0
