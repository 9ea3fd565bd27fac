"""Memory adapters for users, accounts, grants and API keys."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from axdomain.accounts import Account
from axdomain.api_keys import ApiKey
from axdomain.errors import Conflict, NotFound
from axdomain.ids import AccountId, UserId
from axdomain.membership import Grant, User


class MemoryUsers:
    def __init__(self) -> None:
        self._users: dict[UserId, User] = {}

    def add_user(self, user: User) -> None:
        if user.user_id in self._users:
            raise Conflict("user_id", str(user.user_id), "already exists")
        if any(u.username == user.username for u in self._users.values()):
            raise Conflict("username", user.username, "already exists")
        self._users[user.user_id] = user

    def get_user(self, user_id: UserId) -> User | None:
        return self._users.get(user_id)


class MemoryAccounts:
    def __init__(self) -> None:
        self._accounts: dict[AccountId, Account] = {}

    def add_account(self, account: Account) -> None:
        if account.account_id in self._accounts:
            raise Conflict("account_id", str(account.account_id), "already exists")
        if any(a.name == account.name for a in self._accounts.values()):
            raise Conflict("name", account.name, "already exists")
        self._accounts[account.account_id] = account

    def get_account(self, account_id: AccountId) -> Account | None:
        return self._accounts.get(account_id)

    def update_account(self, account: Account) -> None:
        current = self._accounts.get(account.account_id)
        if current is None:
            raise NotFound("account_id", str(account.account_id), "no such account")
        if (current.name, current.kind, current.ubo_user_id, current.created_at_ns) != (
            account.name,
            account.kind,
            account.ubo_user_id,
            account.created_at_ns,
        ):
            raise Conflict("account", str(account.account_id), "identity fields are immutable")
        self._accounts[account.account_id] = account

    def list_accounts(self) -> Sequence[Account]:
        return sorted(self._accounts.values(), key=lambda a: a.account_id)


class MemoryGrants:
    def __init__(self) -> None:
        self._grants: dict[tuple[UserId, AccountId], Grant] = {}

    def put_grant(self, grant: Grant) -> None:
        self._grants[(grant.user_id, grant.account_id)] = grant

    def get_grant(self, user_id: UserId, account_id: AccountId) -> Grant | None:
        return self._grants.get((user_id, account_id))

    def revoke_grant(self, user_id: UserId, account_id: AccountId) -> bool:
        return self._grants.pop((user_id, account_id), None) is not None

    def grants_for_user(self, user_id: UserId) -> Sequence[Grant]:
        return sorted((g for g in self._grants.values() if g.user_id == user_id), key=_grant_key)

    def grants_for_account(self, account_id: AccountId) -> Sequence[Grant]:
        matching = (g for g in self._grants.values() if g.account_id == account_id)
        return sorted(matching, key=_grant_key)


def _grant_key(grant: Grant) -> tuple[AccountId, UserId]:
    return (grant.account_id, grant.user_id)


class MemoryApiKeys:
    def __init__(self) -> None:
        self._keys: dict[int, ApiKey] = {}

    def add_key(self, key: ApiKey) -> None:
        if key.key_id in self._keys:
            raise Conflict("key_id", key.key_id, "already exists")
        self._keys[key.key_id] = key

    def get_key(self, key_id: int) -> ApiKey | None:
        return self._keys.get(key_id)

    def revoke_key(self, key_id: int, at_ns: int) -> bool:
        key = self._keys.get(key_id)
        if key is None:
            return False
        if not key.is_revoked:
            self._keys[key_id] = attrs.evolve(key, revoked_at_ns=at_ns)
        return True

    def keys_for_user(self, user_id: UserId) -> Sequence[ApiKey]:
        return sorted(
            (k for k in self._keys.values() if k.user_id == user_id), key=lambda k: k.key_id
        )
