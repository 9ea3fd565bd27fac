"""Small shared pieces of the SQL repositories: id text, flags, upsert, error mapping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

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
