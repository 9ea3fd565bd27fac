"""Permission flags on the wire and the errors module's own promise, field by field."""

from __future__ import annotations

import pytest

from axdomain import Action, InvalidValue, Permissions
from axdomain.errors import DomainError, Unavailable


def test_parse_wire_accepts_lists_and_tuples_of_wire_names() -> None:
    assert Permissions.parse_wire(["read", "trade"]) == Permissions(can_read=True, can_trade=True)
    assert Permissions.parse_wire(("manage",)) == Permissions(can_manage=True)
    assert Permissions.parse_wire([]) == Permissions.NONE
    everything = Permissions.FULL_ACCESS.wire_names()
    assert everything == [
        "list",
        "read",
        "set_limits",
        "reduce_or_close",
        "trade",
        "transfer",
        "manage",
    ]
    assert Permissions.parse_wire(everything) == Permissions.FULL_ACCESS


@pytest.mark.parametrize(
    ("names", "value", "problem"),
    [
        ("read", "read", "must be a list of permission names"),
        (["read", 3], ["read", 3], "must be a list of permission names"),
        (None, None, "must be a list of permission names"),
        (
            ["read", "fly", "can_read"],
            ["fly", "can_read"],
            "unknown permission; one of ['list', 'manage', 'read', 'reduce_or_close',"
            " 'set_limits', 'trade', 'transfer']",
        ),
    ],
    ids=["text", "non_text_item", "none", "unknown"],
)
def test_parse_wire_refusals_name_field_value_and_problem(
    names: object, value: object, problem: str
) -> None:
    with pytest.raises(InvalidValue) as raised:
        Permissions.parse_wire(names, "scope")
    assert (raised.value.field, raised.value.value, raised.value.problem) == (
        "scope",
        value,
        problem,
    )
    with pytest.raises(InvalidValue) as default_field:
        Permissions.parse_wire(names)
    assert default_field.value.field == "permissions"


def test_from_flags_lists_every_unknown_flag_sorted() -> None:
    with pytest.raises(InvalidValue) as raised:
        Permissions.from_flags({"can_fly", "can_read", "can_dig"})
    assert (raised.value.field, raised.value.value, raised.value.problem) == (
        "permissions",
        ["can_dig", "can_fly"],
        "unknown permission flag",
    )


def test_set_operations_and_flag_names() -> None:
    trader, custody = Permissions.TRADER, Permissions(can_read=True, can_transfer=True)
    assert trader & custody == Permissions(can_read=True)
    assert trader | custody == Permissions(
        can_list=True, can_read=True, can_reduce_or_close=True, can_trade=True, can_transfer=True
    )
    assert Permissions.READ_ONLY.flags() == frozenset({"can_list", "can_read"})
    assert Permissions.NONE.wire_names() == []


@pytest.mark.parametrize("action", list(Action))
def test_what_a_frozen_or_close_only_account_refuses(action: Action) -> None:
    moves_money = {Action.TRADE, Action.REDUCE_OR_CLOSE, Action.TRANSFER}
    assert action.refused_when_frozen is (action in moves_money)
    assert action.refused_when_close_only is (action in {Action.TRADE, Action.TRANSFER})
    customer = action.value in {n.removeprefix("can_") for n in Permissions.FLAG_NAMES}
    assert action.is_operator_action is not customer
    assert Permissions.FULL_ACCESS.allows(action) is customer


def test_domain_error_and_unavailable_keep_their_parts() -> None:
    error = DomainError("qty_lots", -1, "must be positive")
    assert (error.field, error.value, error.problem) == ("qty_lots", -1, "must be positive")
    assert str(error) == "qty_lots=-1: must be positive"
    down = Unavailable("ledger", "connection refused")
    assert (down.service, down.detail) == ("ledger", "connection refused")
    assert str(down) == "ledger unavailable: connection refused"
    assert not isinstance(down, DomainError)
