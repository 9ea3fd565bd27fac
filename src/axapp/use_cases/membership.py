"""Membership: grants and API keys. MANAGE decides grants; a user session mints keys."""

from __future__ import annotations

from axapp.gateway import AccessDenied, Authorized
from axapp.use_cases import args
from axapp.use_cases.base import Context
from axdomain.api_keys import MIN_SECRET_BYTES, ApiKey, mint_api_key, parse_cidrs
from axdomain.authorization import DenyReason
from axdomain.errors import InvalidValue, KeyScopeError, NotFound
from axdomain.ids import UserId
from axdomain.membership import ApiKeyPrincipal, Grant, OperatorPrincipal, Principal, UserSession
from axdomain.membership_rules import MembershipRefused, check_grant, check_revoke
from axdomain.permissions import Action


class KeyNotFound(NotFound):
    """An unknown key id, or one the caller may not touch: they look the same."""


class MembershipUseCases:
    def __init__(self, context: Context) -> None:
        self._c = context

    def grant(
        self, principal: Principal, account_id: object, user_id: object, permissions: object
    ) -> Grant:
        """Give ``user_id`` at most the granter's own (effective) flags on the account."""
        account = args.account_id("account_id", account_id)
        target = args.user_id("user_id", user_id)
        wanted = args.permissions("permissions", permissions)

        def effect(authorized: Authorized) -> Grant:
            if self._c.stores.users.get_user(target) is None:
                raise InvalidValue("user_id", str(target), "no such user")
            granter = Grant(principal_user(principal), account, authorized.effective_permissions)
            grant = check_grant(granter, authorized.account, target, wanted)
            self._c.stores.grants.put_grant(grant)
            return grant

        return self._c.gateway.run(principal, Action.MANAGE, account, effect)

    def revoke(self, principal: Principal, account_id: object, user_id: object) -> bool:
        """Remove a grant (never the UBO's); False if the user held none."""
        account = args.account_id("account_id", account_id)
        target = args.user_id("user_id", user_id)

        def effect(authorized: Authorized) -> bool:
            check_revoke(authorized.account, target)
            return self._c.stores.grants.revoke_grant(target, account)

        return self._c.gateway.run(principal, Action.MANAGE, account, effect)

    def mint_key(
        self,
        principal: Principal,
        *,
        account_id: object = None,
        scope: object,
        expires_at_ns: object = None,
        allowed_cidrs: object = None,
    ) -> tuple[ApiKey, str]:
        """A user session mints a key for one of its accounts; the scope must be within the
        user's live grant. A key never mints (or widens) a key."""
        account = args.optional_account_id("account_id", account_id)
        wanted = args.permissions("scope", scope)
        expires = args.optional_time_ns("expires_at_ns", expires_at_ns)
        cidrs = parse_cidrs(allowed_cidrs)
        if not isinstance(principal, UserSession):
            raise AccessDenied(account, DenyReason.NOT_PERMITTED)

        def effect(authorized: Authorized) -> tuple[ApiKey, str]:
            try:
                return self._store_key(principal, authorized, wanted, expires, cidrs)
            except KeyScopeError as error:
                raise MembershipRefused(error.field, error.value, error.problem) from None

        return self._c.gateway.run(principal, Action.LIST, account, effect)

    def _store_key(
        self,
        principal: UserSession,
        authorized: Authorized,
        scope: object,
        expires_at_ns: int | None,
        cidrs: tuple[str, ...],
    ) -> tuple[ApiKey, str]:
        stores = self._c.stores
        key, token = mint_api_key(
            key_id=stores.ids.new_id(),
            user_id=principal.user_id,
            account_id=authorized.account.account_id,
            scope=args.permissions("scope", scope),
            grant=authorized.decision.grant,
            secret=stores.secrets.token_bytes(MIN_SECRET_BYTES),
            pepper=self._c.pepper,
            now_ns=stores.clock.now_ns(),
            expires_at_ns=expires_at_ns,
            allowed_cidrs=cidrs,
        )
        stores.keys.add_key(key)
        return key, token

    def revoke_key(self, principal: Principal, key_id: object) -> None:
        """The key's own user, or a MANAGE holder of its account, revokes it at once."""
        if isinstance(key_id, bool) or not isinstance(key_id, int):
            raise InvalidValue("key_id", key_id, "must be an int")
        key = self._c.stores.keys.get_key(key_id)
        if key is None or isinstance(principal, OperatorPrincipal):
            raise KeyNotFound("key_id", f"{key_id:016x}" if key_id >= 0 else key_id, "no such key")
        account = key.account_id or key.user_id.as_default_account_id()
        # Only a user session revokes its own keys freely; a key needs MANAGE (a leaked
        # read-only key must not be able to switch off its user's other keys).
        own = isinstance(principal, UserSession) and principal.user_id == key.user_id
        action = Action.LIST if own else Action.MANAGE

        def effect(authorized: Authorized) -> None:
            self._c.stores.keys.revoke_key(key.key_id, self._c.stores.clock.now_ns())

        if isinstance(principal, ApiKeyPrincipal) and principal.account_id != account:
            raise KeyNotFound("key_id", f"{key_id:016x}", "no such key")
        try:
            self._c.gateway.run(principal, action, account, effect)
        except AccessDenied:
            raise KeyNotFound("key_id", f"{key_id:016x}", "no such key") from None


def principal_user(principal: Principal) -> UserId:
    if isinstance(principal, OperatorPrincipal):
        raise AccessDenied(None, DenyReason.NOT_PERMITTED)
    return principal.user_id
