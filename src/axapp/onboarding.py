"""Onboarding use cases: users, their default account, extra accounts and grants."""

from __future__ import annotations

from axapp.stores import Stores
from axdomain.accounts import Account, AccountKind
from axdomain.ids import SYSTEM_ACCOUNTS, AccountId, UserId
from axdomain.membership import Grant, User
from axdomain.permissions import Permissions


def onboard_user(stores: Stores, username: str) -> User:
    """A new user with their default account (same bit pattern), UBO = the user, FULL_ACCESS."""
    user = User(UserId(stores.ids.new_id()), username, stores.clock.now_ns())
    stores.users.add_user(user)
    account_id = user.user_id.as_default_account_id()
    open_account(stores, user.user_id, f"{username}-default", account_id=account_id)
    return user


def open_account(
    stores: Stores, ubo: UserId, name: str, *, account_id: AccountId | None = None
) -> Account:
    """A customer account owned by ``ubo``, who is granted FULL_ACCESS on it."""
    account = Account(
        account_id=account_id or AccountId(stores.ids.new_id()),
        name=name,
        kind=AccountKind.CUSTOMER,
        ubo_user_id=ubo,
        created_at_ns=stores.clock.now_ns(),
    )
    stores.accounts.add_account(account)
    stores.grants.put_grant(Grant(ubo, account.account_id, Permissions.FULL_ACCESS))
    return account


def ensure_system_accounts(stores: Stores) -> None:
    """The reserved system accounts exist once; they never get a UBO or a grant."""
    for name, account_id in SYSTEM_ACCOUNTS.by_name().items():
        if stores.accounts.get_account(account_id) is None:
            stores.accounts.add_account(
                Account(account_id, name, AccountKind.SYSTEM, None, stores.clock.now_ns())
            )


def share_account(
    stores: Stores, user_id: UserId, account_id: AccountId, permissions: Permissions
) -> Grant:
    grant = Grant(user_id, account_id, permissions)
    stores.grants.put_grant(grant)
    return grant
