"""The gateway use case: authenticate, resolve, authorize, audit.

Per request it does exactly one keyed read of the account and one of the
``(user, account)`` grant: cost never depends on how many accounts a user can reach.
"""

from __future__ import annotations

import attrs

from axapp.edge import resolve_account_id
from axapp.stores import Stores
from axdomain.api_keys import parse_token, verify_secret
from axdomain.audit import AuditRecord
from axdomain.authorization import Decision, authorize
from axdomain.errors import DomainError
from axdomain.ids import AccountId, UserId
from axdomain.membership import ApiKeyPrincipal, Principal
from axdomain.permissions import Action
from axdomain.ports import AccountRepository, ApiKeyRepository, AuditLog, Clock, GrantRepository


class AuthenticationError(DomainError):
    """A token that does not name a live key with a matching secret."""


@attrs.frozen
class Request:
    request_id: str
    principal: Principal
    action: Action
    account_id: AccountId | None = None


@attrs.frozen
class GatewayDecision:
    account_id: AccountId
    decision: Decision


class Gateway:
    def __init__(
        self,
        *,
        accounts: AccountRepository,
        grants: GrantRepository,
        keys: ApiKeyRepository,
        audit: AuditLog,
        clock: Clock,
        pepper: bytes,
    ) -> None:
        self._accounts = accounts
        self._grants = grants
        self._keys = keys
        self._audit = audit
        self._clock = clock
        self._pepper = pepper

    @classmethod
    def over(cls, stores: Stores, pepper: bytes) -> Gateway:
        return cls(
            accounts=stores.accounts,
            grants=stores.grants,
            keys=stores.keys,
            audit=stores.audit,
            clock=stores.clock,
            pepper=pepper,
        )

    def authenticate_key(self, token: str) -> ApiKeyPrincipal:
        parsed = parse_token(token)
        key = self._keys.get_key(parsed.key_id)
        if key is None or not verify_secret(key, parsed.secret, self._pepper):
            raise AuthenticationError("api_key", f"{parsed.key_id:016x}", "unknown or revoked key")
        return key.principal()

    def decide(self, request: Request) -> GatewayDecision:
        """Authorize one request on one account and write its audit record."""
        account_id = resolve_account_id(request.principal, request.account_id)
        account = self._accounts.get_account(account_id)
        grant = self._grants.get_grant(request.principal.user_id, account_id)
        decision = authorize(request.principal, account, request.action, grant)
        key_id = (
            request.principal.key_id if isinstance(request.principal, ApiKeyPrincipal) else None
        )
        self._audit.append(
            AuditRecord.of(
                request_id=request.request_id,
                at_ns=self._clock.now_ns(),
                actor_user_id=request.principal.user_id,
                account_id=account_id,
                action=request.action,
                decision=decision,
                key_id=key_id,
            )
        )
        return GatewayDecision(account_id, decision)

    def whoami_accounts(self, user_id: UserId) -> list[AccountId]:
        """The user's accounts: those where the user holds ``can_list`` (ids only, no money)."""
        return [
            g.account_id for g in self._grants.grants_for_user(user_id) if g.permissions.can_list
        ]
