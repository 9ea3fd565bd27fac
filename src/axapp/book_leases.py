"""Several ``ax serve`` processes on one set of stores: one book owner per instrument.

Everything a request decides on lives in the shared stores (SQL, Redis, the ledger) except
the matching book, which is matched in the memory of one process. ``BookLeases`` makes that
process unique per instrument: an order, cancel or replace of an instrument first
``claim``s it — the process holds a live lease (``axdomain.leases``), takes a free or
expired one (and rebuilds the book from the shared open orders), or refuses with
``InstrumentBusy`` (HTTP 503 with ``Retry-After``). The fenced stores below check the
lease's token in the same transaction as every order, fill and pending-fill write of the
instrument, so a process that lost its lease without knowing it (paused past the TTL)
writes nothing for that instrument.

A lease is renewed by the claims themselves once half its TTL has passed; an idle owner's
lease lapses and the next process asked takes it over, which costs one rebuild of that
instrument's book. There is no background thread: the book is only touched on the
request worker.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import attrs

from axapp.config import DEFAULT_LEASE_TTL_MS
from axapp.exchange import Exchange, LedgerTail
from axapp.stores import Stores
from axdomain.contracts import ContractId
from axdomain.errors import NotFound
from axdomain.ids import AccountId
from axdomain.leases import InstrumentBusy, Lease, StaleLease, require_lease_ttl_ms, require_owner
from axdomain.ledger.projection import PendingFill
from axdomain.orders import Fill, Order, OrderStatus
from axdomain.paging import Page
from axdomain.ports import (
    AccountLocks,
    Clock,
    FillRepository,
    InstrumentLeases,
    OrderRepository,
    PendingFills,
    UnitOfWork,
)

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000


@attrs.frozen
class Sharing:
    """What a process needs to share its stores with others: the ledger's tail (to fold
    their commits), the book leases and the account locks."""

    tail: LedgerTail
    books: BookLeases
    account_locks: AccountLocks


class BookLeases:
    def __init__(
        self, leases: InstrumentLeases, clock: Clock, owner: str, ttl_ms: int = DEFAULT_LEASE_TTL_MS
    ) -> None:
        self.leases = leases
        self.clock = clock
        self.owner = require_owner(owner)
        self.ttl_ns = require_lease_ttl_ms(ttl_ms) * NS_PER_MS
        self.held: dict[ContractId, Lease] = {}
        self.exchange: Exchange | None = None
        self.uow: UnitOfWork | None = None

    def attach(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.uow = exchange.stores.uow
        exchange.ownership = self

    def claim(self, contract: ContractId) -> None:
        now = self.clock.now_ns()
        held = self.held.get(contract)
        if held is not None and now < held.expires_at_ns - self.ttl_ns // 2:
            return  # fresh: nobody can take it before it expires
        lease = self.leases.acquire(contract, self.owner, now, self.ttl_ns)
        if lease is None:
            self._lose(contract)
            current = self.leases.current(contract)
            left_ns = (current.expires_at_ns - now) if current is not None else 0
            raise InstrumentBusy(contract, max(1, -(-left_ns // NS_PER_S)))
        if held is not None and held.token == lease.token:
            self.held[contract] = lease  # renewed
            return
        # New to this process, or someone else held it in between: the book is rebuilt
        # from the log first. Never inside a request's transaction (the rebuild may post
        # fills): then it runs once that ends, and this request is asked to retry.
        if self.uow is not None and self.uow.active:
            self.uow.after(lambda: self._take_over_later(contract))
            raise InstrumentBusy(contract, 1)
        self._take_over(lease)

    def _take_over(self, lease: Lease) -> None:
        self.held[lease.contract] = lease  # first: the rebuild's own writes are fenced by it
        if self.exchange is not None:
            try:
                self.exchange.take_over(lease.contract)
            except BaseException:
                self._lose(lease.contract)
                raise

    def _take_over_later(self, contract: ContractId) -> None:
        """After the request's transaction, which rolled back the lease taken inside it:
        take it again, on its own, and rebuild. A failure here must not hide the request's
        own outcome; the lease is dropped and the next claim tries again."""
        with contextlib.suppress(Exception):  # dropped by _take_over; the next claim retries
            lease = self.leases.acquire(contract, self.owner, self.clock.now_ns(), self.ttl_ns)
            if lease is not None:
                self._take_over(lease)

    def _lose(self, contract: ContractId) -> None:
        if self.held.pop(contract, None) is not None and self.exchange is not None:
            self.exchange.book.clear(contract)

    def token(self, contract: ContractId) -> int:
        held = self.held.get(contract)
        if held is None:
            raise StaleLease(contract, 0)
        return held.token

    def fence(self, contract: ContractId) -> None:
        """Inside the caller's transaction: this process still holds ``contract``."""
        token = self.token(contract)
        try:
            self.leases.fence(contract, self.owner, token, self.clock.now_ns())
        except StaleLease:
            self._lose(contract)
            raise

    def release_all(self) -> None:
        """A clean stop hands every book over at once instead of after the TTL."""
        for contract, lease in list(self.held.items()):
            self.leases.release(contract, self.owner, lease.token)
        self.held.clear()


@attrs.frozen
class FencedOrders:
    """``OrderRepository`` whose writes carry the instrument's lease token."""

    inner: OrderRepository
    books: BookLeases
    uow: UnitOfWork

    def add_order(self, order: Order) -> None:
        with self.uow.transaction():
            self.books.fence(order.contract)
            self.inner.add_order(order)

    def set_status(self, order_id: int, status: OrderStatus) -> None:
        with self.uow.transaction():
            order = self.inner.get_order(order_id)
            if order is not None:
                self.books.fence(order.contract)
            self.inner.set_status(order_id, status)

    def update_order(self, order: Order) -> None:
        with self.uow.transaction():
            self.books.fence(order.contract)
            self.inner.update_order(order)

    def get_order(self, order_id: int) -> Order | None:
        return self.inner.get_order(order_id)

    def get_by_client_order_id(self, account_id: AccountId, client_order_id: str) -> Order | None:
        return self.inner.get_by_client_order_id(account_id, client_order_id)

    def resting_orders(self, contract: ContractId) -> Sequence[Order]:
        return self.inner.resting_orders(contract)

    def resting_orders_for_account(self, account_id: AccountId) -> Sequence[Order]:
        return self.inner.resting_orders_for_account(account_id)

    def orders_for_account(
        self, account_id: AccountId, *, status: OrderStatus | None, after: int, limit: int
    ) -> Page[Order]:
        return self.inner.orders_for_account(account_id, status=status, after=after, limit=limit)

    def all_orders(self) -> Sequence[Order]:
        return self.inner.all_orders()


@attrs.frozen
class FencedFills:
    inner: FillRepository
    books: BookLeases
    uow: UnitOfWork

    def add_fill(self, fill: Fill) -> None:
        with self.uow.transaction():
            self.books.fence(fill.contract)
            self.inner.add_fill(fill)

    def fills_for_account(self, account_id: AccountId, *, after: int, limit: int) -> Page[Fill]:
        return self.inner.fills_for_account(account_id, after=after, limit=limit)

    def fills_for_order(self, account_id: AccountId, order_id: int) -> Sequence[Fill]:
        return self.inner.fills_for_order(account_id, order_id)


@attrs.frozen
class FencedPendingFills:
    """The intent of a fill is written before the ledger posts it: fencing it keeps a stale
    owner from posting a fill at all."""

    inner: PendingFills
    orders: OrderRepository
    books: BookLeases
    uow: UnitOfWork

    def put(self, fill: PendingFill) -> None:
        with self.uow.transaction():
            taker = self.orders.get_order(fill.taker_order_id)
            if taker is None:
                raise NotFound("taker_order_id", f"{fill.taker_order_id:016x}", "no such order")
            self.books.fence(taker.contract)
            self.inner.put(fill)

    def all_pending(self) -> Sequence[PendingFill]:
        return self.inner.all_pending()

    def delete(self, taker_order_id: int, fill_key: int) -> None:
        self.inner.delete(taker_order_id, fill_key)


def fenced(stores: Stores, books: BookLeases) -> Stores:
    """The stores with every book write of an instrument fenced by its lease."""
    orders = FencedOrders(stores.orders, books, stores.uow)
    return attrs.evolve(
        stores,
        orders=orders,
        fills=FencedFills(stores.fills, books, stores.uow),
        pending_fills=FencedPendingFills(stores.pending_fills, stores.orders, books, stores.uow),
    )
