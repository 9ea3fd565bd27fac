"""Edge-only rules: the one place a missing ``account_id`` becomes the default account.

Service internals never call this; they receive an explicit, authorized ``AccountId``.
"""

from __future__ import annotations

from axdomain.ids import AccountId
from axdomain.membership import ApiKeyPrincipal, CustomerPrincipal


def resolve_account_id(principal: CustomerPrincipal, account_id: AccountId | None) -> AccountId:
    """An explicit account wins; otherwise the user's default (a key's own account).

    The result is only an input to ``authorize``: it grants nothing by itself. A legacy key
    has already been resolved to its user's default account by ``ApiKey.principal``.
    """
    if account_id is not None:
        return account_id
    if isinstance(principal, ApiKeyPrincipal):
        return principal.account_id
    return principal.user_id.as_default_account_id()
