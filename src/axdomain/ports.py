"""Ports: the small interfaces through which the domain meets storage, time and chance.

Each is a ``typing.Protocol``; ``axadapters`` provides a memory implementation of every
one and a real-technology implementation where SPEC §8 names one. ``tests/contract`` holds
one suite per port that every adapter must pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

import attrs

from axdomain.accounts import Account
from axdomain.api_keys import ApiKey
from axdomain.audit import AuditRecord
from axdomain.contracts import ContractId, ProductId
from axdomain.idempotency import IdempotencyRecord
from axdomain.ids import AccountId, UserId
from axdomain.leases import Lease
from axdomain.membership import Grant, User
from axdomain.operators import Operator
from axdomain.orders import Fill, Order, OrderStatus
from axdomain.paging import Page
from axdomain.products import Instrument, Product

if TYPE_CHECKING:  # the ledger package imports this module: annotations only
    from axdomain.ledger.invariants import AccountFlagChange
    from axdomain.ledger.projection import PendingFill, ProjectedChain, ProjectionCursor
    from axdomain.ledger.sequencing import PositionRecord, SequenceStamp, TransactionRecord


class Clock(Protocol):
    def now_ns(self) -> int: ...


class IdGenerator(Protocol):
    """New 64-bit ids: the top half of a ULID, strictly increasing within a process."""

    def new_id(self) -> int: ...


class SecretSource(Protocol):
    def token_bytes(self, count: int) -> bytes: ...


class UserRepository(Protocol):
    def add_user(self, user: User) -> None:
        """Raises ``Conflict`` on a duplicate id or username."""

    def get_user(self, user_id: UserId) -> User | None: ...


class AccountRepository(Protocol):
    def add_account(self, account: Account) -> None:
        """Raises ``Conflict`` on a duplicate id or name."""

    def get_account(self, account_id: AccountId) -> Account | None: ...

    def update_account(self, account: Account) -> None:
        """Replace the mutable facts (flags, fees, limits); raises ``NotFound``."""

    def list_accounts(self) -> Sequence[Account]: ...


class GrantRepository(Protocol):
    def put_grant(self, grant: Grant) -> None:
        """Insert or replace the one grant of ``(user_id, account_id)``."""

    def get_grant(self, user_id: UserId, account_id: AccountId) -> Grant | None: ...

    def revoke_grant(self, user_id: UserId, account_id: AccountId) -> bool:
        """Delete the grant; False if there was none."""

    def grants_for_user(self, user_id: UserId) -> Sequence[Grant]: ...

    def grants_for_account(self, account_id: AccountId) -> Sequence[Grant]: ...


@attrs.frozen
class AccessFacts:
    """What one authorization decision reads: the account, the principal's grant on it and,
    for a key principal, the key (each ``None`` when absent or not asked for)."""

    account: Account | None
    grant: Grant | None = None
    key: ApiKey | None = None


class AccessReader(Protocol):
    """The authorization read path: one keyed lookup per decision, whatever the number of
    accounts or grants a user has (SQL: one statement, one round trip)."""

    def access_facts(
        self, account_id: AccountId, user_id: UserId | None, key_id: int | None
    ) -> AccessFacts:
        """The account, the ``(user_id, account_id)`` grant (none for ``user_id=None``) and
        the key ``key_id`` (none for ``key_id=None``; any account's key, as stored)."""


class ApiKeyRepository(Protocol):
    def add_key(self, key: ApiKey) -> None:
        """Raises ``Conflict`` on a duplicate key id."""

    def get_key(self, key_id: int) -> ApiKey | None: ...

    def revoke_key(self, key_id: int, at_ns: int) -> bool:
        """Mark revoked (idempotent: keeps the first time); False if unknown."""

    def keys_for_user(self, user_id: UserId) -> Sequence[ApiKey]: ...


class AuditLog(Protocol):
    def append(self, record: AuditRecord) -> None: ...

    def records_for_account(self, account_id: AccountId) -> Sequence[AuditRecord]:
        """In append order."""

    def all_records(self) -> Sequence[AuditRecord]:
        """In append order."""


class OrderRepository(Protocol):
    def add_order(self, order: Order) -> None:
        """Raises ``Conflict`` on a duplicate order id or ``(account_id, client_order_id)``."""

    def get_order(self, order_id: int) -> Order | None: ...

    def get_by_client_order_id(
        self, account_id: AccountId, client_order_id: str
    ) -> Order | None: ...

    def set_status(self, order_id: int, status: OrderStatus) -> None:
        """Raises ``NotFound`` for an unknown order."""

    def update_order(self, order: Order) -> None:
        """Replace the mutable facts (status, filled lots, reason); ``NotFound`` if unknown."""

    def resting_orders(self, contract: ContractId) -> Sequence[Order]: ...

    def resting_orders_for_account(self, account_id: AccountId) -> Sequence[Order]: ...

    def orders_for_account(
        self, account_id: AccountId, *, status: OrderStatus | None, after: int, limit: int
    ) -> Page[Order]:
        """One account's orders in placement order, after position ``after``."""

    def all_orders(self) -> Sequence[Order]:
        """In insertion order."""


class ProductRepository(Protocol):
    """Append-only products plus instruments; ids come from a never-reissued sequence."""

    def create_product(self, name: str, created_at_ns: int) -> Product:
        """Allocate the next odd id (1001, 1003, ...); ``Conflict`` on a duplicate name."""

    def seed_product(self, product: Product) -> None:
        """Insert a pre-existing product with its historic id; the sequence moves above it."""

    def get_product(self, product_id: ProductId) -> Product | None: ...

    def find_product(self, name: str) -> Product | None: ...

    def list_products(self) -> Sequence[Product]: ...

    def add_instrument(self, instrument: Instrument) -> None:
        """``Conflict`` on a duplicate symbol or contract; ``NotFound`` for an unknown product."""

    def get_instrument(self, symbol: str) -> Instrument | None: ...

    def set_expiration(self, symbol: str, expiration_ns: int | None) -> Instrument:
        """Adjust the expiry only; the symbol's contract never changes."""

    def mark_delisted(self, symbol: str, at_ns: int) -> Instrument:
        """Record that the delist fence passed (idempotent: keeps the first time)."""

    def list_instruments(self) -> Sequence[Instrument]: ...


class SequenceAllocator(Protocol):
    """Gap-free, strictly increasing numbers per account (1, 2, 3, ...)."""

    def allocate(self, account_id: AccountId, count: int = 1) -> int:
        """Reserve ``count`` consecutive numbers and return the first."""

    def last_allocated(self, account_id: AccountId) -> int:
        """0 when nothing was allocated yet."""


class OperatorRepository(Protocol):
    def add_operator(self, operator: Operator) -> None:
        """Raises ``Conflict`` on a duplicate id or name."""

    def get_operator(self, operator_id: int) -> Operator | None: ...

    def find_operator(self, name: str) -> Operator | None: ...

    def revoke_operator(self, name: str, at_ns: int) -> bool:
        """Mark revoked (keeps the first time); False if there is no such operator."""


class FillRepository(Protocol):
    def add_fill(self, fill: Fill) -> None:
        """Idempotent on ``(order_id, qty_transfer_id)``: a replayed fill is not added twice."""

    def fills_for_account(self, account_id: AccountId, *, after: int, limit: int) -> Page[Fill]: ...

    def fills_for_order(self, account_id: AccountId, order_id: int) -> Sequence[Fill]:
        """One order's fills, in fill order (an order has at most a bounded number)."""


class IdempotencyStore(Protocol):
    def get(self, account_id: AccountId, idempotency_key: str) -> IdempotencyRecord | None: ...

    def put(self, record: IdempotencyRecord) -> None:
        """Raises ``Conflict`` when ``(account_id, idempotency_key)`` is already recorded."""


class UnitOfWork(Protocol):
    """The transaction boundary of one request over the SQL-side stores.

    ``with uow.transaction(): ...`` commits on a clean exit and rolls back on an exception;
    nested calls join the outer transaction. ``on_commit`` runs a callback once the unit
    committed (at once when no unit is active); ``after`` runs it once the unit ended,
    committed or not (for facts outside SQL, such as a ledger commit, that stand either way).
    """

    @property
    def active(self) -> bool: ...

    def transaction(self) -> AbstractContextManager[None]: ...

    def read_only(self) -> AbstractContextManager[None]:
        """A unit for a request that writes nothing but audit records.

        Reads see committed data (no transaction is held open); audit records appended in
        it are durable once the block exits, even when the block raised (a decision is
        audited whatever its effect did), and the exit waits for that: a caller never
        acknowledges an unaudited decision. Any other write inside it is a programming
        error. Inside an active ``transaction()`` it joins that transaction instead.
        """

    def on_commit(self, callback: Callable[[], None]) -> None: ...

    def after(self, callback: Callable[[], None]) -> None: ...


class ProjectionStore(Protocol):
    """Durable projections of the committed ledger (sequence stamps, position and
    transaction records, balances) with the cursor that says how far they reach."""

    def cursor(self) -> ProjectionCursor: ...

    def project(self, chains: Sequence[ProjectedChain], cursor: ProjectionCursor) -> None:
        """Write the chains' rows and move the cursor, in one transaction. Idempotent:
        rows already present (same key) are kept, never duplicated."""

    def stamps(self) -> Sequence[SequenceStamp]:
        """Every stamp, per account in sequence order."""

    def position_records(self, account_id: AccountId) -> Sequence[PositionRecord]: ...

    def transaction_records(self, account_id: AccountId) -> Sequence[TransactionRecord]: ...

    def balances(self) -> dict[AccountId, int]:
        """Projected USD net per account (accounts never touched are absent)."""

    def reset(self) -> None:
        """Drop every projected row and the cursor (``ax repair`` re-projects after it)."""


class FlagHistory(Protocol):
    def append(self, change: AccountFlagChange) -> None: ...

    def all_changes(self) -> Sequence[AccountFlagChange]:
        """In append order."""


class PendingFills(Protocol):
    def put(self, fill: PendingFill) -> None:
        """Idempotent on ``(taker_order_id, fill_key)``."""

    def all_pending(self) -> Sequence[PendingFill]: ...

    def delete(self, taker_order_id: int, fill_key: int) -> None: ...


class InstrumentLeases(Protocol):
    """Who owns each instrument's matching book (``axdomain.leases``). Times are the
    caller's clock (``Clock.now_ns``): processes sharing leases need clocks that agree to
    well under the lease TTL."""

    def acquire(self, contract: ContractId, owner: str, now_ns: int, ttl_ns: int) -> Lease | None:
        """Take the lease (absent or expired: the token grows by one if the owner changes)
        or renew it (already ``owner``'s: same token); None while another owner's lease
        has not expired."""
        ...

    def current(self, contract: ContractId) -> Lease | None: ...

    def fence(self, contract: ContractId, owner: str, token: int, now_ns: int) -> None:
        """``StaleLease`` unless ``owner`` holds the lease with ``token`` unexpired at
        ``now_ns``. Inside a unit of work the lease stays as checked until it ends, so the
        check and the writes it guards commit together or a takeover waits for them."""
        ...

    def release(self, contract: ContractId, owner: str, token: int) -> None:
        """Expire the lease now if ``owner`` still holds it with ``token`` (a clean stop)."""
        ...


class AccountLocks(Protocol):
    def hold(self, account_id: AccountId) -> None:
        """Inside a unit of work: no other process holds the same account until it ends, so
        decisions on one account's free cash (margin, withdrawals) are taken one at a time
        across processes. A store with a single writer may do nothing."""
        ...
