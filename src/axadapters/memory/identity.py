"""Memory adapters for users, accounts, grants and API keys."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from axdomain.accounts import Account
from axdomain.api_keys import ApiKey
from axdomain.errors import Conflict, NotFound
from axdomain.ids import AccountId, UserId
from axdomain.membership import Grant, User
from axdomain.ports import AccessFacts


class MemoryUsers:
    def __init__(self) -> None:
        self._users: dict[UserId, User] = {}
        self._usernames: set[str] = set()  # unique index: O(1) per insert

    def add_user(self, user: User) -> None:
        if user.user_id in self._users:
            raise Conflict("user_id", str(user.user_id), "already exists")
        if user.username in self._usernames:
            raise Conflict("username", user.username, "already exists")
        self._users[user.user_id] = user
        self._usernames.add(user.username)

    def get_user(self, user_id: UserId) -> User | None:
        return self._users.get(user_id)


class MemoryAccounts:
    def __init__(self) -> None:
        self._accounts: dict[AccountId, Account] = {}
        self._names: set[str] = set()  # unique index (names are immutable): O(1) per insert

    def add_account(self, account: Account) -> None:
        if account.account_id in self._accounts:
            raise Conflict("account_id", str(account.account_id), "already exists")
        if account.name in self._names:
            raise Conflict("name", account.name, "already exists")
        self._accounts[account.account_id] = account
        self._names.add(account.name)

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
        # Secondary indexes: a listing costs its own size, not the whole table.
        self._by_user: dict[UserId, set[AccountId]] = {}
        self._by_account: dict[AccountId, set[UserId]] = {}

    def put_grant(self, grant: Grant) -> None:
        self._grants[(grant.user_id, grant.account_id)] = grant
        self._by_user.setdefault(grant.user_id, set()).add(grant.account_id)
        self._by_account.setdefault(grant.account_id, set()).add(grant.user_id)

    def get_grant(self, user_id: UserId, account_id: AccountId) -> Grant | None:
        return self._grants.get((user_id, account_id))

    def revoke_grant(self, user_id: UserId, account_id: AccountId) -> bool:
        if self._grants.pop((user_id, account_id), None) is None:
            return False
        self._by_user[user_id].discard(account_id)
        self._by_account[account_id].discard(user_id)
        return True

    def grants_for_user(self, user_id: UserId) -> Sequence[Grant]:
        mine = (self._grants[(user_id, a)] for a in self._by_user.get(user_id, ()))
        return sorted(mine, key=_grant_key)

    def grants_for_account(self, account_id: AccountId) -> Sequence[Grant]:
        matching = (self._grants[(u, account_id)] for u in self._by_account.get(account_id, ()))
        return sorted(matching, key=_grant_key)


def _grant_key(grant: Grant) -> tuple[AccountId, UserId]:
    return (grant.account_id, grant.user_id)


class MemoryApiKeys:
    def __init__(self) -> None:
        self._keys: dict[int, ApiKey] = {}
        self._by_user: dict[UserId, list[int]] = {}  # key ids per user (keys are never removed)

    def add_key(self, key: ApiKey) -> None:
        if key.key_id in self._keys:
            raise Conflict("key_id", key.key_id, "already exists")
        self._keys[key.key_id] = key
        self._by_user.setdefault(key.user_id, []).append(key.key_id)

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
        return [self._keys[key_id] for key_id in sorted(self._by_user.get(user_id, ()))]


class MemoryAccessReader:
    """The authorization read over the three memory repositories (three dict lookups)."""

    def __init__(self, accounts: MemoryAccounts, grants: MemoryGrants, keys: MemoryApiKeys) -> None:
        self._accounts = accounts
        self._grants = grants
        self._keys = keys

    def access_facts(
        self, account_id: AccountId, user_id: UserId | None, key_id: int | None
    ) -> AccessFacts:
        return AccessFacts(
            self._accounts.get_account(account_id),
            None if user_id is None else self._grants.get_grant(user_id, account_id),
            None if key_id is None else self._keys.get_key(key_id),
        )
