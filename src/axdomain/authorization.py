"""The one authorization decision every request on an account goes through.

``authorize`` is pure: the caller looks up exactly one grant ``(user, account)`` and one
account row with keyed reads and hands them in. Deny is the default; the first failing
rule names the reason. There is no fan-out over a user's other accounts.
"""

from __future__ import annotations

import enum

import attrs

from axdomain.accounts import Account
from axdomain.membership import ApiKeyPrincipal, Grant, OperatorPrincipal, Principal
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
        if self.allowed != (self.reason is DenyReason.ALLOWED):
            raise ValueError(f"inconsistent decision {self!r}")


def authorize(
    principal: Principal, account: Account | None, action: Action, grant: Grant | None
) -> Decision:
    """Decide one action of one principal on one account.

    * Operators decide operator actions only, on any existing account (or none, for
      exchange-wide actions the caller passes ``account=None`` through ``authorize_operator``);
      they never act through a customer grant.
    * A key acts only on its own account: another account, a missing account and a missing
      grant all read ``NO_GRANT`` to the client, so a key cannot enumerate accounts.
    * System accounts take no customer action whatever grant a row may claim.
    """
    key_scope = principal.scope if isinstance(principal, ApiKeyPrincipal) else None

    def deny(reason: DenyReason, deciding: Grant | None = None) -> Decision:
        return Decision(False, reason, deciding, key_scope)

    if account is None:
        return deny(DenyReason.NO_SUCH_ACCOUNT)
    if isinstance(principal, OperatorPrincipal):
        if action.is_operator_action:
            return Decision(True, DenyReason.ALLOWED)
        return deny(DenyReason.NOT_PERMITTED)
    if action.is_operator_action:
        return deny(DenyReason.NOT_PERMITTED)
    if isinstance(principal, ApiKeyPrincipal) and principal.account_id != account.account_id:
        return deny(DenyReason.NO_GRANT)
    if (
        not account.is_customer
        or grant is None
        or grant.user_id != principal.user_id
        or grant.account_id != account.account_id
    ):
        return deny(DenyReason.NO_GRANT)
    if not grant.permissions.allows(action):
        return deny(DenyReason.NOT_PERMITTED, grant)
    if key_scope is not None and not (key_scope & grant.permissions).allows(action):
        return deny(DenyReason.KEY_SCOPE, grant)
    if account.is_frozen and action.refused_when_frozen:
        return deny(DenyReason.ACCOUNT_FROZEN, grant)
    if account.is_close_only and action.refused_when_close_only:
        return deny(DenyReason.CLOSE_ONLY, grant)
    return Decision(True, DenyReason.ALLOWED, grant, key_scope)


def authorize_operator(principal: Principal, action: Action) -> Decision:
    """An exchange-wide operator action (listing, funding, ...): no account is involved."""
    if isinstance(principal, OperatorPrincipal) and action.is_operator_action:
        return Decision(True, DenyReason.ALLOWED)
    key_scope = principal.scope if isinstance(principal, ApiKeyPrincipal) else None
    return Decision(False, DenyReason.NOT_PERMITTED, None, key_scope)
