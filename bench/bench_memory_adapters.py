"""Cost per keyed operation of the memory adapters, at two table sizes.

An adapter whose keyed operations are O(1) shows the same figure at both sizes; a scan
shows up as growth with the table. The floor is a bare dict insert plus a set check (what
a unique index costs), measured in the same run. Figures only.

    .venv/bin/python bench/bench_memory_adapters.py
"""

from __future__ import annotations

import time

from axadapters.memory.identity import MemoryAccounts, MemoryGrants
from axdomain.accounts import Account, AccountKind
from axdomain.ids import AccountId, UserId
from axdomain.membership import Grant
from axdomain.permissions import Permissions

SIZES = (1_000, 16_000)
FIRST = 0x0190_0000_0000_0000


def _accounts(count: int) -> list[Account]:
    return [
        Account(
            account_id=AccountId(FIRST + n),
            name=f"account-{n}",
            kind=AccountKind.CUSTOMER,
            ubo_user_id=UserId(FIRST + n),
            created_at_ns=0,
        )
        for n in range(count)
    ]


def us_per_add_account(accounts: list[Account]) -> float:
    store = MemoryAccounts()
    started = time.perf_counter()
    for account in accounts:
        store.add_account(account)
    return (time.perf_counter() - started) / len(accounts) * 1e6


def us_per_floor(accounts: list[Account]) -> float:
    rows: dict[AccountId, Account] = {}
    names: set[str] = set()
    started = time.perf_counter()
    for account in accounts:
        if account.account_id in rows or account.name in names:
            raise AssertionError("unique keys")
        rows[account.account_id] = account
        names.add(account.name)
    return (time.perf_counter() - started) / len(accounts) * 1e6


def us_per_grant_listing(accounts: list[Account]) -> float:
    grants = MemoryGrants()
    for account in accounts:
        assert account.ubo_user_id is not None
        grants.put_grant(
            Grant(
                user_id=account.ubo_user_id,
                account_id=account.account_id,
                permissions=Permissions.TRADER,
            )
        )
    probes = accounts[:: max(1, len(accounts) // 1000)]
    started = time.perf_counter()
    for account in probes:
        grants.grants_for_account(account.account_id)
    return (time.perf_counter() - started) / len(probes) * 1e6


def main() -> None:
    print(
        f"{'table rows':>10} {'add_account µs':>15} {'floor µs':>9} {'grants_for_account µs':>22}"
    )
    for size in SIZES:
        accounts = _accounts(size)
        add = min(us_per_add_account(accounts) for _ in range(3))
        floor = min(us_per_floor(accounts) for _ in range(3))
        listing = min(us_per_grant_listing(accounts) for _ in range(3))
        print(f"{size:>10} {add:>15.2f} {floor:>9.2f} {listing:>22.2f}")


if __name__ == "__main__":
    main()
