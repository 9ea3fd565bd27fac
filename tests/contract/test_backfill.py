"""The #2353 permission backfill on memory, SQLite and PostgreSQL: one scenario, same result."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from axadapters.memory.identity import MemoryAccounts, MemoryGrants, MemoryUsers
from axdomain import (
    SYSTEM_ACCOUNTS,
    Account,
    AccountId,
    AccountKind,
    Grant,
    Permissions,
    User,
    UserId,
)
from axdomain.backfill import BackfillReport, backfill_permissions, plan_permission_backfill
from axdomain.ports import AccountRepository, GrantRepository, UserRepository
from tests.contract.sql_support import PostgresDatabases, SqliteDatabases

ANN = UserId(0x0190_0000_0000_0001)
BEN = UserId(0x0190_0000_0000_0002)
CAT = UserId(0x0190_0000_0000_0003)
DESK = AccountId(0x0190_0000_0000_00D0)  # Ann's second account, Ben already a member
ANN_MAIN, BEN_MAIN, CAT_MAIN = (u.as_default_account_id() for u in (ANN, BEN, CAT))
CAT_READ = Grant(CAT, CAT_MAIN, Permissions.READ_ONLY)  # someone chose this: keep it
BEN_ON_DESK = Grant(BEN, DESK, Permissions.TRADER)
SYSTEM = (SYSTEM_ACCOUNTS.AX_PNL, SYSTEM_ACCOUNTS.AX_FEES, SYSTEM_ACCOUNTS.AX_LENDING)

Backfill = Callable[[], BackfillReport]


def seed(users: UserRepository, accounts: AccountRepository, grants: GrantRepository) -> None:
    for user, name in ((ANN, "ann"), (BEN, "ben"), (CAT, "cat")):
        users.add_user(User(user, name, 1))
    customers = ((ANN_MAIN, ANN), (BEN_MAIN, BEN), (CAT_MAIN, CAT), (DESK, ANN))
    for account_id, ubo in customers:
        accounts.add_account(
            Account(account_id, f"acct-{account_id}", AccountKind.CUSTOMER, ubo, 1)
        )
    for account_id in SYSTEM:
        accounts.add_account(Account(account_id, f"sys-{account_id}", AccountKind.SYSTEM, None, 1))
    grants.put_grant(CAT_READ)
    grants.put_grant(BEN_ON_DESK)


def check_scenario(accounts: AccountRepository, grants: GrantRepository, run: Backfill) -> None:
    first = run()
    assert first == BackfillReport(
        accounts_scanned=7, grants_created=2, account_ids=(ANN_MAIN, BEN_MAIN)
    )
    assert grants.get_grant(ANN, ANN_MAIN) == Grant(ANN, ANN_MAIN, Permissions.FULL_ACCESS)
    assert grants.get_grant(BEN, BEN_MAIN) == Grant(BEN, BEN_MAIN, Permissions.FULL_ACCESS)
    assert list(grants.grants_for_account(CAT_MAIN)) == [CAT_READ]  # had a grant: untouched
    assert list(grants.grants_for_account(DESK)) == [BEN_ON_DESK]  # UBO Ann not added
    for account_id in SYSTEM:
        assert list(grants.grants_for_account(account_id)) == []
    before = {
        a.account_id: list(grants.grants_for_account(a.account_id))
        for a in accounts.list_accounts()
    }
    second = run()
    assert second == BackfillReport(accounts_scanned=7, grants_created=0, account_ids=())
    assert not second.changed_anything
    after = {
        a.account_id: list(grants.grants_for_account(a.account_id))
        for a in accounts.list_accounts()
    }
    assert after == before


def test_backfill_through_memory_ports() -> None:
    accounts, grants = MemoryAccounts(), MemoryGrants()
    seed(MemoryUsers(), accounts, grants)
    check_scenario(accounts, grants, lambda: backfill_permissions(accounts, grants))


def test_backfill_on_sqlite(sqlite_databases: SqliteDatabases) -> None:
    stores = sqlite_databases.stores()
    seed(stores.users, stores.accounts, stores.grants)
    check_scenario(stores.accounts, stores.grants, stores.backfill_permissions)


@pytest.mark.postgres
def test_backfill_on_postgres(postgres_databases: PostgresDatabases) -> None:
    stores = postgres_databases.stores()
    seed(stores.users, stores.accounts, stores.grants)
    check_scenario(stores.accounts, stores.grants, stores.backfill_permissions)


@pytest.mark.postgres
def test_port_backfill_over_postgres_repositories_agrees(
    postgres_databases: PostgresDatabases,
) -> None:
    stores = postgres_databases.stores()
    seed(stores.users, stores.accounts, stores.grants)
    check_scenario(
        stores.accounts, stores.grants, lambda: backfill_permissions(stores.accounts, stores.grants)
    )


def test_plan_skips_system_accounts_and_accounts_with_any_grant() -> None:
    ann_main = Account(ANN_MAIN, "ann", AccountKind.CUSTOMER, ANN, 1)
    desk = Account(DESK, "desk", AccountKind.CUSTOMER, ANN, 1)
    pnl = Account(SYSTEM_ACCOUNTS.AX_PNL, "pnl", AccountKind.SYSTEM, None, 1)
    assert plan_permission_backfill([desk, pnl, ann_main], {DESK}) == (
        Grant(ANN, ANN_MAIN, Permissions.FULL_ACCESS),
    )
    assert plan_permission_backfill([pnl], set()) == ()
