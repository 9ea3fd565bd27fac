"""Regression: a deposit whose request transaction dies after the ledger committed (the
PostgreSQL backend terminated mid-request). The caller sees ``Unavailable``; a retry with the
same idempotency key returns the first answer and the ledger holds exactly one posting."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import create_engine, text

from axadapters.ledger_twin import LedgerTwin
from axadapters.memory.cache import MemorySessionStore
from axadapters.sql import SqlStores, tx
from axadapters.sql.engine import normalize_url
from axapp.bootstrap import assemble, create_operator
from axapp.runtime import stores_over
from axdomain import Unavailable
from axdomain.ledger.port import TransferError
from axdomain.ledger.values import Transfer
from tests.contract.sql_support import PostgresDatabases

PEPPER = b"q" * 32
MICRO = 1_000_000


class TerminatingLedger(LedgerTwin):
    """Commits, then kills the PostgreSQL backend of the request that asked (once)."""

    armed = False
    admin_url = ""

    def create_transfers(self, transfers: Sequence[Transfer]) -> list[TransferError]:
        errors = super().create_transfers(transfers)
        if self.armed:
            self.armed = False
            unit = next(iter((tx._ACTIVE.get() or {}).values()))
            pid = unit.connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            admin = create_engine(normalize_url(self.admin_url), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            admin.dispose()
        return errors


@pytest.mark.postgres
def test_retry_after_the_backend_died_returns_the_first_answer_and_posts_once(
    postgres_databases: PostgresDatabases,
) -> None:
    url = postgres_databases.new_url()
    sql = SqlStores.on(postgres_databases.engine(url))
    ledger = TerminatingLedger()
    ledger.admin_url = url
    stores = stores_over(sql)
    app = assemble(stores, ledger, MemorySessionStore(stores.clock), PEPPER)
    ops = app.gateway.authenticate(create_operator(stores, "ops", PEPPER))
    _, account = app.operator.onboard_user(ops, "alice")
    before = len(ledger.scan_transfers())
    ledger.armed = True
    with pytest.raises(Unavailable, match="PostgreSQL"):
        app.money.deposit(ops, account.account_id, 100 * MICRO, "dep-1")
    assert len(ledger.scan_transfers()) == before + 1  # the ledger did commit
    first = app.money.deposit(ops, account.account_id, 100 * MICRO, "dep-1")
    again = app.money.deposit(ops, account.account_id, 100 * MICRO, "dep-1")
    assert first == again
    assert len(ledger.scan_transfers()) == before + 1  # one posting, whatever the retries
    assert app.exchange.risk.usd(account.account_id) == 100 * MICRO
    assert app.exchange.check_invariants() == []
