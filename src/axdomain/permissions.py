"""Membership flags and the actions they allow.

Seven flags: the five of ``account_permissions`` in the source design plus ``can_transfer``
(money out of the account) and ``can_manage`` (other users' membership on it), which every
exchange separates from trading. ``Action`` is the closed set of things a request can ask to
do; customer actions map to the flag(s) that allow them, operator actions to no flag at all
(no customer grant ever covers them).
"""

from __future__ import annotations

import enum
from typing import ClassVar

import attrs

from axdomain.errors import InvalidValue, UnknownAction


class Action(enum.Enum):
    # Customer actions on one account, each allowed by a grant flag.
    LIST = "list"
    READ = "read"
    SET_LIMITS = "set_limits"
    REDUCE_OR_CLOSE = "reduce_or_close"
    TRADE = "trade"
    TRANSFER = "transfer"
    MANAGE = "manage"
    # Operator actions: exchange staff only, audited like any other decision.
    ONBOARD = "onboard"
    ISSUE_SESSION = "issue_session"
    DEPOSIT = "deposit"
    SET_FLAGS = "set_flags"
    LIST_PRODUCT = "list_product"
    FUNDING = "funding"
    SETTLEMENT = "settlement"
    DELIST = "delist"
    READ_AUDIT = "read_audit"
    LANE_KILL_SWITCH = "lane_kill_switch"
    RESOLVE_WITHDRAWAL = "resolve_withdrawal"  # post (payment left) or void a withdrawal

    @classmethod
    def parse(cls, text: object) -> Action:
        """Strict parse of the wire name (``"trade"``) or enum name (``"TRADE"``)."""
        if isinstance(text, str):
            for action in cls:
                if text in (action.value, action.name):
                    return action
        raise UnknownAction("action", text, f"must be one of {[a.value for a in cls]}")

    @property
    def is_operator_action(self) -> bool:
        return self in OPERATOR_ACTIONS

    @property
    def refused_when_frozen(self) -> bool:
        """A frozen account refuses everything that moves its money or its positions."""
        return self in (Action.TRADE, Action.REDUCE_OR_CLOSE, Action.TRANSFER)

    @property
    def refused_when_close_only(self) -> bool:
        """Close-only lets positions shrink; opening and moving money out are refused."""
        return self in (Action.TRADE, Action.TRANSFER)


OPERATOR_ACTIONS = frozenset(
    {
        Action.ONBOARD,
        Action.ISSUE_SESSION,
        Action.DEPOSIT,
        Action.SET_FLAGS,
        Action.LIST_PRODUCT,
        Action.FUNDING,
        Action.SETTLEMENT,
        Action.DELIST,
        Action.READ_AUDIT,
        Action.LANE_KILL_SWITCH,
        Action.RESOLVE_WITHDRAWAL,
    }
)


def _require_bool(instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidValue(attribute.name, value, "must be a bool")


@attrs.frozen
class Permissions:
    """A set of the seven membership flags; also the scope of an API key."""

    can_list: bool = attrs.field(default=False, validator=_require_bool)
    can_read: bool = attrs.field(default=False, validator=_require_bool)
    can_set_limits: bool = attrs.field(default=False, validator=_require_bool)
    can_reduce_or_close: bool = attrs.field(default=False, validator=_require_bool)
    can_trade: bool = attrs.field(default=False, validator=_require_bool)
    can_transfer: bool = attrs.field(default=False, validator=_require_bool)
    can_manage: bool = attrs.field(default=False, validator=_require_bool)

    # The five flags of the source design; a stored grant holding all five is FULL_ACCESS.
    ORIGINAL_FLAG_NAMES: ClassVar[tuple[str, ...]] = (
        "can_list",
        "can_read",
        "can_set_limits",
        "can_reduce_or_close",
        "can_trade",
    )
    FLAG_NAMES: ClassVar[tuple[str, ...]] = (*ORIGINAL_FLAG_NAMES, "can_transfer", "can_manage")
    NONE: ClassVar[Permissions]
    READ_ONLY: ClassVar[Permissions]
    TRADER: ClassVar[Permissions]
    FULL_ACCESS: ClassVar[Permissions]

    def flags(self) -> frozenset[str]:
        return frozenset(name for name in self.FLAG_NAMES if getattr(self, name))

    def wire_names(self) -> list[str]:
        """The flags without the ``can_`` prefix, in declaration order (``["list", ...]``)."""
        return [name.removeprefix("can_") for name in self.FLAG_NAMES if getattr(self, name)]

    @classmethod
    def from_flags(cls, flags: frozenset[str] | set[str]) -> Permissions:
        unknown = set(flags) - set(cls.FLAG_NAMES)
        if unknown:
            raise InvalidValue("permissions", sorted(unknown), "unknown permission flag")
        return cls(**{name: name in flags for name in cls.FLAG_NAMES})

    @classmethod
    def parse_wire(cls, names: object, field: str = "permissions") -> Permissions:
        """Strict parse of a list of wire names (``["read", "trade"]``)."""
        if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
            raise InvalidValue(field, names, "must be a list of permission names")
        known = {name.removeprefix("can_"): name for name in cls.FLAG_NAMES}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise InvalidValue(field, unknown, f"unknown permission; one of {sorted(known)}")
        return cls.from_flags({known[n] for n in names})

    def __and__(self, other: Permissions) -> Permissions:
        return Permissions.from_flags(self.flags() & other.flags())

    def __or__(self, other: Permissions) -> Permissions:
        return Permissions.from_flags(self.flags() | other.flags())

    def is_subset_of(self, other: Permissions) -> bool:
        return self.flags() <= other.flags()

    def allows(self, action: Action) -> bool:
        if action is Action.LIST:
            return self.can_list
        if action is Action.READ:
            return self.can_read
        if action is Action.SET_LIMITS:
            return self.can_set_limits
        if action is Action.REDUCE_OR_CLOSE:
            return self.can_reduce_or_close or self.can_trade
        if action is Action.TRADE:
            return self.can_trade
        if action is Action.TRANSFER:
            return self.can_transfer
        if action is Action.MANAGE:
            return self.can_manage
        return False  # operator actions: no grant covers them


Permissions.NONE = Permissions()
Permissions.READ_ONLY = Permissions(can_list=True, can_read=True)
Permissions.TRADER = Permissions(
    can_list=True, can_read=True, can_reduce_or_close=True, can_trade=True
)
Permissions.FULL_ACCESS = Permissions.from_flags(set(Permissions.FLAG_NAMES))
