"""The gateway: authenticate, resolve the account, authorize, audit — in one place.

Per decision it does one keyed read of the account, the ``(user, account)`` grant and, for
a key principal, the key, together (``AccessReader``: one statement in SQL): cost never
depends on how many accounts a user can reach. Every decision, allowed or denied, writes an
audit record. ``run`` makes the decision and the request's effect one unit of work: the
allowed decision's record commits with the effect; a denial's record commits alone before
the caller sees it. A READ writes nothing else, so it runs in a read-only unit: no
transaction around its reads, and its audit record shares a group commit with concurrent
requests' records; the answer leaves only after that commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

import attrs

from axapp.edge import resolve_account_id
from axapp.stores import Stores
from axdomain.accounts import Account
from axdomain.api_keys import TOKEN_PREFIX, ApiKey, parse_token, verify_secret
from axdomain.audit import AuditRecord
from axdomain.authorization import Decision, DenyReason, authorize, authorize_operator
from axdomain.cache import Session, SessionStore
from axdomain.errors import DomainError, InvalidValue
from axdomain.ids import AccountId
from axdomain.membership import ApiKeyPrincipal, OperatorPrincipal, Principal, UserSession
from axdomain.operators import OPERATOR_TOKEN_PREFIX
from axdomain.permissions import Action, Permissions

T = TypeVar("T")
# Actions whose effect writes nothing but the decision's audit record.
READ_ONLY_ACTIONS = frozenset({Action.READ})
SESSION_TOKEN_PREFIX = "axs_"
MAX_TOKEN_LEN = 600


class AuthenticationError(DomainError):
    """Missing, unknown, revoked or expired credentials (HTTP 401)."""


class AccessDenied(DomainError):
    """``authorize`` said no. ``reason`` is what the client may see: a missing account, a
    missing grant and another account's key all read ``NO_GRANT`` (HTTP 404)."""

    def __init__(self, account_id: AccountId | None, reason: DenyReason) -> None:
        self.reason = reason.client_reason
        shown = "" if account_id is None else str(account_id)
        super().__init__("account_id", shown, self.reason.value)


def session_token_hash(token: str) -> str:
    """Sessions are found by the SHA-256 of their bearer token; the token is never stored."""
    return hashlib.sha256(token.encode()).hexdigest()


@attrs.frozen
class Authorized:
    """What an allowed decision hands the effect: the account, and the deciding facts."""

    account: Account
    decision: Decision

    @property
    def effective_permissions(self) -> Permissions:
        """The grant, narrowed by the key scope for a key principal."""
        grant = self.decision.grant.permissions if self.decision.grant else Permissions.NONE
        scope = self.decision.key_scope
        return grant if scope is None else grant & scope


class Gateway:
    def __init__(self, stores: Stores, sessions: SessionStore, pepper: bytes) -> None:
        self._stores = stores
        self._sessions = sessions
        self._pepper = pepper

    # ------------------------------------------------------------------ authentication

    def authenticate(self, token: object, client_address: str | None = None) -> Principal:
        """A bearer token to its principal; anything short of a live credential is refused
        with one error that does not say which part failed."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LEN:
            raise AuthenticationError("authorization", "<redacted>", "missing or malformed")
        if token.startswith(SESSION_TOKEN_PREFIX):
            return self._session(token)
        prefix = OPERATOR_TOKEN_PREFIX if token.startswith(OPERATOR_TOKEN_PREFIX) else TOKEN_PREFIX
        try:
            parsed = parse_token(token, prefix)
        except DomainError:
            raise AuthenticationError("authorization", "<redacted>", "malformed token") from None
        if prefix == OPERATOR_TOKEN_PREFIX:
            operator = self._stores.operators.get_operator(parsed.key_id)
            if operator is None or operator.is_revoked:
                raise _unknown()
            if not _same_digest(operator.secret_hash, parsed.secret, self._pepper):
                raise _unknown()
            return operator.principal()
        key = self._stores.keys.get_key(parsed.key_id)
        if key is None or not verify_secret(key, parsed.secret, self._pepper):
            raise _unknown()
        if not key.usable(self._stores.clock.now_ns(), client_address):
            raise _unknown()
        return key.principal(client_address)

    def _session(self, token: str) -> UserSession:
        session = self._sessions.get(session_token_hash(token))
        if session is None or session.expires_at_ns <= self._stores.clock.now_ns():
            raise _unknown()
        return UserSession(session.user_id)

    def open_session(self, session: Session) -> None:
        self._sessions.create(session)

    def _live_key_principal(
        self, principal: ApiKeyPrincipal, key: ApiKey | None
    ) -> ApiKeyPrincipal:
        """The key as re-read with the decision: a principal built before a revocation or
        an expiry fails now. The grant was read for the principal's user and account, so a
        principal that does not match its key (never one ``authenticate`` built) fails too."""
        now_ns = self._stores.clock.now_ns()
        if key is None or not key.usable(now_ns, principal.client_address):
            raise _unknown()
        live = key.principal(principal.client_address)
        if (live.user_id, live.account_id) != (principal.user_id, principal.account_id):
            raise _unknown()
        return live

    # ------------------------------------------------------------------ decisions

    def decide(
        self, principal: Principal, action: Action, account_id: AccountId | None, request_id: str
    ) -> tuple[Account | None, Decision, AccountId]:
        """Authorize one action on one account and append its audit record."""
        access = self._stores.access
        if isinstance(principal, OperatorPrincipal):
            if account_id is None:
                raise InvalidValue("account_id", None, "an operator names the account")
            resolved = account_id
            facts = access.access_facts(resolved, None, None)
        else:
            # A key's account and user never change, so the principal in hand resolves the
            # account; the key itself is re-read with the grant and the account.
            resolved = resolve_account_id(principal, account_id)
            key_id = principal.key_id if isinstance(principal, ApiKeyPrincipal) else None
            facts = access.access_facts(resolved, principal.user_id, key_id)
            if isinstance(principal, ApiKeyPrincipal):
                principal = self._live_key_principal(principal, facts.key)
        decision = authorize(principal, facts.account, action, facts.grant)
        self._audit(principal, resolved, action, decision, request_id)
        return facts.account, decision, resolved

    def _audit(
        self,
        principal: Principal,
        account_id: AccountId | None,
        action: Action,
        decision: Decision,
        request_id: str,
    ) -> None:
        self._stores.audit.append(
            AuditRecord.of(
                request_id=request_id,
                at_ns=self._stores.clock.now_ns(),
                principal=principal,
                account_id=account_id,
                action=action,
                decision=decision,
            )
        )

    def new_request_id(self) -> str:
        return f"req-{self._stores.ids.new_id():016x}"

    def run(
        self,
        principal: Principal,
        action: Action,
        account_id: AccountId | None,
        effect: Callable[[Authorized], T],
        *,
        request_id: str | None = None,
    ) -> T:
        """Decide, then run ``effect`` on the authorized account in one unit of work.

        A denial commits its audit record and raises ``AccessDenied``; an effect that raises
        rolls back everything it wrote, and the allowed decision is audited again on its
        own so the trail still shows it.
        """
        rid = request_id or self.new_request_id()
        if action in READ_ONLY_ACTIONS:
            return self._run_read_only(principal, action, account_id, effect, rid)
        uow = self._stores.uow
        denied: tuple[AccountId | None, DenyReason] | None = None
        try:
            with uow.transaction():
                account, decision, resolved = self.decide(principal, action, account_id, rid)
                if not decision.allowed or account is None:
                    denied = (account_id if account_id is not None else resolved, decision.reason)
                else:
                    return effect(Authorized(account, decision))
        except AuthenticationError:
            raise
        except Exception:
            if denied is None:
                with uow.transaction():
                    self.decide(principal, action, account_id, rid)
            raise
        raise AccessDenied(*denied)

    def _run_read_only(
        self,
        principal: Principal,
        action: Action,
        account_id: AccountId | None,
        effect: Callable[[Authorized], T],
        request_id: str,
    ) -> T:
        """As ``run``, for an effect that only reads: the audit record is durable before
        the unit is left whatever the effect did, so it is written once, never again."""
        denied: tuple[AccountId | None, DenyReason] | None = None
        with self._stores.uow.read_only():
            account, decision, resolved = self.decide(principal, action, account_id, request_id)
            if not decision.allowed or account is None:
                denied = (account_id if account_id is not None else resolved, decision.reason)
            else:
                return effect(Authorized(account, decision))
        raise AccessDenied(*denied)

    def run_operator(self, principal: Principal, action: Action, effect: Callable[[], T]) -> T:
        """An exchange-wide operator action (no account): decided, audited, one unit."""
        rid = self.new_request_id()
        decision = authorize_operator(principal, action)
        with self._stores.uow.transaction():
            self._audit(principal, None, action, decision, rid)
            if decision.allowed:
                return effect()
        raise AccessDenied(None, decision.reason)


def _unknown() -> AuthenticationError:
    return AuthenticationError("authorization", "<redacted>", "unknown, revoked or expired")


def _same_digest(stored: bytes, secret: bytes, pepper: bytes) -> bool:
    import hmac

    from axdomain.api_keys import hash_secret

    return hmac.compare_digest(stored, hash_secret(secret, pepper))
