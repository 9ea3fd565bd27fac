"""The lease fence, in one test process: two applications on one SQLite file and one
ledger service, each with its own clock. The first holds an instrument's book; the
second's clock passes the lease's TTL and takes the book over (rebuilt from the log). The
first, paused in its own time and still believing it owns the book, tries to cancel: the
write is refused by the fence and the order log keeps the new owner's truth."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from axadapters.ledger_service import LedgerServer, RemoteLedger
from axadapters.ledger_twin import LedgerTwin
from axadapters.memory.cache import MemorySessionStore
from axadapters.sql import SqlStores, open_sql_stores
from axadapters.sql.engine import create_sql_engine
from axadapters.sql.leases import SqlAccountLocks, SqlInstrumentLeases
from axapp.book_leases import BookLeases, Sharing
from axapp.bootstrap import assemble, create_operator
from axapp.lanes.manual_clock import ManualClock
from axapp.runtime import stores_over
from axapp.use_cases import Application
from axdomain.leases import InstrumentBusy, StaleLease
from axdomain.orders import OrderStatus, Side

PEPPER = b"\x07" * 32
TTL_MS = 1_000
SYMBOL = "COMPUTEDESK-H100-PERP"
MICRO = 1_000_000


@attrs.define
class Process:
    app: Application
    books: BookLeases
    clock: ManualClock


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Process, Process]]:
    url = f"sqlite:///{tmp_path / 'ax.sqlite'}"
    open_sql_stores(url).close()
    twin = LedgerTwin()
    service = LedgerServer(twin, f"unix://{tmp_path}/ledger.sock")
    service.start_thread()
    opened: list[tuple[SqlStores, RemoteLedger]] = []
    start_ns = time.time_ns()
    sessions = MemorySessionStore(ManualClock(start_ns))  # one store, as Redis would be

    def process(name: str) -> Process:
        sql = SqlStores.on(create_sql_engine(url))
        ledger = RemoteLedger.connect(service.url)
        opened.append((sql, ledger))
        clock = ManualClock(start_ns)
        stores = attrs.evolve(stores_over(sql), clock=clock)
        books = BookLeases(SqlInstrumentLeases(sql.engine), clock, name, TTL_MS)
        locks = SqlAccountLocks(sql.engine)
        app = assemble(stores, ledger, sessions, PEPPER, shared=Sharing(ledger, books, locks))
        return Process(app, books, clock)

    try:
        yield process("first"), process("second")
    finally:
        for sql, ledger in opened:
            ledger.close()
            sql.close()
        service.shutdown()


def test_a_stale_owner_cannot_write_for_the_instrument(two: tuple[Process, Process]) -> None:
    first, second = two
    ops_token = create_operator(first.app.stores, "ops", PEPPER)
    ops = first.app.gateway.authenticate(ops_token)
    user, account = first.app.operator.onboard_user(ops, "alice")
    first.app.money.deposit(ops, account.account_id, 10_000 * MICRO, "fund")
    alice = first.app.gateway.authenticate(first.app.operator.issue_session(ops, user.user_id))
    placed = first.app.orders.place(
        alice,
        symbol=SYMBOL,
        side=Side.BUY,
        qty_lots=1,
        limit_price_micro_usd=1_000 * MICRO,
        client_order_id="rest",
        idempotency_key="rest",
    )
    order = placed.order.order
    assert order.status is OrderStatus.OPEN

    # The second process: refused while the first's lease lives, owner once it lapsed.
    second.app.exchange.sync()
    with pytest.raises(InstrumentBusy):
        second.app.exchange.claim(order.contract)
    second.clock.advance_ms(TTL_MS)
    second.app.exchange.claim(order.contract)
    assert second.books.held[order.contract].token == first.books.held[order.contract].token + 1
    assert second.app.exchange.book.is_resting(order.order_id)  # rebuilt from the log

    # The first, still in its own time, believes it owns the book: the fence says no.
    alice_again = first.app.gateway.authenticate(
        first.app.operator.issue_session(ops, user.user_id)
    )
    with pytest.raises(StaleLease):
        first.app.orders.cancel(alice_again, order_id=order.order_id)
    assert order.contract not in first.books.held  # it let go of the book
    assert not first.app.exchange.book.is_resting(order.order_id)
    stored = second.app.stores.orders.get_order(order.order_id)
    assert stored is not None and stored.status is OrderStatus.OPEN

    # The owner cancels it.
    alice_there = second.app.gateway.authenticate(
        first.app.operator.issue_session(ops, user.user_id)
    )
    cancelled = second.app.orders.cancel(alice_there, order_id=order.order_id)
    assert cancelled.order.status is OrderStatus.CANCELLED
    assert not second.app.exchange.book.is_resting(order.order_id)


def test_a_takeover_met_inside_a_cancel_happens_after_it_and_the_retry_passes(
    two: tuple[Process, Process],
) -> None:
    first, second = two
    ops = first.app.gateway.authenticate(create_operator(first.app.stores, "ops", PEPPER))
    user, account = first.app.operator.onboard_user(ops, "alice")
    first.app.money.deposit(ops, account.account_id, 10_000 * MICRO, "fund")
    alice = first.app.gateway.authenticate(first.app.operator.issue_session(ops, user.user_id))
    order = first.app.orders.place(
        alice,
        symbol=SYMBOL,
        side=Side.SELL,
        qty_lots=1,
        limit_price_micro_usd=2_000 * MICRO,
        client_order_id="rest",
        idempotency_key="rest",
    ).order.order
    second.clock.advance_ms(TTL_MS)  # the first's lease has lapsed for the second
    second.app.exchange.sync()
    with pytest.raises(InstrumentBusy):  # the rebuild may not run inside the cancel
        second.app.orders.cancel(alice, order_id=order.order_id)
    assert second.app.exchange.book.is_resting(order.order_id)  # rebuilt right after it
    lease = second.books.leases.current(order.contract)
    assert lease is not None and lease.owner == "second" and lease.token == 2
    cancelled = second.app.orders.cancel(alice, order_id=order.order_id)
    assert cancelled.order.status is OrderStatus.CANCELLED
