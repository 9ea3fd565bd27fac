"""Properties of ids, permissions and authorize()."""

from __future__ import annotations

import attrs
from hypothesis import given
from hypothesis import strategies as st

from axdomain import (
    Account,
    AccountId,
    AccountKind,
    Action,
    ApiKeyPrincipal,
    DenyReason,
    Grant,
    Permissions,
    UserId,
    UserSession,
    authorize,
)
from axdomain.ids import RESERVED_ID_LIMIT, U64_MAX
from axdomain.ulid import ULID_MAX, ulid_from_text, ulid_to_text

user_ids = st.integers(RESERVED_ID_LIMIT, U64_MAX).map(UserId)
account_ids = st.integers(RESERVED_ID_LIMIT, U64_MAX).map(AccountId)
permissions = st.builds(
    Permissions, st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans()
)
actions = st.sampled_from(list(Action))


@st.composite
def accounts(draw: st.DrawFn) -> Account:
    return Account(
        account_id=draw(account_ids),
        name="acct",
        kind=AccountKind.CUSTOMER,
        ubo_user_id=draw(user_ids),
        created_at_ns=0,
        is_frozen=draw(st.booleans()),
        is_close_only=draw(st.booleans()),
    )


@given(st.integers(1, U64_MAX))
def test_account_id_text_and_ulid_round_trip(value: int) -> None:
    account = AccountId(value)
    assert AccountId.from_hex(str(account)) == account
    assert AccountId.from_ulid_text(account.ulid_text()) == account
    assert ulid_from_text(account.ulid_text()) == account.to_ulid()


@given(user_ids)
def test_user_id_text_round_trip_and_default_account(user: UserId) -> None:
    assert UserId.from_hex(str(user)) == user
    assert str(user.as_default_account_id()) == str(user)
    assert UserId.from_ulid_text(user.ulid_text()) == user


@given(st.integers(0, ULID_MAX))
def test_any_128_bit_ulid_round_trips(value: int) -> None:
    text = ulid_to_text(value)
    assert len(text) == 26 and text[0] in "01234567"
    assert ulid_from_text(text) == value


@given(st.integers(0, ULID_MAX), st.integers(0, ULID_MAX))
def test_ulid_text_order_matches_numeric_order(a: int, b: int) -> None:
    assert (ulid_to_text(a) < ulid_to_text(b)) == (a < b)


@given(user_ids, accounts(), actions)
def test_no_grant_denies_every_action(user: UserId, account: Account, action: Action) -> None:
    decision = authorize(UserSession(user), account, action, None)
    assert not decision.allowed
    expected = DenyReason.NOT_PERMITTED if action.is_operator_action else DenyReason.NO_GRANT
    assert decision.reason is expected


@given(user_ids, accounts(), actions, permissions, st.sampled_from(Permissions.FLAG_NAMES))
def test_adding_a_flag_never_turns_allow_into_deny(
    user: UserId, account: Account, action: Action, perms: Permissions, flag: str
) -> None:
    before = authorize(UserSession(user), account, action, Grant(user, account.account_id, perms))
    wider = Permissions.from_flags(perms.flags() | {flag})
    after = authorize(UserSession(user), account, action, Grant(user, account.account_id, wider))
    assert not before.allowed or after.allowed


@given(user_ids, accounts(), actions, permissions, permissions)
def test_a_key_is_never_allowed_more_than_its_scope_or_the_live_grant(
    user: UserId, account: Account, action: Action, scope: Permissions, held: Permissions
) -> None:
    key = ApiKeyPrincipal(1, user, account.account_id, scope)
    grant = Grant(user, account.account_id, held)
    key_decision = authorize(key, account, action, grant)
    if key_decision.allowed:
        assert scope.allows(action) and held.allows(action)
        assert authorize(UserSession(user), account, action, grant).allowed


@given(user_ids, accounts(), account_ids, actions)
def test_a_key_never_acts_on_another_account(
    user: UserId, account: Account, key_account: AccountId, action: Action
) -> None:
    key = ApiKeyPrincipal(1, user, key_account, Permissions.FULL_ACCESS)
    decision = authorize(
        key, account, action, Grant(user, account.account_id, Permissions.FULL_ACCESS)
    )
    if action.is_operator_action:
        assert decision.reason is DenyReason.NOT_PERMITTED
    elif key_account != account.account_id:
        assert decision.reason is DenyReason.NO_GRANT
    else:
        assert decision.reason is not DenyReason.KEY_SCOPE


@given(user_ids, accounts(), permissions, st.sampled_from([Action.TRADE, Action.REDUCE_OR_CLOSE]))
def test_frozen_denies_trade_and_reduce(
    user: UserId, account: Account, perms: Permissions, action: Action
) -> None:
    frozen = attrs.evolve(account, is_frozen=True)
    decision = authorize(UserSession(user), frozen, action, Grant(user, account.account_id, perms))
    assert not decision.allowed


@given(user_ids, accounts(), permissions)
def test_close_only_denies_trade_and_allows_reduce_with_the_right_flag(
    user: UserId, account: Account, perms: Permissions
) -> None:
    close_only = attrs.evolve(account, is_close_only=True, is_frozen=False)
    grant = Grant(user, account.account_id, perms)
    assert not authorize(UserSession(user), close_only, Action.TRADE, grant).allowed
    reduce = authorize(UserSession(user), close_only, Action.REDUCE_OR_CLOSE, grant)
    assert reduce.allowed == (perms.can_reduce_or_close or perms.can_trade)
