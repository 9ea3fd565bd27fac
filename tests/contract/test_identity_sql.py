"""The identity-port contract suites against SQLite and real PostgreSQL."""

from __future__ import annotations

from axadapters.sql.audit import SqlAuditLog
from axadapters.sql.identity import SqlAccounts, SqlApiKeys, SqlGrants, SqlUsers
from tests.contract.sql_support import (
    PostgresLeg,
    SqlDatabases,
    SqliteLeg,
    seed_suite_accounts,
    seed_suite_users,
)
from tests.contract.suite_identity import (
    AccountsContract,
    ApiKeysContract,
    AuditContract,
    GrantsContract,
    UsersContract,
)


class SqlIdentity:
    """``make_*`` of every identity suite on ``self.sql`` (set by the SQLite/PostgreSQL leg).

    Users (and for grants, accounts) the suites refer to are created first: the SQL schema
    enforces those references, the memory adapters do not.
    """

    sql: SqlDatabases

    def make_users(self) -> SqlUsers:
        return self.sql.stores().users

    def make_accounts(self) -> SqlAccounts:
        return seed_suite_users(self.sql.stores()).accounts

    def make_grants(self) -> SqlGrants:
        return seed_suite_accounts(self.sql.stores()).grants

    def make_api_keys(self) -> SqlApiKeys:
        return seed_suite_users(self.sql.stores()).api_keys

    def make_audit(self) -> SqlAuditLog:
        return self.sql.stores().audit


class TestSqliteUsers(SqliteLeg, SqlIdentity, UsersContract):
    pass


class TestSqliteAccounts(SqliteLeg, SqlIdentity, AccountsContract):
    pass


class TestSqliteGrants(SqliteLeg, SqlIdentity, GrantsContract):
    pass


class TestSqliteApiKeys(SqliteLeg, SqlIdentity, ApiKeysContract):
    pass


class TestSqliteAudit(SqliteLeg, SqlIdentity, AuditContract):
    pass


class TestPostgresUsers(PostgresLeg, SqlIdentity, UsersContract):
    pass


class TestPostgresAccounts(PostgresLeg, SqlIdentity, AccountsContract):
    pass


class TestPostgresGrants(PostgresLeg, SqlIdentity, GrantsContract):
    pass


class TestPostgresApiKeys(PostgresLeg, SqlIdentity, ApiKeysContract):
    pass


class TestPostgresAudit(PostgresLeg, SqlIdentity, AuditContract):
    pass
