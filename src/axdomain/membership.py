"""Membership (grants) and the principals that act."""

from __future__ import annotations

import attrs

from axdomain.ids import AccountId, UserId
from axdomain.permissions import Permissions


@attrs.frozen
class Grant:
    """User ``user_id`` may do what ``permissions`` allow on ``account_id``."""

    user_id: UserId
    account_id: AccountId
    permissions: Permissions


@attrs.frozen
class User:
    """An identity. Holds no money facts: those live on accounts."""

    user_id: UserId
    username: str
    created_at_ns: int


@attrs.frozen
class UserSession:
    """A logged-in user acting with the full extent of their grants."""

    user_id: UserId


@attrs.frozen
class ApiKeyPrincipal:
    """A request signed with an API key: bound to one account and a scope.

    ``account_id`` is already resolved: a legacy key without an account is read as
    scoped to its user's default account before it becomes a principal. The gateway
    re-reads the key on every decision, so a principal built before a revocation or an
    expiry stops working at once; ``client_address`` is the request's, checked against the
    key's network allow-list at that re-read.
    """

    key_id: int
    user_id: UserId
    account_id: AccountId
    scope: Permissions
    client_address: str | None = None


@attrs.frozen
class OperatorPrincipal:
    """Exchange staff: does what no customer grant covers (onboarding, deposits from
    custody, flags, listing, funding, settlement, delisting, the audit trail)."""

    operator_id: int
    name: str


CustomerPrincipal = UserSession | ApiKeyPrincipal
Principal = UserSession | ApiKeyPrincipal | OperatorPrincipal
