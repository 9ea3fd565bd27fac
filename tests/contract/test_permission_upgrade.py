"""Migration 0002 on a populated 0001 database: a stored grant (or key scope) holding all
five original flags is read as FULL_ACCESS afterwards; any other keeps exactly its flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from axadapters.sql.engine import create_sql_engine
from axadapters.sql.migrate import upgrade
from axadapters.sql.stores import SqlStores
from axdomain import AccountId, Permissions, UserId
from tests.contract.sql_support import PostgresDatabases

ALICE, BOB = UserId(0x0190_0000_0000_0001), UserId(0x0190_0000_0000_0002)
DESK = AccountId(0x0190_0000_0000_0001)


def populate_at_0001(engine: Engine) -> None:
    upgrade(engine, "0001")
    with engine.begin() as c:
        for user in (ALICE, BOB):
            c.execute(
                text("INSERT INTO users VALUES (:u, :n, 1)"), {"u": str(user), "n": str(user)}
            )
        c.execute(
            text(
                "INSERT INTO trading_accounts VALUES (:a, 'desk', 'customer', :u, false, false,"
                " 0, 0, 1, 1, 1, 1)"
            ),
            {"a": str(DESK), "u": str(ALICE)},
        )
        c.execute(
            text("INSERT INTO account_permissions VALUES (:u, :a, true, true, true, true, true)"),
            {"u": str(ALICE), "a": str(DESK)},
        )
        c.execute(
            text("INSERT INTO account_permissions VALUES (:u, :a, true, true, false, true, true)"),
            {"u": str(BOB), "a": str(DESK)},
        )
        c.execute(
            text(
                "INSERT INTO api_keys VALUES ('00000000000000aa', :u, :a, true,"
                " true, true, true, true, true, 'ff', 1, NULL)"
            ),
            {"u": str(ALICE), "a": str(DESK)},
        )


def check_upgraded(engine: Engine) -> None:
    upgrade(engine)
    stores = SqlStores.on(engine)
    alice = stores.grants.get_grant(ALICE, DESK)
    bob = stores.grants.get_grant(BOB, DESK)
    assert alice is not None and alice.permissions == Permissions.FULL_ACCESS
    assert bob is not None and bob.permissions == Permissions.from_flags(
        {"can_list", "can_read", "can_reduce_or_close", "can_trade"}
    )
    key = stores.api_keys.get_key(0xAA)
    assert key is not None and key.scope == Permissions.FULL_ACCESS and key.account_id is None


def test_sqlite_0001_grants_become_full_access(tmp_path: Path) -> None:
    engine = create_sql_engine(f"sqlite:///{tmp_path / 'old.db'}")
    populate_at_0001(engine)
    check_upgraded(engine)
    engine.dispose()


@pytest.mark.postgres
def test_postgres_0001_grants_become_full_access(postgres_databases: PostgresDatabases) -> None:
    engine = postgres_databases.engine(postgres_databases.new_empty_url())
    populate_at_0001(engine)
    check_upgraded(engine)
