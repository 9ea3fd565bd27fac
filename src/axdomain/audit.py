"""The audit record written for every decision on a money-touching action.

It stores the deciding grant's flags as they were at decision time (and the key scope for
key requests), so a revoked grant still tells "until this point X could do Y".
"""

from __future__ import annotations

import attrs

from axdomain.authorization import Decision, DenyReason
from axdomain.ids import AccountId, UserId
from axdomain.permissions import Action, Permissions


@attrs.frozen
class AuditRecord:
    request_id: str
    at_ns: int
    actor_user_id: UserId
    account_id: AccountId
    action: Action
    allowed: bool
    reason: DenyReason
    grant_permissions: Permissions | None
    key_id: int | None
    key_scope: Permissions | None

    @classmethod
    def of(
        cls,
        *,
        request_id: str,
        at_ns: int,
        actor_user_id: UserId,
        account_id: AccountId,
        action: Action,
        decision: Decision,
        key_id: int | None,
    ) -> AuditRecord:
        return cls(
            request_id=request_id,
            at_ns=at_ns,
            actor_user_id=actor_user_id,
            account_id=account_id,
            action=action,
            allowed=decision.allowed,
            reason=decision.reason,
            grant_permissions=decision.grant.permissions if decision.grant else None,
            key_id=key_id,
            key_scope=decision.key_scope,
        )
