"""The #2353 permission backfill: give every grant-less customer account its UBO.

Accounts seeded before ``account_permissions`` existed had no grant rows at all, so once the
gateway asked ``authorize`` their owners were locked out. The repair grants each such
account's UBO ``FULL_ACCESS``. It never touches an account that already has any grant (its
members were chosen deliberately), never grants on system accounts (they have no UBO and
nobody logs into them), and is idempotent: once run, no account qualifies any more.
"""

from __future__ import annotations

from collections.abc import Container, Iterable

import attrs

from axdomain.accounts import Account
from axdomain.ids import AccountId
from axdomain.membership import Grant
from axdomain.permissions import Permissions
from axdomain.ports import AccountRepository, GrantRepository


@attrs.frozen
class BackfillReport:
    """What one run did: how many accounts it looked at and which ones it granted."""

    accounts_scanned: int
    grants_created: int
    account_ids: tuple[AccountId, ...]

    def __attrs_post_init__(self) -> None:
        if self.grants_created != len(self.account_ids):
            raise AssertionError(f"grants_created disagrees with account_ids: {self!r}")
        if not 0 <= self.grants_created <= self.accounts_scanned:
            raise AssertionError(f"grants_created outside [0, accounts_scanned]: {self!r}")

    @property
    def changed_anything(self) -> bool:
        return self.grants_created > 0


def plan_permission_backfill(
    accounts: Iterable[Account], accounts_with_grants: Container[AccountId]
) -> tuple[Grant, ...]:
    """The grants to create, in account order; pure, so every adapter shares the rule."""
    planned = []
    for account in sorted(accounts, key=lambda a: a.account_id):
        if not account.is_customer or account.account_id in accounts_with_grants:
            continue
        if account.ubo_user_id is None:  # Account enforces a customer UBO
            raise AssertionError(f"customer account without a UBO: {account!r}")
        planned.append(Grant(account.ubo_user_id, account.account_id, Permissions.FULL_ACCESS))
    return tuple(planned)


def backfill_permissions(accounts: AccountRepository, grants: GrantRepository) -> BackfillReport:
    """Run the backfill through the ports (not atomic: meant for one writer, e.g. memory).

    The SQL adapter has its own single-transaction executor with the same rule.
    """
    scanned = list(accounts.list_accounts())
    with_grants = {a.account_id for a in scanned if grants.grants_for_account(a.account_id)}
    planned = plan_permission_backfill(scanned, with_grants)
    for grant in planned:
        grants.put_grant(grant)
    return BackfillReport(
        accounts_scanned=len(scanned),
        grants_created=len(planned),
        account_ids=tuple(grant.account_id for grant in planned),
    )
