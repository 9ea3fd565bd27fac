"""Membership flags and the actions they allow.

The five flags mirror ``account_permissions``. ``Action`` is the closed set of things a
request can ask to do on an account; each maps to the flag(s) that allow it.
"""

from __future__ import annotations

import enum
from typing import ClassVar

import attrs

from axdomain.errors import InvalidValue, UnknownAction


class Action(enum.Enum):
    LIST = "list"
    READ = "read"
    SET_LIMITS = "set_limits"
    REDUCE_OR_CLOSE = "reduce_or_close"
    TRADE = "trade"

    @classmethod
    def parse(cls, text: object) -> Action:
        """Strict parse of the wire name (``"trade"``) or enum name (``"TRADE"``)."""
        if isinstance(text, str):
            for action in cls:
                if text in (action.value, action.name):
                    return action
        raise UnknownAction("action", text, f"must be one of {[a.value for a in cls]}")

    @property
    def touches_money(self) -> bool:
        """Money-touching actions are the ones a frozen account refuses."""
        return self in (Action.TRADE, Action.REDUCE_OR_CLOSE)


def _require_bool(instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidValue(attribute.name, value, "must be a bool")


@attrs.frozen
class Permissions:
    """A set of the five membership flags; also the scope of an API key."""

    can_list: bool = attrs.field(default=False, validator=_require_bool)
    can_read: bool = attrs.field(default=False, validator=_require_bool)
    can_set_limits: bool = attrs.field(default=False, validator=_require_bool)
    can_reduce_or_close: bool = attrs.field(default=False, validator=_require_bool)
    can_trade: bool = attrs.field(default=False, validator=_require_bool)

    FLAG_NAMES: ClassVar[tuple[str, ...]] = (
        "can_list",
        "can_read",
        "can_set_limits",
        "can_reduce_or_close",
        "can_trade",
    )
    NONE: ClassVar[Permissions]
    READ_ONLY: ClassVar[Permissions]
    TRADER: ClassVar[Permissions]
    FULL_ACCESS: ClassVar[Permissions]

    def flags(self) -> frozenset[str]:
        return frozenset(name for name in self.FLAG_NAMES if getattr(self, name))

    @classmethod
    def from_flags(cls, flags: frozenset[str] | set[str]) -> Permissions:
        unknown = set(flags) - set(cls.FLAG_NAMES)
        if unknown:
            raise InvalidValue("permissions", sorted(unknown), "unknown permission flag")
        return cls(**{name: name in flags for name in cls.FLAG_NAMES})

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
        return self.can_trade


Permissions.NONE = Permissions()
Permissions.READ_ONLY = Permissions(can_list=True, can_read=True)
Permissions.TRADER = Permissions(
    can_list=True, can_read=True, can_reduce_or_close=True, can_trade=True
)
Permissions.FULL_ACCESS = Permissions.from_flags(set(Permissions.FLAG_NAMES))
