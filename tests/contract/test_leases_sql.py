"""The lease contract suite against SQLite and PostgreSQL, and the promises of the locks on
PostgreSQL: a takeover waits for the fenced writes, then the old token is refused; a second
holder of an account waits for the first's unit of work."""

from __future__ import annotations

import threading

import pytest

from axadapters.sql.leases import SqlAccountLocks, SqlInstrumentLeases
from axadapters.sql.tx import SqlUnitOfWork
from axdomain.ids import AccountId
from axdomain.leases import StaleLease
from tests.contract.sql_support import PostgresLeg, SqlDatabases, SqliteLeg
from tests.contract.suite_leases import BTC, T0, TTL_NS, LeaseContract


class SqlLeaseMaker:
    sql: SqlDatabases

    def make_leases(self) -> SqlInstrumentLeases:
        return SqlInstrumentLeases(self.sql.engine(self.sql.new_url()))


class TestSqliteLeases(SqliteLeg, SqlLeaseMaker, LeaseContract):
    pass


class TestPostgresLeases(PostgresLeg, SqlLeaseMaker, LeaseContract):
    def test_a_takeover_waits_for_the_fenced_unit_of_work(self) -> None:
        engine = self.sql.engine(self.sql.new_url())
        leases, uow = SqlInstrumentLeases(engine), SqlUnitOfWork(engine)
        lease = leases.acquire(BTC, "a", T0, TTL_NS)
        assert lease is not None
        late = T0 + TTL_NS  # "b" sees the lease expired
        outcome: list[object] = []
        fenced, taken = threading.Event(), threading.Event()

        def takeover() -> None:
            fenced.wait(5)
            outcome.append(leases.acquire(BTC, "b", late, TTL_NS))
            taken.set()

        thread = threading.Thread(target=takeover)
        thread.start()
        with uow.transaction():
            leases.fence(BTC, "a", lease.token, T0 + 1)
            fenced.set()
            assert not taken.wait(0.3)  # the takeover is held by the fenced row
        thread.join(5)
        new = outcome[0]
        assert new is not None
        assert getattr(new, "token", None) == 2
        with pytest.raises(StaleLease):
            leases.fence(BTC, "a", lease.token, T0 + 1)


@pytest.mark.postgres
class TestPostgresAccountLocks(PostgresLeg):
    def test_a_second_holder_of_an_account_waits_for_the_first_unit_of_work(self) -> None:
        engine = self.sql.engine(self.sql.new_url())
        locks, uow = SqlAccountLocks(engine), SqlUnitOfWork(engine)
        account, other = AccountId(0xFFFF_0000_0000_0001), AccountId(7)  # top bit set, and not
        held, second = threading.Event(), threading.Event()

        def contender() -> None:
            held.wait(5)
            with uow.transaction():
                locks.hold(other)  # another account: never waits
                locks.hold(account)
                second.set()

        thread = threading.Thread(target=contender)
        thread.start()
        with uow.transaction():
            locks.hold(account)
            held.set()
            assert not second.wait(0.3)  # the contender waits for this unit of work
        assert second.wait(5)
        thread.join(5)
