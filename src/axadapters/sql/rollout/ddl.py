"""Online-safe building blocks the rollout steps share: batched backfills, short exclusive
locks with a timeout, concurrent index builds on PostgreSQL, table rebuilds on SQLite.

Every helper is idempotent: it inspects the database and does only what is still missing,
so a step killed at any point is finished by running it again.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs
from sqlalchemy import Connection, Engine, MetaData, Table, inspect, text
from sqlalchemy.schema import CreateIndex, CreateTable

from axdomain.errors import Conflict, InvalidValue

DEFAULT_BATCH_ROWS = 5_000
MAX_BATCH_ROWS = 100_000
DEFAULT_LOCK_TIMEOUT_MS = 5_000
MAX_PAUSE_MS = 60_000
NS_PER_MS = 1_000_000
REBUILD_SUFFIX = "__rollout_new"


class RolloutRefused(Conflict):
    """A step cannot run (or cannot finish) in this state; the database is unchanged."""


@attrs.define
class LockMeter:
    """How long a step's transactions held locks. ``pause`` counts those that stopped other
    writers of a whole table (PostgreSQL table locks; on SQLite every write transaction,
    which holds the database's one write lock); ``batch`` the row-locking backfill batches."""

    longest_pause_ms: float = 0.0
    total_pause_ms: float = 0.0
    longest_batch_ms: float = 0.0

    def record(self, elapsed_ns: int, *, pause: bool) -> None:
        elapsed_ms = elapsed_ns / NS_PER_MS
        if pause:
            self.longest_pause_ms = max(self.longest_pause_ms, elapsed_ms)
            self.total_pause_ms += elapsed_ms
        else:
            self.longest_batch_ms = max(self.longest_batch_ms, elapsed_ms)


@attrs.define
class RolloutContext:
    """How a step talks to the database and reports progress."""

    engine: Engine
    say: Callable[[str], None]
    batch_rows: int = DEFAULT_BATCH_ROWS
    pause_ms: int = 0
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS
    participant_prefix: str = "ax"
    locks: LockMeter = attrs.field(factory=LockMeter)

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.batch_rows <= MAX_BATCH_ROWS:
            raise InvalidValue("batch_rows", self.batch_rows, f"must be 1..{MAX_BATCH_ROWS}")
        if not 0 <= self.pause_ms <= MAX_PAUSE_MS:
            raise InvalidValue("pause_ms", self.pause_ms, f"must be 0..{MAX_PAUSE_MS}")
        if self.lock_timeout_ms < 1:
            raise InvalidValue("lock_timeout_ms", self.lock_timeout_ms, "must be positive")

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextlib.contextmanager
    def transaction(self, *, row_locks_only: bool = False) -> Iterator[Connection]:
        """One short transaction whose duration is metered; DDL in it waits at most
        ``lock_timeout_ms`` for its lock rather than queue (and block everyone behind it)."""
        started = time.perf_counter_ns()
        with self.engine.begin() as connection:
            if self.postgres:
                connection.execute(text(f"SET LOCAL lock_timeout = {self.lock_timeout_ms}"))
            yield connection
        pause = not (row_locks_only and self.postgres)
        self.locks.record(time.perf_counter_ns() - started, pause=pause)

    @contextlib.contextmanager
    def exclusive(self, *tables: str, mode: str = "ACCESS EXCLUSIVE") -> Iterator[Connection]:
        """A transaction holding ``tables`` against writers (SQLite: the database lock)."""
        with self.transaction() as connection:
            if self.postgres:
                connection.execute(text(f"LOCK TABLE {', '.join(tables)} IN {mode} MODE"))
            yield connection

    def pause(self) -> None:
        if self.pause_ms:
            time.sleep(self.pause_ms / 1000)


def columns(connection: Connection, table: str) -> dict[str, dict[str, Any]]:
    return {column["name"]: dict(column) for column in inspect(connection).get_columns(table)}


def table_columns(engine: Engine, table: str) -> dict[str, dict[str, Any]]:
    with engine.connect() as connection:
        return columns(connection, table)


def has_table(engine: Engine, table: str) -> bool:
    with engine.connect() as connection:
        return inspect(connection).has_table(table)


def count(connection: Connection, sql: str, **params: object) -> int:
    return int(connection.execute(text(sql), params).scalar_one())


BatchRunner = Callable[[Connection, str, dict[str, object]], int]


def walk_batches(
    ctx: RolloutContext,
    *,
    table: str,
    key: Sequence[str],
    run: BatchRunner,
    total: int,
    label: str,
    lock_sql: str | None = None,
) -> int:
    """Call ``run(connection, range_sql, params)`` for consecutive ranges of ``table``'s
    ``key`` holding at most ``ctx.batch_rows`` rows, one short transaction each (after
    ``lock_sql`` on PostgreSQL), printing progress; returns the rows ``run`` reported.

    Walking the primary key keeps each batch an index range. ``run`` must do nothing to a
    row that is already done, so a re-run after a kill simply resumes.
    """
    key_sql = ", ".join(key)
    names = [f"k{index}" for index in range(len(key))]
    after_sql = "1 = 1"
    after: dict[str, object] = {}
    done = 0
    while True:
        with ctx.transaction(row_locks_only=lock_sql is None) as connection:
            if lock_sql is not None and ctx.postgres:
                connection.execute(text(lock_sql))
            bound = connection.execute(
                text(
                    f"SELECT {key_sql} FROM {table} WHERE {after_sql} "
                    f"ORDER BY {key_sql} LIMIT 1 OFFSET :offset"
                ),
                {**after, "offset": ctx.batch_rows - 1},
            ).first()
            upto_sql = "1 = 1"
            upto: dict[str, object] = {}
            if bound is not None:
                upto = {f"u{index}": value for index, value in enumerate(bound)}
                upto_sql = f"({key_sql}) <= ({', '.join(':' + name for name in upto)})"
            done += run(connection, f"{after_sql} AND {upto_sql}", {**after, **upto})
        ctx.say(f"  {label}: {min(done, total)}/{total} rows")
        if bound is None:
            return done
        after = dict(zip(names, bound, strict=True))
        after_sql = f"({key_sql}) > ({', '.join(':' + name for name in names)})"
        ctx.pause()


def batched_update(
    ctx: RolloutContext,
    *,
    table: str,
    key: Sequence[str],
    set_sql: str,
    pending_sql: str,
    label: str,
) -> int:
    """``UPDATE table SET set_sql WHERE pending_sql`` in key-ordered batches."""
    with ctx.engine.connect() as connection:
        total = count(connection, f"SELECT COUNT(*) FROM {table} WHERE {pending_sql}")
    if total == 0:
        return 0

    def run(connection: Connection, range_sql: str, params: dict[str, object]) -> int:
        result = connection.execute(
            text(f"UPDATE {table} SET {set_sql} WHERE {range_sql} AND ({pending_sql})"), params
        )
        return max(result.rowcount, 0)

    return walk_batches(ctx, table=table, key=key, run=run, total=total, label=label)


def sqlite_rebuild(ctx: RolloutContext, target: Table, select_sql: str) -> None:
    """Rebuild ``target.name`` into ``target``'s shape from ``select_sql`` (whose columns are
    ``target``'s, in order), in one transaction: SQLite cannot change a key in place.

    Foreign keys are off for the swap (dropping a referenced table would otherwise cascade
    a check) and checked before commit, the procedure SQLite documents for schema changes.
    """
    name = target.name
    scratch_metadata = MetaData()
    for other in target.metadata.sorted_tables:
        if other is not target:
            other.to_metadata(scratch_metadata)
    temporary = target.to_metadata(scratch_metadata, name=name + REBUILD_SUFFIX)
    column_sql = ", ".join(column.name for column in target.columns)
    with ctx.engine.connect() as connection:
        raw = connection.connection.driver_connection
        if raw is None:
            raise RolloutRefused(name, "connection", "no SQLite driver connection to rebuild on")
        raw.execute("PRAGMA foreign_keys = OFF")
        try:
            started = time.perf_counter_ns()
            with connection.begin():
                connection.execute(text(f"DROP TABLE IF EXISTS {temporary.name}"))
                connection.execute(CreateTable(temporary))
                connection.execute(
                    text(f"INSERT INTO {temporary.name} ({column_sql}) {select_sql}")
                )
                connection.execute(text(f"DROP TABLE {name}"))
                connection.execute(text(f"ALTER TABLE {temporary.name} RENAME TO {name}"))
                for index in target.indexes:
                    connection.execute(CreateIndex(index))
                broken = connection.execute(text(f"PRAGMA foreign_key_check({name})")).all()
                if broken:
                    raise RolloutRefused(name, len(broken), "rows would break a foreign key")
            ctx.locks.record(time.perf_counter_ns() - started, pause=True)
        finally:
            raw.execute("PRAGMA foreign_keys = ON")


def pg_valid_index(connection: Connection, name: str) -> bool | None:
    """``None``: no such index; ``False``: left invalid by an interrupted concurrent build."""
    row = connection.execute(
        text(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = :name AND pg_catalog.pg_table_is_visible(c.oid)"
        ),
        {"name": name},
    ).first()
    return None if row is None else bool(row[0])


def pg_unique_index_concurrently(
    ctx: RolloutContext, name: str, table: str, key: Sequence[str]
) -> None:
    """Build a unique index without blocking writers; an invalid leftover is rebuilt."""
    with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        valid = pg_valid_index(connection, name)
        if valid:
            return
        if valid is False:
            connection.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {name}"))
        ctx.say(f"  building unique index {name} on {table} ({', '.join(key)}) concurrently")
        connection.execute(
            text(f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table} ({', '.join(key)})")
        )


def pg_constraint(connection: Connection, table: str, name: str) -> bool | None:
    """``None``: absent; otherwise whether the constraint is validated."""
    row = connection.execute(
        text(
            "SELECT convalidated FROM pg_constraint "
            "WHERE conname = :name AND conrelid = CAST(:table AS regclass)"
        ),
        {"name": name, "table": table},
    ).first()
    return None if row is None else bool(row[0])


def pk_name(connection: Connection, table: str) -> str | None:
    name = inspect(connection).get_pk_constraint(table).get("name")
    return None if name is None else str(name)


def check_names(connection: Connection, table: str) -> set[str]:
    return {
        str(check["name"])
        for check in inspect(connection).get_check_constraints(table)
        if check.get("name")
    }
