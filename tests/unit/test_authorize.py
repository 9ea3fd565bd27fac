from __future__ import annotations

import attrs
import pytest

from axdomain import (
    Account,
    AccountId,
    AccountKind,
    Action,
    ApiKeyPrincipal,
    Decision,
    DenyReason,
    Grant,
    Permissions,
    UserId,
    UserSession,
    authorize,
)

ALICE = UserId(0x0190_0000_0000_0001)
BOB = UserId(0x0190_0000_0000_0002)
DESK = AccountId(0x0190_0000_0000_00D0)
ACCOUNT = Account(DESK, "desk", AccountKind.CUSTOMER, ALICE, 0)
SESSION = UserSession(ALICE)


def grant(permissions: Permissions, user: UserId = ALICE, account: AccountId = DESK) -> Grant:
    return Grant(user, account, permissions)


def test_allowed_carries_the_deciding_grant() -> None:
    decision = authorize(SESSION, ACCOUNT, Action.TRADE, grant(Permissions.TRADER))
    assert decision == Decision(True, DenyReason.ALLOWED, grant(Permissions.TRADER), None)


def test_missing_account_and_missing_grant_look_the_same_to_a_client() -> None:
    missing = authorize(SESSION, None, Action.READ, grant(Permissions.FULL_ACCESS))
    no_grant = authorize(SESSION, ACCOUNT, Action.READ, None)
    assert missing.reason is DenyReason.NO_SUCH_ACCOUNT
    assert no_grant.reason is DenyReason.NO_GRANT
    assert missing.reason.client_reason is no_grant.reason.client_reason is DenyReason.NO_GRANT
    assert not missing.allowed and not no_grant.allowed


def test_a_grant_of_another_user_or_account_is_no_grant() -> None:
    assert authorize(
        SESSION, ACCOUNT, Action.READ, grant(Permissions.FULL_ACCESS, user=BOB)
    ).reason is (DenyReason.NO_GRANT)
    other = AccountId(0x0190_0000_0000_00E0)
    assert authorize(
        SESSION, ACCOUNT, Action.READ, grant(Permissions.FULL_ACCESS, account=other)
    ).reason is (DenyReason.NO_GRANT)


def test_read_only_cannot_trade_or_set_limits() -> None:
    read_only = grant(Permissions.READ_ONLY)
    assert authorize(SESSION, ACCOUNT, Action.READ, read_only).allowed
    for action in (Action.TRADE, Action.REDUCE_OR_CLOSE, Action.SET_LIMITS):
        decision = authorize(SESSION, ACCOUNT, action, read_only)
        assert decision.reason is DenyReason.NOT_PERMITTED
        assert decision.grant == read_only


@pytest.mark.parametrize("action", [Action.TRADE, Action.REDUCE_OR_CLOSE])
def test_frozen_account_denies_money_movement(action: Action) -> None:
    frozen = attrs.evolve(ACCOUNT, is_frozen=True)
    decision = authorize(SESSION, frozen, action, grant(Permissions.FULL_ACCESS))
    assert decision.reason is DenyReason.ACCOUNT_FROZEN


def test_frozen_account_still_allows_reads() -> None:
    frozen = attrs.evolve(ACCOUNT, is_frozen=True)
    assert authorize(SESSION, frozen, Action.READ, grant(Permissions.FULL_ACCESS)).allowed


def test_close_only_denies_trade_and_allows_reduce() -> None:
    close_only = attrs.evolve(ACCOUNT, is_close_only=True)
    full = grant(Permissions.FULL_ACCESS)
    assert authorize(SESSION, close_only, Action.TRADE, full).reason is DenyReason.CLOSE_ONLY
    assert authorize(SESSION, close_only, Action.REDUCE_OR_CLOSE, full).allowed
    reduce_only = grant(Permissions(can_reduce_or_close=True))
    assert authorize(SESSION, close_only, Action.REDUCE_OR_CLOSE, reduce_only).allowed


def key(scope: Permissions, account: AccountId = DESK) -> ApiKeyPrincipal:
    return ApiKeyPrincipal(key_id=42, user_id=ALICE, account_id=account, scope=scope)


def test_key_acts_only_on_its_own_account() -> None:
    elsewhere = key(Permissions.FULL_ACCESS, account=AccountId(0x0190_0000_0000_00E0))
    decision = authorize(elsewhere, ACCOUNT, Action.READ, grant(Permissions.FULL_ACCESS))
    # Another account's key reads exactly like a missing grant: no account enumeration.
    assert decision.reason is DenyReason.NO_GRANT
    assert decision.key_scope == Permissions.FULL_ACCESS


def test_key_needs_the_flag_in_both_scope_and_live_grant() -> None:
    read_key = key(Permissions.READ_ONLY)
    assert authorize(read_key, ACCOUNT, Action.TRADE, grant(Permissions.FULL_ACCESS)).reason is (
        DenyReason.KEY_SCOPE
    )
    trade_key = key(Permissions.TRADER)
    assert authorize(trade_key, ACCOUNT, Action.TRADE, grant(Permissions.READ_ONLY)).reason is (
        DenyReason.NOT_PERMITTED
    )
    assert authorize(trade_key, ACCOUNT, Action.TRADE, grant(Permissions.TRADER)).allowed


def test_revoked_grant_disarms_a_key_at_once() -> None:
    assert (
        authorize(key(Permissions.TRADER), ACCOUNT, Action.TRADE, None).reason
        is DenyReason.NO_GRANT
    )
