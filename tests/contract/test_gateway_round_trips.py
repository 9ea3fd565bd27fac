"""Round trips per gateway decision on real PostgreSQL, counted with SQLAlchemy events.

A READ decision is one SELECT (account, grant and key together) on an autocommit
connection plus its audit row in a group commit; a write decision adds only its own
BEGIN and COMMIT. The group committer is checked directly: rows submitted while a commit
is held up go out together, and no submitter is released before its row is durable.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text

from axadapters.memory.cache import MemorySessionStore
from axadapters.sql import SqlStores, schema, tx
from axadapters.sql.engine import normalize_url
from axapp.gateway import AccessDenied, AuthenticationError, Gateway
from axapp.runtime import stores_over
from axapp.stores import Stores
from axdomain import (
    Account,
    AccountKind,
    Action,
    Grant,
    Permissions,
    Unavailable,
    User,
    UserId,
    UserSession,
)
from axdomain.api_keys import ApiKey
from axdomain.membership import ApiKeyPrincipal
from tests.contract.sql_support import PostgresDatabases

ALICE = UserId(0x0190_0000_0000_0001)
BOB = UserId(0x0190_0000_0000_0002)
MAIN = ALICE.as_default_account_id()
KEY_ID = 0x0190_0000_0000_0777
PEPPER = b"p" * 32

pytestmark = pytest.mark.postgres

# The targets this test holds the gateway to.
READ_ROUND_TRIPS = 2  # the keyed SELECT + the (shared) audit INSERT
WRITE_ROUND_TRIPS = 4  # BEGIN, SELECT, audit INSERT, COMMIT (the effect adds its own)


class RoundTrips:
    """Statements and transaction control actually sent to the server on ``engine``.

    SQLAlchemy fires ``begin``/``commit``/``rollback`` on autocommit connections too, but
    the driver sends nothing for them there, so those are not counted.
    """

    def __init__(self, engine: Engine) -> None:
        self.sent: list[str] = []
        self._lock = threading.Lock()
        event.listen(engine, "before_cursor_execute", self._statement)
        for name in ("begin", "commit", "rollback", "savepoint", "release_savepoint"):
            event.listen(engine, name, self._control(name.upper()))

    def _statement(self, _c: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self._add(statement.split(None, 1)[0].upper())

    def _control(self, name: str) -> Any:
        def record(connection: Any, *_rest: Any) -> None:
            if not connection.connection.dbapi_connection.autocommit:
                self._add(name)

        return record

    def _add(self, what: str) -> None:
        with self._lock:
            self.sent.append(what)

    def take(self) -> Counter[str]:
        with self._lock:
            counted, self.sent = Counter(self.sent), []
        return counted


@pytest.fixture
def world(postgres_databases: PostgresDatabases) -> Iterator[tuple[SqlStores, Stores, Gateway]]:
    sql = postgres_databases.stores()
    stores = stores_over(sql)
    stores.users.add_user(User(ALICE, "alice", 1))
    stores.users.add_user(User(BOB, "bob", 1))
    stores.accounts.add_account(Account(MAIN, "main", AccountKind.CUSTOMER, ALICE, 1))
    stores.grants.put_grant(Grant(ALICE, MAIN, Permissions.TRADER))
    stores.keys.add_key(ApiKey(KEY_ID, ALICE, MAIN, Permissions.READ_ONLY, bytes(32), 1))
    yield sql, stores, Gateway(stores, MemorySessionStore(stores.clock), PEPPER)
    tx.close_group_commits(sql.engine)


def test_a_read_decision_is_one_select_and_one_shared_insert(
    world: tuple[SqlStores, Stores, Gateway],
) -> None:
    sql, stores, gateway = world
    trips = RoundTrips(sql.engine)
    key = ApiKeyPrincipal(KEY_ID, ALICE, MAIN, Permissions.READ_ONLY)
    for principal in (UserSession(ALICE), key, UserSession(ALICE), key):
        assert gateway.run(principal, Action.READ, None, lambda a: a.account.name) == "main"
        assert trips.take() == Counter({"SELECT": 1, "INSERT": 1})
    with pytest.raises(AccessDenied):
        gateway.run(UserSession(BOB), Action.READ, MAIN, lambda a: a.account.name)
    denied = trips.take()
    assert denied == Counter({"SELECT": 1, "INSERT": 1})
    assert sum(denied.values()) <= READ_ROUND_TRIPS
    assert [r.allowed for r in stores.audit.records_for_account(MAIN)] == [True] * 4 + [False]


def test_a_write_decision_adds_only_its_begin_and_commit(
    world: tuple[SqlStores, Stores, Gateway],
) -> None:
    sql, stores, gateway = world
    trips = RoundTrips(sql.engine)
    gateway.run(UserSession(ALICE), Action.TRADE, MAIN, lambda a: None)
    counted = trips.take()
    assert counted == Counter({"BEGIN": 1, "SELECT": 1, "INSERT": 1, "COMMIT": 1})
    assert sum(counted.values()) <= WRITE_ROUND_TRIPS
    assert [r.action for r in stores.audit.all_records()] == [Action.TRADE]


def test_a_read_whose_audit_row_cannot_be_written_is_not_answered(
    world: tuple[SqlStores, Stores, Gateway],
) -> None:
    sql, stores, gateway = world
    with sql.engine.begin() as connection:
        connection.execute(text(_REFUSE_AUDIT))
    answered: list[str] = []
    with pytest.raises(Unavailable, match="PostgreSQL unavailable: audit refused"):
        answered.append(gateway.run(UserSession(ALICE), Action.READ, MAIN, lambda a: "answer"))
    assert answered == []
    with sql.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER refuse_audit ON audit_log"))
    assert gateway.run(UserSession(ALICE), Action.READ, MAIN, lambda a: "answer") == "answer"
    assert len(stores.audit.all_records()) == 1


_REFUSE_AUDIT = """
CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'audit refused'; END $$;
CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log
FOR EACH ROW EXECUTE FUNCTION refuse_audit();
"""


def test_rows_waiting_behind_a_commit_go_out_together_and_only_then_are_released(
    world: tuple[SqlStores, Stores, Gateway],
) -> None:
    sql, stores, _ = world
    committer = tx.GroupCommitter(sql.engine, schema.audit_log, batch_max=64)
    trips = RoundTrips(sql.engine)
    rows = [_audit_row(n) for n in range(40)]
    blocker = create_engine(normalize_url(sql.engine.url.render_as_string(False)))
    try:
        with blocker.connect() as held:
            held.execute(text("LOCK TABLE audit_log IN EXCLUSIVE MODE"))
            futures = [committer.submit(row) for row in rows]
            assert not any(f.done() for f in futures)  # nothing durable, nobody released
            held.commit()
        for future in futures:
            future.result()
    finally:
        committer.close()
        blocker.dispose()
    assert 1 <= trips.take()["INSERT"] <= 2  # the first row alone, then all the rest
    assert sorted(r.request_id for r in stores.audit.all_records()) == sorted(
        row["request_id"] for row in rows
    )


def test_a_batch_never_exceeds_its_maximum(world: tuple[SqlStores, Stores, Gateway]) -> None:
    sql, stores, _ = world
    committer = tx.GroupCommitter(sql.engine, schema.audit_log, batch_max=8)
    sizes: list[int] = []
    event.listen(
        sql.engine,
        "before_cursor_execute",
        lambda _c, _cur, _s, params, _ctx, _many: sizes.append(len(params) // 23),
    )
    futures = [committer.submit(_audit_row(n)) for n in range(50)]
    for future in futures:
        future.result()
    committer.close()
    assert sum(sizes) == 50
    assert max(sizes) <= 8
    assert len(stores.audit.all_records()) == 50


def _audit_row(n: int) -> dict[str, Any]:
    from axadapters.sql.audit import _row
    from tests.contract.suite_access import audit

    return _row(audit(n))


def test_a_lost_server_connection_reads_as_unavailable_and_the_next_request_reconnects(
    world: tuple[SqlStores, Stores, Gateway],
) -> None:
    sql, _, gateway = world
    assert gateway.run(UserSession(ALICE), Action.READ, MAIN, lambda a: "before") == "before"
    database = sql.engine.url.database
    admin = create_engine(
        normalize_url(sql.engine.url.set(database="postgres").render_as_string(False))
    )
    with admin.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": database},
        )
    admin.dispose()
    failures: list[Unavailable] = []
    for _ in range(25):  # every pooled connection may fail once; then a fresh one serves
        try:
            answer = gateway.run(UserSession(ALICE), Action.READ, MAIN, lambda a: "after")
        except Unavailable as error:
            failures.append(error)
            continue
        break
    assert answer == "after"
    assert all("PostgreSQL" in str(error) for error in failures)


def test_a_key_principal_that_does_not_match_its_key_is_refused(
    world: tuple[SqlStores, Stores, Gateway],
) -> None:
    _, stores, gateway = world
    forged = ApiKeyPrincipal(KEY_ID, BOB, MAIN, Permissions.READ_ONLY)  # the key is ALICE's
    with pytest.raises(AuthenticationError):
        gateway.run(forged, Action.READ, MAIN, lambda a: "answer")
    assert list(stores.audit.all_records()) == []
