"""Memory unit of work: snapshot the stores at the start, restore them on an exception.

The memory stores hold plain dicts and lists of immutable values, so a shallow copy of each
container is a faithful snapshot; the cost is linear in the stores' size, which is fine for
the tests and the property machines this adapter serves. Hooks behave as in the SQL unit
(``axadapters.sql.tx``): ``on_commit`` after a commit, ``after`` once the unit ends.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator, Sequence


class MemoryUnitOfWork:
    def __init__(self, stores: Sequence[object], durable: Sequence[object] = ()) -> None:
        """``durable`` stores are never rolled back (they are written outside the unit)."""
        self._stores = list(stores)
        self._durable = {id(store) for store in durable}
        self._depth = 0
        self._on_commit: list[Callable[[], None]] = []
        self._after: list[Callable[[], None]] = []

    @property
    def active(self) -> bool:
        return self._depth > 0

    def on_commit(self, callback: Callable[[], None]) -> None:
        if self._depth:
            self._on_commit.append(callback)
        else:
            callback()

    def after(self, callback: Callable[[], None]) -> None:
        if self._depth:
            self._after.append(callback)
        else:
            callback()

    @contextlib.contextmanager
    def _joined(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    @contextlib.contextmanager
    def read_only(self) -> Iterator[None]:
        """No snapshot: nothing but audit records is written here, and those stay."""
        if self._depth:
            with self._joined():
                yield
            return
        self._depth = 1
        committed = False
        try:
            yield
            committed = True
        finally:
            self._finish(committed)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:
            with self._joined():
                yield
            return
        rolled = [s for s in self._stores if id(s) not in self._durable]
        snapshot = [{k: copy.copy(v) for k, v in vars(s).items()} for s in rolled]
        self._depth = 1
        committed = False
        try:
            yield
            committed = True
        except BaseException:
            for store, state in zip(rolled, snapshot, strict=True):
                vars(store).update(state)
            raise
        finally:
            self._finish(committed)

    def _finish(self, committed: bool) -> None:
        self._depth = 0
        after, on_commit = self._after, self._on_commit
        self._after, self._on_commit = [], []
        for hook in after:
            hook()
        if committed:
            for hook in on_commit:
                hook()
