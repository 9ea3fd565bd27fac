"""Operator look-ups behind the console's admin and health pages: account-centric (seed 000
§3.7), so a person is found, then the accounts they own (``ubo_user_id``) and the accounts
they hold grants on, then one account's grants and keys. Each look-up is an operator
decision through the gateway (``READ_AUDIT``), audited like reading the audit trail."""

from __future__ import annotations

import attrs

from axapp.gateway import Authorized
from axapp.use_cases import args
from axapp.use_cases.base import Context
from axdomain.accounts import Account
from axdomain.api_keys import ApiKey
from axdomain.errors import DomainError, InvalidValue
from axdomain.ids import UserId
from axdomain.membership import Grant, Principal, User
from axdomain.permissions import Action, Permissions

MAX_FOUND_USERS = 50
NS_PER_MINUTE = 60 * 10**9
SERIES_MINUTES = 30


@attrs.frozen
class UserAccounts:
    user: User
    owned: tuple[Account, ...]
    granted: tuple[tuple[Account, Permissions], ...]


@attrs.frozen
class AccountFacts:
    account: Account
    ubo: User | None
    grants: tuple[tuple[Grant, User | None], ...]
    keys: tuple[ApiKey, ...]


@attrs.frozen
class HealthSeries:
    """Ledger events per minute over the last ``SERIES_MINUTES`` (oldest first, ending with
    the current minute), and the customer accounts holding a position, per contract."""

    first_minute_ns: int
    events_per_minute: tuple[int, ...]
    open_positions: tuple[tuple[str, int], ...]


class DirectoryUseCases:
    def __init__(self, context: Context) -> None:
        self._c = context

    def find_users(self, operator: Principal, query: object) -> list[User]:
        """A 16-hex user id, or part of a username (case-insensitive). Every user is the UBO
        of their default account, so the account registry reaches every user without a
        user-table scan port."""
        text = args.text("query", query)
        stores = self._c.stores

        def effect() -> list[User]:
            try:
                exact = stores.users.get_user(UserId.from_hex(text))
            except DomainError:
                exact = None
            if exact is not None:
                return [exact]
            found: dict[UserId, User] = {}
            for account in stores.accounts.list_accounts():
                owner = account.ubo_user_id
                if owner is None or owner in found:
                    continue
                user = stores.users.get_user(owner)
                if user is not None and text.lower() in user.username.lower():
                    found[owner] = user
            return sorted(found.values(), key=lambda u: u.username)[:MAX_FOUND_USERS]

        return self._c.gateway.run_operator(operator, Action.READ_AUDIT, effect)

    def user_accounts(self, operator: Principal, user_id: object) -> UserAccounts:
        """The accounts whose UBO the user is, and the others the user holds a grant on."""
        target = args.user_id("user_id", user_id)
        stores = self._c.stores

        def effect() -> UserAccounts:
            user = stores.users.get_user(target)
            if user is None:
                raise InvalidValue("user_id", str(target), "no such user")
            owned = tuple(a for a in stores.accounts.list_accounts() if a.ubo_user_id == target)
            granted = []
            for grant in stores.grants.grants_for_user(target):
                account = stores.accounts.get_account(grant.account_id)
                if account is not None and account.ubo_user_id != target:
                    granted.append((account, grant.permissions))
            return UserAccounts(user, owned, tuple(granted))

        return self._c.gateway.run_operator(operator, Action.READ_AUDIT, effect)

    def account_facts(self, operator: Principal, account_id: object) -> AccountFacts:
        """The account, its grants (with the holder) and the keys minted on it (ids, scope,
        expiry; the stored hash never leaves this function's caller's page)."""
        account = args.account_id("account_id", account_id)
        stores = self._c.stores

        def effect(authorized: Authorized) -> AccountFacts:
            target = authorized.account
            grants = tuple(
                (g, stores.users.get_user(g.user_id))
                for g in stores.grants.grants_for_account(target.account_id)
            )
            keys = [
                key
                for grant, _ in grants
                for key in stores.keys.keys_for_user(grant.user_id)
                if (key.account_id or key.user_id.as_default_account_id()) == target.account_id
            ]
            ubo = None if target.ubo_user_id is None else stores.users.get_user(target.ubo_user_id)
            return AccountFacts(target, ubo, grants, tuple(keys))

        return self._c.gateway.run(operator, Action.READ_AUDIT, account, effect)

    def health_series(self, operator: Principal) -> HealthSeries:
        """What the health page draws next to the invariant report."""
        exchange = self._c.exchange
        stores = self._c.stores

        def effect() -> HealthSeries:
            now_minute = stores.clock.now_ns() // NS_PER_MINUTE
            first = now_minute - SERIES_MINUTES + 1
            counts = [0] * SERIES_MINUTES
            for transfer in exchange.own_ledger_scan().transfers:
                slot = transfer.user_data_64 // NS_PER_MINUTE - first
                if 0 <= slot < SERIES_MINUTES:
                    counts[slot] += 1
            holders = tuple(
                (
                    instrument.symbol,
                    sum(1 for q in exchange.customer_positions(instrument.contract).values() if q),
                )
                for instrument in stores.products.list_instruments()
            )
            return HealthSeries(first * NS_PER_MINUTE, tuple(counts), holders)

        return self._c.gateway.run_operator(operator, Action.READ_AUDIT, effect)
