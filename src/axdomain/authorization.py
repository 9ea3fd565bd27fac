"""The one authorization decision every money-touching request goes through.

``authorize`` is pure: the caller looks up exactly one grant ``(user, account)`` and one
account row with keyed reads and hands them in. Deny is the default; the first failing
rule names the reason. There is no fan-out over a user's other accounts.
"""

from __future__ import annotations

import enum

import attrs

from axdomain.accounts import Account
from axdomain.membership import ApiKeyPrincipal, Grant, Principal
from axdomain.permissions import Action, Permissions


class DenyReason(enum.Enum):
    ALLOWED = "allowed"
    NO_SUCH_ACCOUNT = "no_such_account"
    NO_GRANT = "no_grant"
    NOT_PERMITTED = "not_permitted"
    ACCOUNT_FROZEN = "account_frozen"
    CLOSE_ONLY = "close_only"
    KEY_SCOPE = "key_scope"

    @property
    def client_reason(self) -> DenyReason:
        """What a client may see: a missing account looks exactly like a missing grant."""
        return DenyReason.NO_GRANT if self is DenyReason.NO_SUCH_ACCOUNT else self


@attrs.frozen
class Decision:
    allowed: bool
    reason: DenyReason
    grant: Grant | None = None
    key_scope: Permissions | None = None

    def __attrs_post_init__(self) -> None:
        assert self.allowed == (self.reason is DenyReason.ALLOWED), self


def authorize(
    principal: Principal, account: Account | None, action: Action, grant: Grant | None
) -> Decision:
    key_scope = principal.scope if isinstance(principal, ApiKeyPrincipal) else None

    def deny(reason: DenyReason, deciding: Grant | None = None) -> Decision:
        return Decision(False, reason, deciding, key_scope)

    if account is None:
        return deny(DenyReason.NO_SUCH_ACCOUNT)
    if isinstance(principal, ApiKeyPrincipal) and principal.account_id != account.account_id:
        return deny(DenyReason.KEY_SCOPE)
    if (
        grant is None
        or grant.user_id != principal.user_id
        or grant.account_id != account.account_id
    ):
        return deny(DenyReason.NO_GRANT)
    if not grant.permissions.allows(action):
        return deny(DenyReason.NOT_PERMITTED, grant)
    if key_scope is not None and not (key_scope & grant.permissions).allows(action):
        return deny(DenyReason.KEY_SCOPE, grant)
    if account.is_frozen and action.touches_money:
        return deny(DenyReason.ACCOUNT_FROZEN, grant)
    if account.is_close_only and action is Action.TRADE:
        return deny(DenyReason.CLOSE_ONLY, grant)
    return Decision(True, DenyReason.ALLOWED, grant, key_scope)
