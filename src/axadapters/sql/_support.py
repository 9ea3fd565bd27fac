"""Small shared pieces of the SQL repositories: id text, flags, upsert, error mapping."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, RowMapping, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from axdomain.errors import Unavailable
from axdomain.permissions import Permissions

U64_MAX = (1 << 64) - 1


def hex64(value: int) -> str:
    """The canonical 16-hex text of a u64 id (SPEC §3); ``CHAR(16)`` in every table."""
    assert 0 <= value <= U64_MAX, value
    return f"{value:016x}"


def from_hex64(text: str) -> int:
    assert len(text) == 16, text
    return int(text, 16)


def flags_to_columns(permissions: Permissions, prefix: str = "") -> dict[str, bool]:
    return {f"{prefix}{name}": getattr(permissions, name) for name in Permissions.FLAG_NAMES}


def flags_from_row(row: Mapping[Any, Any], prefix: str = "") -> Permissions:
    return Permissions(**{name: bool(row[f"{prefix}{name}"]) for name in Permissions.FLAG_NAMES})


def optional_flags_from_row(row: RowMapping, prefix: str) -> Permissions | None:
    values = [row[f"{prefix}{name}"] for name in Permissions.FLAG_NAMES]
    if all(value is None for value in values):
        return None
    assert all(value is not None for value in values), (prefix, values)
    return flags_from_row(row, prefix)


def optional_flags_to_columns(permissions: Permissions | None, prefix: str) -> dict[str, Any]:
    if permissions is None:
        return {f"{prefix}{name}": None for name in Permissions.FLAG_NAMES}
    return flags_to_columns(permissions, prefix)


def upsert(
    connection: Connection, table: Table, values: dict[str, Any], key: Sequence[str]
) -> None:
    """Insert or replace the row keyed by ``key``: one statement, no read-modify-write race."""
    changed = {name: value for name, value in values.items() if name not in key}
    if connection.dialect.name == "postgresql":
        pg = postgresql.insert(table).values(values)
        connection.execute(pg.on_conflict_do_update(index_elements=list(key), set_=changed))
    else:
        lite = sqlite.insert(table).values(values)
        connection.execute(lite.on_conflict_do_update(index_elements=list(key), set_=changed))


def is_append_only_error(error: IntegrityError) -> bool:
    return "append-only" in str(error.orig)


Columns = dict[str, list[Any]]  # one list of values per column, all of the same length


def insert_columns(
    connection: Connection, table: Table, columns: Columns, *, on_conflict: str = ""
) -> None:
    """PostgreSQL: ``INSERT ... SELECT * FROM unnest(one array per column)``.

    One statement whatever the number of rows: one round trip, one transaction when the
    connection autocommits, and one fixed text that psycopg prepares once (a multi-row
    VALUES list would be a new statement, compiled and parsed, per row count). Each array
    goes as one text literal. Rows are inserted in primary-key order when the key is among
    the columns: the index then fills page after page instead of at random (about twice as
    fast for a batch of projections, which arrive in ledger commit order, not key order).
    """
    statement = _insert_columns_sql(connection.dialect, table, tuple(columns), on_conflict)
    driver_execute(
        connection, statement, {name: _array_literal(values) for name, values in columns.items()}
    )


_ARRAY_SPECIAL = frozenset('{}",\\ \t\n\r\v\f')


def _array_literal(values: list[Any]) -> str:
    """A PostgreSQL array literal (``{1,2,NULL}``, ``{ab,"a b"}``) built with ``str.join``:
    several times cheaper than psycopg's per-element array dumping, which dominated the
    client side of a projection batch."""
    if all(type(value) is int for value in values):
        return "{" + ",".join(map(str, values)) + "}"
    if all(type(value) is str and value for value in values):
        plain = "".join(values)
        if _ARRAY_SPECIAL.isdisjoint(plain) and "null" not in plain.lower():
            return "{" + ",".join(values) + "}"  # hex ids: nothing to quote
        escaped = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
        return '{"' + '","'.join(escaped) + '"}'
    return "{" + ",".join(map(_array_element, values)) + "}"


def _array_element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


@functools.lru_cache(maxsize=256)
def _insert_columns_sql(
    dialect: Dialect, table: Table, names: tuple[str, ...], on_conflict: str
) -> str:
    listed = ", ".join(names)
    arrays = ", ".join(
        f"%({name})s::{table.c[name].type.compile(dialect=dialect)}[]" for name in names
    )
    key = [column.name for column in table.primary_key.columns]
    order = f"ORDER BY {', '.join(key)} " if key and set(key) <= set(names) else ""
    return (
        f"INSERT INTO {table.name} ({listed}) SELECT * FROM unnest({arrays}) AS rows ({listed}) "
        f"{order}{on_conflict}"
    )


def insert_values_sql(table: Table, rows: list[dict[str, Any]]) -> tuple[str, tuple[Any, ...]]:
    """PostgreSQL: one ``INSERT ... VALUES (...), (...)`` of a few rows with plain scalar
    parameters (psycopg dumps those in C; per-column arrays pay off only for large batches).
    The text depends only on the row count, so it is built once and psycopg prepares it."""
    names = tuple(rows[0])
    statement = _insert_values_sql(table, names, len(rows))
    return statement, tuple(row[name] for row in rows for name in names)


@functools.lru_cache(maxsize=512)
def _insert_values_sql(table: Table, names: tuple[str, ...], count: int) -> str:
    one = f"({', '.join(['%s'] * len(names))})"
    return f"INSERT INTO {table.name} ({', '.join(names)}) VALUES {', '.join([one] * count)}"


def service_name(engine: Engine) -> str:
    return (
        "PostgreSQL" if engine.dialect.name == "postgresql" else f"{engine.dialect.name} database"
    )


def driver_execute(connection: Connection, statement: str, params: Any) -> Any:
    """Run one statement straight on the driver (PostgreSQL); returns the driver's cursor.

    SQLAlchemy's execution context and result metadata cost about twice what psycopg itself
    spends on a short keyed SELECT or a small INSERT; the authorization read and the audit
    group commit run once per request, so they go to the driver (prepared statements), and
    so do the projections' array inserts. SQLAlchemy's ``before_cursor_execute`` event still
    fires, so whatever counts statements still sees them, and a driver error becomes
    ``Unavailable`` (a lost connection is invalidated, as SQLAlchemy would).
    """
    if connection.dispatch.before_cursor_execute:
        connection.dispatch.before_cursor_execute(connection, None, statement, params, None, False)
    driver: Any = connection.connection.driver_connection
    try:
        return driver.execute(statement, params, prepare=True)
    except connection.dialect.loaded_dbapi.Error as error:
        raise _driver_unavailable(connection, driver, error) from error


@contextlib.contextmanager
def driver_pipeline(connection: Connection) -> Iterator[None]:
    """psycopg pipeline mode around several ``driver_execute`` calls: each statement is
    sent at once and the server runs it while the client builds the next one's parameters;
    the results (and any error, as ``Unavailable``) arrive when the block ends."""
    driver: Any = connection.connection.driver_connection
    try:
        with driver.pipeline():
            yield
    except connection.dialect.loaded_dbapi.Error as error:
        raise _driver_unavailable(connection, driver, error) from error


def _driver_unavailable(connection: Connection, driver: Any, error: Any) -> Unavailable:
    if connection.dialect.is_disconnect(error, driver, None):
        connection.invalidate()
    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return Unavailable(service_name(connection.engine), detail)
