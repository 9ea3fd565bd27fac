"""The audit record written for every authorization decision, allowed or denied.

It stores the deciding grant's flags as they were at decision time (and the key scope for
key requests), so a revoked grant still tells "until this point X could do Y". The actor is
a user (``actor_user_id``) or an operator (``actor_operator_id``), never both; exchange-wide
operator actions (listing, funding) carry no ``account_id``.
"""

from __future__ import annotations

import attrs

from axdomain.authorization import Decision, DenyReason
from axdomain.errors import InvalidValue
from axdomain.ids import AccountId, UserId
from axdomain.membership import ApiKeyPrincipal, OperatorPrincipal, Principal
from axdomain.permissions import Action, Permissions

MAX_REQUEST_ID_LEN = 128


@attrs.frozen
class AuditRecord:
    request_id: str
    at_ns: int
    actor_user_id: UserId | None
    account_id: AccountId | None
    action: Action
    allowed: bool
    reason: DenyReason
    grant_permissions: Permissions | None
    key_id: int | None
    key_scope: Permissions | None
    actor_operator_id: int | None = None

    def __attrs_post_init__(self) -> None:
        if (self.actor_user_id is None) == (self.actor_operator_id is None):
            raise InvalidValue("actor", (self.actor_user_id, self.actor_operator_id), "one actor")

    @classmethod
    def of(
        cls,
        *,
        request_id: str,
        at_ns: int,
        principal: Principal,
        account_id: AccountId | None,
        action: Action,
        decision: Decision,
    ) -> AuditRecord:
        operator = principal if isinstance(principal, OperatorPrincipal) else None
        return cls(
            request_id=request_id[:MAX_REQUEST_ID_LEN],
            at_ns=at_ns,
            actor_user_id=None if isinstance(principal, OperatorPrincipal) else principal.user_id,
            account_id=account_id,
            action=action,
            allowed=decision.allowed,
            reason=decision.reason,
            grant_permissions=decision.grant.permissions if decision.grant else None,
            key_id=principal.key_id if isinstance(principal, ApiKeyPrincipal) else None,
            key_scope=decision.key_scope,
            actor_operator_id=None if operator is None else operator.operator_id,
        )
