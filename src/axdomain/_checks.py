"""Small validators shared by the value types: one place for the int/bool rules."""

from __future__ import annotations

from axdomain.errors import InvalidValue


def require_int(field: str, value: object) -> int:
    """Reject non-ints and bools (``True`` is an ``int`` in Python, never an id)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(field, value, "must be an int")
    return value


def require_range(field: str, value: object, low: int, high: int) -> int:
    """Inclusive range check that never truncates or masks."""
    number = require_int(field, value)
    if not low <= number <= high:
        raise InvalidValue(field, value, f"must be in [{low}, {high}]")
    return number


def require_text(field: str, value: object, max_len: int) -> str:
    if not isinstance(value, str):
        raise InvalidValue(field, value, "must be a str")
    if not value or len(value) > max_len or value != value.strip():
        raise InvalidValue(field, value, f"must be 1..{max_len} chars without outer spaces")
    return value
