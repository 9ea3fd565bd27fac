"""The identity-port contract suites against the memory adapters."""

from __future__ import annotations

from axadapters.memory.audit import MemoryAuditLog
from axadapters.memory.identity import MemoryAccounts, MemoryApiKeys, MemoryGrants, MemoryUsers
from tests.contract.suite_identity import (
    AccountsContract,
    ApiKeysContract,
    AuditContract,
    GrantsContract,
    UsersContract,
)


class TestMemoryUsers(UsersContract):
    def make_users(self) -> MemoryUsers:
        return MemoryUsers()


class TestMemoryAccounts(AccountsContract):
    def make_accounts(self) -> MemoryAccounts:
        return MemoryAccounts()


class TestMemoryGrants(GrantsContract):
    def make_grants(self) -> MemoryGrants:
        return MemoryGrants()


class TestMemoryApiKeys(ApiKeysContract):
    def make_api_keys(self) -> MemoryApiKeys:
        return MemoryApiKeys()


class TestMemoryAudit(AuditContract):
    def make_audit(self) -> MemoryAuditLog:
        return MemoryAuditLog()
