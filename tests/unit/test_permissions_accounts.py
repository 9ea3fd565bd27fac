from __future__ import annotations

import pytest

from axdomain import (
    Account,
    AccountId,
    AccountKind,
    Action,
    InvalidValue,
    Permissions,
    UnknownAction,
    UserId,
)
from axdomain.accounts import FeeSchedule

USER = UserId(0x0190_0000_0000_0001)


def test_presets() -> None:
    assert Permissions.FULL_ACCESS.flags() == set(Permissions.FLAG_NAMES)
    assert Permissions.READ_ONLY.flags() == {"can_list", "can_read"}
    assert Permissions.TRADER.flags() == {
        "can_list",
        "can_read",
        "can_reduce_or_close",
        "can_trade",
    }
    assert Permissions.NONE.flags() == set()


@pytest.mark.parametrize(
    ("action", "flags"),
    [
        (Action.LIST, {"can_list"}),
        (Action.READ, {"can_read"}),
        (Action.SET_LIMITS, {"can_set_limits"}),
        (Action.REDUCE_OR_CLOSE, {"can_reduce_or_close"}),
        (Action.REDUCE_OR_CLOSE, {"can_trade"}),
        (Action.TRADE, {"can_trade"}),
    ],
)
def test_each_action_is_allowed_by_exactly_its_flags(action: Action, flags: set[str]) -> None:
    assert Permissions.from_flags(flags).allows(action)
    others = set(Permissions.FLAG_NAMES) - flags
    if action is Action.REDUCE_OR_CLOSE:
        others -= {"can_reduce_or_close", "can_trade"}
    assert not Permissions.from_flags(others).allows(action)


def test_reduce_or_close_flag_does_not_allow_trade() -> None:
    assert not Permissions(can_reduce_or_close=True).allows(Action.TRADE)


def test_unknown_action_names_the_field_and_value() -> None:
    with pytest.raises(UnknownAction) as error:
        Action.parse("withdraw_all")
    assert (error.value.field, error.value.value) == ("action", "withdraw_all")
    assert Action.parse("trade") is Action.TRADE
    assert Action.parse("SET_LIMITS") is Action.SET_LIMITS


def test_unknown_flag_and_non_bool_flags_are_rejected() -> None:
    with pytest.raises(InvalidValue) as error:
        Permissions.from_flags({"can_withdraw"})
    assert error.value.field == "permissions"
    with pytest.raises(InvalidValue) as bad_bool:
        Permissions(can_trade=1)  # type: ignore[arg-type]
    assert bad_bool.value.field == "can_trade"


def test_intersection_union_and_subset() -> None:
    assert Permissions.TRADER & Permissions.READ_ONLY == Permissions.READ_ONLY
    assert Permissions.READ_ONLY | Permissions(can_trade=True) == Permissions(
        can_list=True, can_read=True, can_trade=True
    )
    assert Permissions.READ_ONLY.is_subset_of(Permissions.TRADER)
    assert not Permissions.FULL_ACCESS.is_subset_of(Permissions.TRADER)


def test_customer_account_needs_a_ubo_and_system_account_has_none() -> None:
    with pytest.raises(InvalidValue) as error:
        Account(AccountId(0x0190_0000_0000_0009), "x", AccountKind.CUSTOMER, None, 0)
    assert error.value.field == "ubo_user_id"
    with pytest.raises(InvalidValue):
        Account(AccountId(1), "AX_PNL", AccountKind.SYSTEM, USER, 0)


def test_customer_account_cannot_take_a_reserved_id() -> None:
    with pytest.raises(InvalidValue) as error:
        Account(AccountId(7), "sneaky", AccountKind.CUSTOMER, USER, 0)
    assert error.value.field == "account_id"


@pytest.mark.parametrize("bps", [10_001, -10_001, 1.5])
def test_fee_bounds(bps: object) -> None:
    with pytest.raises(InvalidValue) as error:
        FeeSchedule(maker_fee_bps=bps)  # type: ignore[arg-type]
    assert error.value.field == "maker_fee_bps"


@pytest.mark.parametrize("name", ["", " padded", "x" * 65])
def test_account_name_bounds(name: str) -> None:
    with pytest.raises(InvalidValue) as error:
        Account(USER.as_default_account_id(), name, AccountKind.CUSTOMER, USER, 0)
    assert error.value.field == "name"
