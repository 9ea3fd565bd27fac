"""Identity and ownership: WhoAmI, creating an account (the caller becomes its UBO)."""

from __future__ import annotations

from typing import Any

import attrs

from axapp.gateway import AccessDenied, Authorized
from axapp.use_cases import args
from axapp.use_cases.base import Context
from axdomain.accounts import Account, AccountKind, AccountLimits
from axdomain.authorization import DenyReason
from axdomain.ids import AccountId
from axdomain.membership import ApiKeyPrincipal, Grant, OperatorPrincipal, Principal, UserSession
from axdomain.permissions import Action, Permissions


@attrs.frozen
class WhoAmI:
    user_id: str
    accounts: tuple[tuple[Account, Permissions], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "accounts": [
                {"account_id": str(a.account_id), "name": a.name, "permissions": p.wire_names()}
                for a, p in self.accounts
            ],
        }


class IdentityUseCases:
    def __init__(self, context: Context) -> None:
        self._c = context

    def whoami(self, principal: Principal) -> WhoAmI:
        """The caller's accounts: where the user holds ``can_list`` (a key sees only its own
        account, narrowed by its scope). Names and flags only, no money: N accounts' money
        is N requests."""
        if isinstance(principal, OperatorPrincipal):
            raise AccessDenied(None, DenyReason.NOT_PERMITTED)
        stores = self._c.stores
        found: list[tuple[Account, Permissions]] = []
        for grant in stores.grants.grants_for_user(principal.user_id):
            permissions = grant.permissions
            if isinstance(principal, ApiKeyPrincipal):
                if grant.account_id != principal.account_id:
                    continue
                permissions = permissions & principal.scope
            account = stores.accounts.get_account(grant.account_id)
            if account is not None and account.is_customer and permissions.can_list:
                found.append((account, permissions))
        return WhoAmI(str(principal.user_id), tuple(found))

    def create_account(self, principal: Principal, name: object) -> Account:
        """A user session opens a customer account; the caller is its UBO with FULL_ACCESS
        (a key never creates accounts)."""
        account_name = args.text("name", name)
        if not isinstance(principal, UserSession):
            raise AccessDenied(None, DenyReason.NOT_PERMITTED)
        stores = self._c.stores
        account = Account(
            account_id=AccountId(stores.ids.new_id()),
            name=account_name,
            kind=AccountKind.CUSTOMER,
            ubo_user_id=principal.user_id,
            created_at_ns=stores.clock.now_ns(),
        )
        with stores.uow.transaction():
            open_customer_account(self._c, account)
            # The creation is a decision on the new account like any other: audited.
            self._c.gateway.run(principal, Action.MANAGE, account.account_id, _account_of)
        return account


def _account_of(authorized: Authorized) -> Account:
    return authorized.account


def open_customer_account(context: Context, account: Account) -> None:
    """Registry row, the UBO's FULL_ACCESS grant and the ledger USD account."""
    if account.ubo_user_id is None:
        raise ValueError("a customer account has a UBO")
    context.stores.accounts.add_account(account)
    context.stores.grants.put_grant(
        Grant(account.ubo_user_id, account.account_id, Permissions.FULL_ACCESS)
    )
    context.exchange.open_ledger_account(account)


class LimitUseCases:
    def __init__(self, context: Context) -> None:
        self._c = context

    def set_limits(
        self,
        principal: Principal,
        *,
        account_id: object = None,
        max_open_positions: object,
        max_notional_micro_usd: object,
        monthly_loss_limit_micro_usd: object,
    ) -> Account:
        """The account's own risk limits (SET_LIMITS); 0 means "no trading", not unlimited."""
        account = args.optional_account_id("account_id", account_id)
        limits = AccountLimits(
            max_open_positions=args.non_negative("max_open_positions", max_open_positions),
            max_notional_micro_usd=args.non_negative(
                "max_notional_micro_usd", max_notional_micro_usd
            ),
            monthly_loss_limit_micro_usd=args.non_negative(
                "monthly_loss_limit_micro_usd", monthly_loss_limit_micro_usd
            ),
        )

        def effect(authorized: Authorized) -> Account:
            changed = attrs.evolve(authorized.account, limits=limits)
            self._c.stores.accounts.update_account(changed)
            return changed

        return self._c.gateway.run(principal, Action.SET_LIMITS, account, effect)
