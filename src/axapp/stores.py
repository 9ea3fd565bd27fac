"""The bundle of ports the composition root hands to the use cases, and its all-in-memory
flavour (tests, property machines)."""

from __future__ import annotations

import attrs

from axadapters.memory.audit import MemoryAuditLog
from axadapters.memory.fills import MemoryFills, MemoryIdempotency
from axadapters.memory.identity import (
    MemoryAccessReader,
    MemoryAccounts,
    MemoryApiKeys,
    MemoryGrants,
    MemoryUsers,
)
from axadapters.memory.operators import MemoryOperators
from axadapters.memory.orders import MemoryOrders
from axadapters.memory.products import MemoryProducts
from axadapters.memory.projections import MemoryFlagHistory, MemoryPendingFills, MemoryProjections
from axadapters.memory.sequences import MemorySequences
from axadapters.memory.uow import MemoryUnitOfWork
from axadapters.system import OsSecretSource, SystemClock, UlidIdGenerator
from axdomain.ports import (
    AccessReader,
    AccountRepository,
    ApiKeyRepository,
    AuditLog,
    Clock,
    FillRepository,
    FlagHistory,
    GrantRepository,
    IdempotencyStore,
    IdGenerator,
    OperatorRepository,
    OrderRepository,
    PendingFills,
    ProductRepository,
    ProjectionStore,
    SecretSource,
    SequenceAllocator,
    UnitOfWork,
    UserRepository,
)


@attrs.frozen
class Stores:
    users: UserRepository
    accounts: AccountRepository
    grants: GrantRepository
    keys: ApiKeyRepository
    access: AccessReader
    audit: AuditLog
    orders: OrderRepository
    products: ProductRepository
    sequences: SequenceAllocator
    operators: OperatorRepository
    fills: FillRepository
    idempotency: IdempotencyStore
    projections: ProjectionStore
    flag_history: FlagHistory
    pending_fills: PendingFills
    uow: UnitOfWork
    clock: Clock
    ids: IdGenerator
    secrets: SecretSource


def memory_stores(clock: Clock | None = None) -> Stores:
    accounts, grants, keys = MemoryAccounts(), MemoryGrants(), MemoryApiKeys()
    parts = {
        "users": MemoryUsers(),
        "accounts": accounts,
        "grants": grants,
        "keys": keys,
        "audit": MemoryAuditLog(),
        "orders": MemoryOrders(),
        "products": MemoryProducts(),
        "sequences": MemorySequences(),
        "operators": MemoryOperators(),
        "fills": MemoryFills(),
        "idempotency": MemoryIdempotency(),
        "projections": MemoryProjections(),
        "flag_history": MemoryFlagHistory(),
        "pending_fills": MemoryPendingFills(),
    }
    return Stores(
        **parts,  # type: ignore[arg-type]
        access=MemoryAccessReader(accounts, grants, keys),
        uow=MemoryUnitOfWork(
            list(parts.values()), durable=[parts["projections"], parts["pending_fills"]]
        ),
        clock=clock or SystemClock(),
        ids=UlidIdGenerator(),
        secrets=OsSecretSource(),
    )
