"""Opening ClickHouse: embedded chDB in a folder, or a server by DSN; every driver failure
becomes one ``AnalyticsStorageError``.

chDB runs one engine per process: a second folder cannot be opened while a client on
another folder is open (close it first). Two processes cannot share one folder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from axdomain.analytics import AnalyticsStorageError

T = TypeVar("T")
STORE_NAME = "clickhouse"
# Rows per INSERT block: bounds client memory; the server may merge blocks into parts.
INSERT_BLOCK_ROWS = 50_000
_MAX_MESSAGE_CHARS = 500
_MAX_OPERATION_CHARS = 120


def storage_error(operation: str, error: BaseException) -> AnalyticsStorageError:
    text = " ".join(str(error).split())[:_MAX_MESSAGE_CHARS]
    return AnalyticsStorageError(STORE_NAME, operation, f"{type(error).__name__}: {text}")


def guarded(operation: str, call: Callable[[], T]) -> T:
    """Run one driver call; any ClickHouse or I/O failure surfaces typed."""
    try:
        return call()
    except (ClickHouseError, OSError, RuntimeError) as error:
        raise storage_error(operation, error) from error


def _operation(sql: str) -> str:
    """A short name of a statement for error messages (its first words)."""
    return " ".join(sql.split()[:6])[:_MAX_OPERATION_CHARS]


def chdb_dsn(folder: Path) -> str:
    return f"chdb://{folder.resolve().as_posix()}"


def connect(dsn: str) -> Client:
    """A client for ``chdb:///folder`` (embedded) or a server DSN (``http://...``)."""
    if dsn.startswith("chdb://"):
        folder = dsn.removeprefix("chdb://")
        if folder and folder != ":memory:":
            guarded("create chdb folder", lambda: Path(folder).mkdir(parents=True, exist_ok=True))
    return guarded("connect", lambda: clickhouse_connect.get_client(dsn=dsn))


class Session:
    """A thin, typed-error wrapper over one client: statements, queries, inserts."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> None:
        guarded(_operation(sql), lambda: self.client.command(sql, parameters=parameters))

    def rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        result = guarded(_operation(sql), lambda: self.client.query(sql, parameters=parameters))
        return [tuple(row) for row in result.result_rows]

    def scalar(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        rows = self.rows(sql, parameters)
        if len(rows) != 1 or len(rows[0]) != 1:
            raise AnalyticsStorageError(STORE_NAME, sql[:80], f"expected one value, got {rows!r}")
        return rows[0][0]

    def insert(
        self, database: str, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        names = list(columns)
        for start in range(0, len(rows), INSERT_BLOCK_ROWS):
            block = rows[start : start + INSERT_BLOCK_ROWS]

            def insert_block(block: Sequence[Sequence[Any]] = block) -> None:
                self.client.insert(table, block, column_names=names, database=database)

            guarded(f"insert into {table}", insert_block)

    def table_exists(self, database: str, table: str) -> bool:
        return bool(
            self.scalar(
                "SELECT count() FROM system.tables "
                "WHERE database = {d:String} AND name = {t:String}",
                {"d": database, "t": table},
            )
        )

    def close(self) -> None:
        guarded("close", self.client.close)
