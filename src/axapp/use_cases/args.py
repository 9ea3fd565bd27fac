"""Typed boundary of the use cases: wrong types are refused like bad values.

A ``str`` side, an ``int`` contract, a bool or float amount, a ``UserId`` where an
``AccountId`` belongs: each raises ``InvalidValue`` naming the field, before any work.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

from axdomain._checks import require_range, require_text
from axdomain.errors import InvalidValue
from axdomain.idempotency import parse_idempotency_key
from axdomain.ids import AccountId, UserId
from axdomain.permissions import Permissions

E = TypeVar("E", bound=Enum)
U63_MAX = (1 << 63) - 1
MAX_SYMBOL_LEN = 64
MAX_NAME_LEN = 64


def account_id(field: str, value: object) -> AccountId:
    if type(value) is not AccountId:
        raise InvalidValue(field, value, "must be an AccountId")
    return value


def optional_account_id(field: str, value: object) -> AccountId | None:
    return None if value is None else account_id(field, value)


def user_id(field: str, value: object) -> UserId:
    if type(value) is not UserId:
        raise InvalidValue(field, value, "must be a UserId")
    return value


def enum_member(field: str, value: object, kind: type[E]) -> E:
    if not isinstance(value, kind):
        raise InvalidValue(field, value, f"must be a {kind.__name__}")
    return value


def positive(field: str, value: object, high: int = U63_MAX) -> int:
    """A positive integer (never a bool or a float) up to ``high``."""
    return require_range(field, value, 1, high)


def transfer_id(field: str, value: object) -> int:
    """A ledger transfer id: an int in 1 .. 2**128 - 2 (TigerBeetle reserves 0 and the
    maximum)."""
    return require_range(field, value, 1, (1 << 128) - 2)


def non_negative(field: str, value: object, high: int = U63_MAX) -> int:
    return require_range(field, value, 0, high)


def signed(field: str, value: object, bound: int = U63_MAX) -> int:
    return require_range(field, value, -bound, bound)


def text(field: str, value: object, max_len: int = MAX_NAME_LEN) -> str:
    return require_text(field, value, max_len)


def permissions(field: str, value: object) -> Permissions:
    if not isinstance(value, Permissions):
        raise InvalidValue(field, value, "must be Permissions")
    return value


def optional_time_ns(field: str, value: object) -> int | None:
    return None if value is None else non_negative(field, value)


def idempotency_key(value: object) -> str:
    return parse_idempotency_key(value)
