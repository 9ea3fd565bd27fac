"""Who may change membership on an account (SPEC §3), as pure checks.

A holder of ``can_manage`` may grant another user at most the flags the holder has, and
revoke any grant except the UBO's; the UBO always keeps ``FULL_ACCESS``; no customer grant
names a system account. The caller has already authorized ``MANAGE`` for the granter.
"""

from __future__ import annotations

from axdomain.accounts import Account
from axdomain.errors import DomainError
from axdomain.ids import UserId
from axdomain.membership import Grant
from axdomain.permissions import Permissions


class MembershipRefused(DomainError):
    """A grant or revoke that the membership rules forbid (403 ``not_permitted``)."""


def check_grant(
    granter: Grant, account: Account, user_id: UserId, permissions: Permissions
) -> Grant:
    """The grant ``granter`` may give ``user_id`` on ``account``, or a refusal."""
    if not account.is_customer:
        raise MembershipRefused("account_id", str(account.account_id), "a system account")
    if user_id == account.ubo_user_id:
        raise MembershipRefused("user_id", str(user_id), "the UBO always holds FULL_ACCESS")
    if permissions == Permissions.NONE:
        raise MembershipRefused("permissions", [], "a grant must allow something; revoke it")
    if not permissions.is_subset_of(granter.permissions):
        wider = sorted(permissions.flags() - granter.permissions.flags())
        raise MembershipRefused("permissions", wider, "more than the granter holds")
    return Grant(user_id, account.account_id, permissions)


def check_revoke(account: Account, user_id: UserId) -> None:
    if user_id == account.ubo_user_id:
        raise MembershipRefused("user_id", str(user_id), "the UBO's grant cannot be revoked")
