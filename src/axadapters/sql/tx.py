"""The SQL unit of work: one transaction over every repository a request touches.

Repositories never open their own transaction while a unit of work is active on their
engine: ``begin``/``connect`` hand them the unit's connection (a write runs inside a
SAVEPOINT so an integrity error the repository maps to ``Conflict`` does not poison the
outer transaction). Outside a unit of work each call is its own short transaction. The
active unit is held in a ``ContextVar``, so threads and tasks never share one.

Two hooks serve what is not in the SQL transaction: ``on_commit`` callbacks (in-memory
state such as the matching book, changed only once the rows are durable) run after a
commit; ``after`` callbacks (projections of ledger commits, which happened whatever the SQL
outcome) run after the transaction ends either way, on their own connection.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

import attrs
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from axdomain.errors import Unavailable


@attrs.define
class _Unit:
    connection: Connection
    on_commit: list[Callable[[], None]] = attrs.Factory(list)
    after: list[Callable[[], None]] = attrs.Factory(list)


_ACTIVE: ContextVar[dict[int, _Unit] | None] = ContextVar("ax_sql_uow", default=None)


def service_name(engine: Engine) -> str:
    return (
        "PostgreSQL" if engine.dialect.name == "postgresql" else f"{engine.dialect.name} database"
    )


@contextlib.contextmanager
def storage_errors(engine: Engine) -> Iterator[None]:
    """Driver failures other than constraint violations become one ``Unavailable``."""
    try:
        yield
    except IntegrityError:
        raise
    except DBAPIError as error:
        detail = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise Unavailable(service_name(engine), detail) from error


def _current(engine: Engine) -> _Unit | None:
    active = _ACTIVE.get()
    return None if active is None else active.get(id(engine))


@contextlib.contextmanager
def begin(engine: Engine) -> Iterator[Connection]:
    """A connection for a write: the unit's (inside a savepoint) or a fresh transaction."""
    unit = _current(engine)
    with storage_errors(engine):
        if unit is None:
            with engine.begin() as fresh:
                yield fresh
            return
        with unit.connection.begin_nested():
            yield unit.connection


@contextlib.contextmanager
def connect(engine: Engine) -> Iterator[Connection]:
    """A connection for a read: the unit's (so it sees its own writes) or a fresh one."""
    unit = _current(engine)
    with storage_errors(engine):
        if unit is None:
            with engine.connect() as fresh:
                yield fresh
            return
        yield unit.connection


def run_hooks(hooks: list[Callable[[], None]]) -> None:
    for hook in hooks:
        hook()


class SqlUnitOfWork:
    """``with uow.transaction(): ...`` commits on a clean exit and rolls back on any
    exception; a nested ``transaction()`` joins the outer one (the outer decides)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def active(self) -> bool:
        return _current(self._engine) is not None

    def on_commit(self, callback: Callable[[], None]) -> None:
        unit = _current(self._engine)
        if unit is None:
            callback()
        else:
            unit.on_commit.append(callback)

    def after(self, callback: Callable[[], None]) -> None:
        unit = _current(self._engine)
        if unit is None:
            callback()
        else:
            unit.after.append(callback)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if _current(self._engine) is not None:
            yield
            return
        committed = False
        unit: _Unit | None = None
        try:
            with storage_errors(self._engine), self._engine.connect() as connection:
                unit = _Unit(connection)
                active = dict(_ACTIVE.get() or {})
                active[id(self._engine)] = unit
                token = _ACTIVE.set(active)
                try:
                    with connection.begin():
                        yield
                    committed = True
                finally:
                    _ACTIVE.reset(token)
        finally:
            if unit is not None:
                run_hooks(unit.after)
                if committed:
                    run_hooks(unit.on_commit)
