"""The SQL unit of work: one transaction over every repository a request touches.

Repositories never open their own transaction while a unit of work is active on their
engine: ``begin``/``connect`` hand them the unit's connection (a write runs inside a
SAVEPOINT so an integrity error the repository maps to ``Conflict`` does not poison the
outer transaction). Outside a unit of work each call is its own short transaction, as
before. The active connection is held in a ``ContextVar``, so threads and tasks never
share one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from sqlalchemy import Connection, Engine

_ACTIVE: ContextVar[dict[int, Connection] | None] = ContextVar("ax_sql_uow", default=None)


def _current(engine: Engine) -> Connection | None:
    active = _ACTIVE.get()
    return None if active is None else active.get(id(engine))


@contextlib.contextmanager
def begin(engine: Engine) -> Iterator[Connection]:
    """A connection for a write: the unit's (inside a savepoint) or a fresh transaction."""
    connection = _current(engine)
    if connection is None:
        with engine.begin() as fresh:
            yield fresh
        return
    with connection.begin_nested():
        yield connection


@contextlib.contextmanager
def connect(engine: Engine) -> Iterator[Connection]:
    """A connection for a read: the unit's (so it sees its own writes) or a fresh one."""
    connection = _current(engine)
    if connection is None:
        with engine.connect() as fresh:
            yield fresh
        return
    yield connection


class SqlUnitOfWork:
    """``with uow.transaction(): ...`` commits on a clean exit and rolls back on any
    exception; a nested ``transaction()`` joins the outer one (the outer decides)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if _current(self._engine) is not None:
            yield
            return
        with self._engine.begin() as connection:
            active = dict(_ACTIVE.get() or {})
            active[id(self._engine)] = connection
            token = _ACTIVE.set(active)
            try:
                yield
            finally:
                _ACTIVE.reset(token)
