"""The composition root's bundle of ports, and its all-in-memory flavour."""

from __future__ import annotations

import attrs

from axadapters.memory.audit import MemoryAuditLog
from axadapters.memory.identity import MemoryAccounts, MemoryApiKeys, MemoryGrants, MemoryUsers
from axadapters.memory.orders import MemoryOrders
from axadapters.system import OsSecretSource, SystemClock, UlidIdGenerator
from axdomain.ports import (
    AccountRepository,
    ApiKeyRepository,
    AuditLog,
    Clock,
    GrantRepository,
    IdGenerator,
    OrderRepository,
    SecretSource,
    UserRepository,
)


@attrs.frozen
class Stores:
    users: UserRepository
    accounts: AccountRepository
    grants: GrantRepository
    keys: ApiKeyRepository
    audit: AuditLog
    orders: OrderRepository
    clock: Clock
    ids: IdGenerator
    secrets: SecretSource


def memory_stores() -> Stores:
    return Stores(
        users=MemoryUsers(),
        accounts=MemoryAccounts(),
        grants=MemoryGrants(),
        keys=MemoryApiKeys(),
        audit=MemoryAuditLog(),
        orders=MemoryOrders(),
        clock=SystemClock(),
        ids=UlidIdGenerator(),
        secrets=OsSecretSource(),
    )
