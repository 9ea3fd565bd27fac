"""The SQL unit of work: one transaction over every repository a request touches.

Repositories never open their own transaction while a unit of work is active on their
engine: ``begin``/``connect`` hand them the unit's connection (a write runs inside a
SAVEPOINT so an integrity error the repository maps to ``Conflict`` does not poison the
outer transaction). Outside a unit of work each call is its own short transaction. The
active unit is held in a ``ContextVar``, so threads and tasks never share one.

A read-only unit (``read_only``, PostgreSQL) holds one connection in autocommit mode for the
request: each read is one round trip, with no BEGIN/ROLLBACK around it. The only writes it
allows are insert-only rows (the audit record), handed to the engine's ``GroupCommitter``:
concurrent requests' rows go out as one INSERT, which is one transaction and one WAL flush,
and each request leaves its unit only once its own row is durable. On SQLite (one writer,
embedded) the rows are written in one transaction when the unit ends.

Two hooks serve what is not in the SQL transaction: ``on_commit`` callbacks (in-memory
state such as the matching book, changed only once the rows are durable) run after a
commit; ``after`` callbacks (projections of ledger commits, which happened whatever the SQL
outcome) run after the transaction ends either way, on their own connection.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextvars import ContextVar
from typing import Any

import attrs
from sqlalchemy import Connection, Engine, Table, insert
from sqlalchemy.exc import DBAPIError, IntegrityError

from axadapters.sql._support import driver_execute, insert_values_sql, service_name
from axdomain.errors import Unavailable

# Rows one group commit writes at most (one INSERT statement: 256 rows x ~25 columns stays
# far below PostgreSQL's 65,535 bind parameters).
GROUP_COMMIT_BATCH_MAX = 256
# Rows waiting for a group commit at most; a request submitting beyond it waits for room.
GROUP_COMMIT_QUEUE_MAX = 4_096
# A committer thread with nothing to do for this long returns its connection and ends.
GROUP_COMMIT_IDLE_EXIT_S = 2.0


@attrs.define
class _Unit:
    connection: Connection
    read_only: bool = False
    durable: list[Future[None]] = attrs.Factory(list)  # group commits to wait for
    deferred: list[tuple[Table, dict[str, Any]]] = attrs.Factory(list)  # rows to write at exit
    on_commit: list[Callable[[], None]] = attrs.Factory(list)
    after: list[Callable[[], None]] = attrs.Factory(list)


_ACTIVE: ContextVar[dict[int, _Unit] | None] = ContextVar("ax_sql_uow", default=None)


@contextlib.contextmanager
def storage_errors(engine: Engine) -> Iterator[None]:
    """Driver failures other than constraint violations become one ``Unavailable``."""
    try:
        yield
    except IntegrityError:
        raise
    except DBAPIError as error:
        raise Unavailable(service_name(engine), _detail(error)) from error


def _current(engine: Engine) -> _Unit | None:
    active = _ACTIVE.get()
    return None if active is None else active.get(id(engine))


class ReadOnlyViolation(RuntimeError):
    """A repository tried to write inside a read-only unit (a programming error)."""


def _writable(unit: _Unit | None) -> _Unit | None:
    if unit is not None and unit.read_only:
        raise ReadOnlyViolation("a read-only unit writes nothing but audit records")
    return unit


@contextlib.contextmanager
def begin(engine: Engine) -> Iterator[Connection]:
    """A connection for a write: the unit's (inside a savepoint) or a fresh transaction."""
    unit = _writable(_current(engine))
    with storage_errors(engine):
        if unit is None:
            with engine.begin() as fresh:
                yield fresh
            return
        with unit.connection.begin_nested():
            yield unit.connection


def append_only(engine: Engine, table: Table, row: dict[str, Any]) -> None:
    """Insert one row of an insert-only table (no constraint a caller would map).

    In a read-only unit the row joins the next group commit and the unit's exit waits for
    it; in a unit it is written in the unit's transaction without a savepoint (nothing to
    roll back to); otherwise it commits alone.
    """
    unit = _current(engine)
    if unit is not None and unit.read_only:
        if engine.dialect.name == "postgresql":
            unit.durable.append(group_committer(engine, table).submit(row))
        else:
            unit.deferred.append((table, row))
        return
    with storage_errors(engine):
        if unit is not None:
            unit.connection.execute(insert(table), row)
            return
        with engine.begin() as fresh:
            fresh.execute(insert(table), row)


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


def _enter(engine: Engine, unit: _Unit) -> Any:
    active = dict(_ACTIVE.get() or {})
    active[id(engine)] = unit
    return _ACTIVE.set(active)


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
    def read_only(self) -> Iterator[None]:
        if _current(self._engine) is not None:
            yield
            return
        with self._unit(read_only=True):
            yield

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        current = _current(self._engine)
        if current is not None:
            _writable(current)
            yield
            return
        with self._unit(read_only=False):
            yield

    @contextlib.contextmanager
    def _unit(self, *, read_only: bool) -> Iterator[None]:
        committed = False
        unit: _Unit | None = None
        try:
            with storage_errors(self._engine), self._engine.connect() as connection:
                if read_only and self._engine.dialect.name == "postgresql":
                    connection.execution_options(isolation_level="AUTOCOMMIT")
                unit = _Unit(connection, read_only=read_only)
                token = _enter(self._engine, unit)
                try:
                    with contextlib.nullcontext() if read_only else connection.begin():
                        yield
                    committed = True
                finally:
                    _ACTIVE.reset(token)
        finally:
            if unit is not None:
                try:
                    self._make_durable(unit)
                finally:
                    run_hooks(unit.after)
                if committed:
                    run_hooks(unit.on_commit)

    def _make_durable(self, unit: _Unit) -> None:
        """Wait for the read-only unit's group commits and write its deferred rows (SQLite:
        one writer, so batching across requests buys nothing) in one transaction."""
        for durable in unit.durable:
            durable.result()
        if unit.deferred:
            with storage_errors(self._engine), self._engine.begin() as connection:
                for table, row in unit.deferred:
                    connection.execute(insert(table), row)


class GroupCommitter:
    """One thread that writes the rows of concurrent requests as one INSERT per batch.

    One INSERT of every queued row (``insert_values_sql``) on an autocommit connection is one
    statement, one transaction and one WAL flush however many requests it serves; while it
    runs, the next requests queue up and form the next batch, so no artificial delay is
    needed. Each submitter gets a future that completes only after its batch committed (or
    fails with ``Unavailable``): nothing is acknowledged before it is durable. The queue is
    bounded (``queue_max``; a submitter waits for room) and so is a batch (``batch_max``).
    The thread ends after ``GROUP_COMMIT_IDLE_EXIT_S`` without work and starts again on the
    next submit.
    """

    def __init__(
        self,
        engine: Engine,
        table: Table,
        *,
        batch_max: int = GROUP_COMMIT_BATCH_MAX,
        queue_max: int = GROUP_COMMIT_QUEUE_MAX,
    ) -> None:
        self._engine = engine
        self._table = table
        self._batch_max = batch_max
        self._room = threading.BoundedSemaphore(queue_max)
        self._queue: queue.SimpleQueue[tuple[dict[str, Any], Future[None]] | None] = (
            queue.SimpleQueue()
        )
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, row: dict[str, Any]) -> Future[None]:
        self._room.acquire()
        future: Future[None] = Future()
        with self._lock:
            self._queue.put((row, future))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"group-commit-{self._table.name}", daemon=True
                )
                self._thread.start()
        return future

    def close(self) -> None:
        """Commit what is queued, then end the thread (``submit`` starts a new one)."""
        with self._lock:
            thread = self._thread
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        connection: Connection | None = None
        try:
            while True:
                try:
                    first = self._queue.get(timeout=GROUP_COMMIT_IDLE_EXIT_S)
                except queue.Empty:
                    with self._lock:
                        if self._queue.empty():
                            self._thread = None
                            return
                    continue
                batch, stop = self._drain(first)
                if batch:
                    connection = self._commit(connection, batch)
                if stop:
                    with self._lock:
                        if self._queue.empty():
                            self._thread = None
                            return
        finally:
            if connection is not None:
                connection.close()

    def _drain(
        self, first: tuple[dict[str, Any], Future[None]] | None
    ) -> tuple[list[tuple[dict[str, Any], Future[None]]], bool]:
        batch: list[tuple[dict[str, Any], Future[None]]] = []
        item, stop = first, False
        while True:
            if item is None:
                stop = True
            else:
                batch.append(item)
            if len(batch) >= self._batch_max:
                return batch, stop
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, stop

    def _commit(
        self, connection: Connection | None, batch: list[tuple[dict[str, Any], Future[None]]]
    ) -> Connection | None:
        try:
            if connection is None:
                connection = self._engine.connect()
                connection.execution_options(isolation_level="AUTOCOMMIT")
            driver_execute(connection, *insert_values_sql(self._table, [r for r, _ in batch]))
        except Exception as error:
            if connection is not None:
                connection.invalidate()
                connection.close()
            detail = _detail(error)
            for _, future in batch:
                future.set_exception(Unavailable(service_name(self._engine), detail))
            connection = None
        else:
            for _, future in batch:
                future.set_result(None)
        finally:
            for _ in batch:
                self._room.release()
        return connection


def _detail(error: Exception) -> str:
    if isinstance(error, Unavailable):
        return error.detail
    if isinstance(error, DBAPIError) and error.orig is not None:
        return str(error.orig).strip().splitlines()[0]
    return type(error).__name__


_COMMITTERS: weakref.WeakKeyDictionary[Engine, dict[str, GroupCommitter]] = (
    weakref.WeakKeyDictionary()
)
_COMMITTERS_LOCK = threading.Lock()


def group_committer(engine: Engine, table: Table) -> GroupCommitter:
    with _COMMITTERS_LOCK:
        per_table = _COMMITTERS.setdefault(engine, {})
        committer = per_table.get(table.name)
        if committer is None:
            committer = per_table[table.name] = GroupCommitter(engine, table)
        return committer


def close_group_commits(engine: Engine) -> None:
    """Flush and stop the engine's committer threads (before disposing of the engine)."""
    with _COMMITTERS_LOCK:
        committers = list(_COMMITTERS.pop(engine, {}).values())
    for committer in committers:
        committer.close()
