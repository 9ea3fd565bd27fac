"""Authorization and audit rules that were only ever tested in the safe direction.

A key scope must narrow a grant for exactly the action asked, so a READ_ONLY key on a full
grant may READ (not only "may not TRADE"). Every denial after the grant lookup must carry
the deciding grant, and the audit record must keep its flags and the key id: an auditor
reads "until this point X could do Y" from exactly those fields.
"""

from __future__ import annotations

import attrs
import pytest

from axdomain import (
    Account,
    AccountId,
    AccountKind,
    Action,
    ApiKeyPrincipal,
    AuditRecord,
    DenyReason,
    Grant,
    Permissions,
    UserId,
    UserSession,
    authorize,
    mint_api_key,
)

ALICE = UserId(0x0190_0000_0000_0001)
DESK = AccountId(0x0190_0000_0000_00D0)
ACCOUNT = Account(DESK, "desk", AccountKind.CUSTOMER, ALICE, 0)
FULL = Grant(ALICE, DESK, Permissions.FULL_ACCESS)
KEY_ID = 0x0190_0000_0000_4242


def key(scope: Permissions, *, key_id: int = KEY_ID) -> ApiKeyPrincipal:
    return ApiKeyPrincipal(key_id, ALICE, DESK, scope)


# ----------------------------------------------------------- key scope, both directions

SCOPE_CASES = [
    # (key scope, action, allowed) on a FULL_ACCESS grant
    (Permissions.READ_ONLY, Action.READ, True),
    (Permissions.READ_ONLY, Action.LIST, True),
    (Permissions.READ_ONLY, Action.TRADE, False),
    (Permissions.READ_ONLY, Action.REDUCE_OR_CLOSE, False),
    (Permissions.READ_ONLY, Action.SET_LIMITS, False),
    (Permissions(can_set_limits=True), Action.SET_LIMITS, True),
    (Permissions(can_set_limits=True), Action.READ, False),
    (Permissions(can_reduce_or_close=True), Action.REDUCE_OR_CLOSE, True),
    (Permissions(can_reduce_or_close=True), Action.TRADE, False),
    (Permissions(can_trade=True), Action.TRADE, True),
    (Permissions(can_trade=True), Action.REDUCE_OR_CLOSE, True),
    (Permissions(can_trade=True), Action.READ, False),
    (Permissions(can_list=True), Action.LIST, True),
    (Permissions(can_list=True), Action.READ, False),
]


@pytest.mark.parametrize(("scope", "action", "allowed"), SCOPE_CASES)
def test_key_scope_decides_exactly_the_action_asked(
    scope: Permissions, action: Action, allowed: bool
) -> None:
    decision = authorize(key(scope), ACCOUNT, action, FULL)
    assert decision.allowed is allowed
    assert decision.reason is (DenyReason.ALLOWED if allowed else DenyReason.KEY_SCOPE)
    assert decision.grant == FULL
    assert decision.key_scope == scope


def test_key_scope_never_widens_the_grant() -> None:
    read_only_grant = Grant(ALICE, DESK, Permissions.READ_ONLY)
    decision = authorize(key(Permissions.FULL_ACCESS), ACCOUNT, Action.TRADE, read_only_grant)
    assert decision.reason is DenyReason.NOT_PERMITTED
    assert decision.grant == read_only_grant
    assert authorize(key(Permissions.FULL_ACCESS), ACCOUNT, Action.READ, read_only_grant).allowed


def test_key_bound_to_another_account_reads_as_no_grant() -> None:
    other = ApiKeyPrincipal(KEY_ID, ALICE, AccountId(0x0190_0000_0000_00E0), Permissions.TRADER)
    decision = authorize(other, ACCOUNT, Action.READ, FULL)
    assert (decision.allowed, decision.reason, decision.grant) == (
        False,
        DenyReason.NO_GRANT,
        None,
    )
    assert decision.key_scope == Permissions.TRADER


def test_a_session_has_no_key_scope() -> None:
    decision = authorize(UserSession(ALICE), ACCOUNT, Action.READ, FULL)
    assert decision.allowed
    assert decision.key_scope is None


# ------------------------------------------------- the deciding grant on every denial


def _denials() -> list[tuple[str, object, Account, Action, Grant, DenyReason]]:
    frozen = attrs.evolve(ACCOUNT, is_frozen=True)
    close_only = attrs.evolve(ACCOUNT, is_close_only=True)
    trader = Grant(ALICE, DESK, Permissions.TRADER)
    session, read_key, trade_key = (
        UserSession(ALICE),
        key(Permissions.READ_ONLY),
        key(Permissions.TRADER),
    )
    return [
        ("key_scope", read_key, ACCOUNT, Action.TRADE, trader, DenyReason.KEY_SCOPE),
        ("frozen_trade", session, frozen, Action.TRADE, trader, DenyReason.ACCOUNT_FROZEN),
        ("frozen_reduce", trade_key, frozen, Action.REDUCE_OR_CLOSE, trader,
         DenyReason.ACCOUNT_FROZEN),
        ("close_only", trade_key, close_only, Action.TRADE, trader, DenyReason.CLOSE_ONLY),
        ("not_permitted", session, ACCOUNT, Action.SET_LIMITS, trader, DenyReason.NOT_PERMITTED),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("principal", "account", "action", "grant", "reason"),
    [case[1:] for case in _denials()],
    ids=[case[0] for case in _denials()],
)
def test_denial_after_the_grant_lookup_carries_the_grant_into_the_audit_record(
    principal: UserSession | ApiKeyPrincipal,
    account: Account,
    action: Action,
    grant: Grant,
    reason: DenyReason,
) -> None:
    decision = authorize(principal, account, action, grant)
    assert (decision.allowed, decision.reason) == (False, reason)
    assert decision.grant == grant
    key_id = principal.key_id if isinstance(principal, ApiKeyPrincipal) else None
    record = AuditRecord.of(
        request_id="req-1",
        at_ns=123,
        principal=principal,
        account_id=DESK,
        action=action,
        decision=decision,
    )
    assert record == AuditRecord(
        request_id="req-1",
        at_ns=123,
        actor_user_id=ALICE,
        account_id=DESK,
        action=action,
        allowed=False,
        reason=reason,
        grant_permissions=grant.permissions,
        key_id=key_id,
        key_scope=principal.scope if isinstance(principal, ApiKeyPrincipal) else None,
    )


def test_frozen_and_close_only_allow_what_does_not_raise_exposure() -> None:
    frozen = attrs.evolve(ACCOUNT, is_frozen=True)
    close_only = attrs.evolve(ACCOUNT, is_close_only=True)
    assert authorize(UserSession(ALICE), frozen, Action.READ, FULL).allowed
    assert authorize(UserSession(ALICE), frozen, Action.SET_LIMITS, FULL).allowed
    assert authorize(UserSession(ALICE), close_only, Action.REDUCE_OR_CLOSE, FULL).allowed
    assert authorize(UserSession(ALICE), close_only, Action.READ, FULL).allowed


def test_allowed_key_request_is_audited_with_key_id_scope_and_grant() -> None:
    principal = key(Permissions.TRADER)
    decision = authorize(principal, ACCOUNT, Action.TRADE, FULL)
    record = AuditRecord.of(
        request_id="req-2",
        at_ns=5,
        principal=principal,
        account_id=DESK,
        action=Action.TRADE,
        decision=decision,
    )
    assert (record.allowed, record.reason) == (True, DenyReason.ALLOWED)
    assert record.grant_permissions == Permissions.FULL_ACCESS
    assert (record.key_id, record.key_scope) == (KEY_ID, Permissions.TRADER)


def test_denial_before_the_grant_lookup_records_no_grant() -> None:
    decision = authorize(UserSession(ALICE), ACCOUNT, Action.READ, None)
    record = AuditRecord.of(
        request_id="req-3",
        at_ns=1,
        principal=UserSession(ALICE),
        account_id=DESK,
        action=Action.READ,
        decision=decision,
    )
    assert (record.reason, record.grant_permissions, record.key_scope) == (
        DenyReason.NO_GRANT,
        None,
        None,
    )


# -------------------------------------------------------------- key -> principal fields


def test_minted_key_acts_as_a_principal_with_its_own_id_and_scope() -> None:
    stored, _ = mint_api_key(
        key_id=KEY_ID,
        user_id=ALICE,
        account_id=DESK,
        scope=Permissions.READ_ONLY,
        grant=FULL,
        secret=bytes(range(32)),
        pepper=b"p" * 32,
        now_ns=99,
    )
    assert (stored.key_id, stored.user_id, stored.account_id) == (KEY_ID, ALICE, DESK)
    assert (stored.scope, stored.created_at_ns, stored.revoked_at_ns) == (
        Permissions.READ_ONLY,
        99,
        None,
    )
    assert stored.principal() == ApiKeyPrincipal(KEY_ID, ALICE, DESK, Permissions.READ_ONLY)
    legacy = attrs.evolve(stored, account_id=None)
    assert legacy.principal() == ApiKeyPrincipal(
        KEY_ID, ALICE, ALICE.as_default_account_id(), Permissions.READ_ONLY
    )
