"""ClickHouse fixtures: one chDB folder per test session, one fresh database per test.

chDB runs one engine per process and the engine stays bound to its folder while any client
is open, so every test closes its clients (the store's ``close``) before the next one opens;
other tests (the demo) may then open a folder of their own. A ClickHouse server is used when
``AX_CLICKHOUSE_DSN`` is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from axadapters.clickhouse import ClickHouseAnalyticsStore, chdb_dsn, connect, open_clickhouse
from axadapters.clickhouse.client import Session

SERVER_DSN_VARIABLE = "AX_CLICKHOUSE_DSN"


def server_dsn_or_skip() -> str:
    dsn = os.environ.get(SERVER_DSN_VARIABLE, "").strip()
    if not dsn:
        pytest.skip(f"{SERVER_DSN_VARIABLE} is not set: no ClickHouse server leg")
    return dsn


def new_database() -> str:
    return f"axtest_{uuid.uuid4().hex[:12]}"


def drop_database(dsn: str, database: str) -> None:
    if not database.startswith("axtest_"):  # never a shared database
        raise ValueError(database)
    session = Session(connect(dsn))
    try:
        session.command(f"DROP DATABASE IF EXISTS `{database}` SYNC")
    finally:
        session.close()


def session_chdb_dsn(factory: pytest.TempPathFactory) -> str:
    return chdb_dsn(Path(factory.getbasetemp()) / "chdb")


def chdb_store(factory: pytest.TempPathFactory) -> Iterator[ClickHouseAnalyticsStore]:
    """A migrated store on a fresh database of the session's chDB folder, dropped after."""
    dsn, database = session_chdb_dsn(factory), new_database()
    store = open_clickhouse(dsn, database)
    yield store
    store.close()
    drop_database(dsn, database)
