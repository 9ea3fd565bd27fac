"""Bounded pages for every list read: a limit (capped) and an opaque cursor.

The cursor is the decimal text of the last item's position in its store (insertion
order); a client never builds one, it only hands back ``next_cursor``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

import attrs

from axdomain.errors import InvalidValue

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
MAX_CURSOR_LEN = 20


@attrs.frozen
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def parse_limit(value: object) -> int:
    if value is None:
        return DEFAULT_PAGE_SIZE
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise InvalidValue("limit", value, f"must be an int in [1, {MAX_PAGE_SIZE}]")
    return value


def parse_cursor(value: object) -> int:
    """Position after which the page starts (0 = from the beginning)."""
    if value is None:
        return 0
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= MAX_CURSOR_LEN
        or not value.isascii()
        or not value.isdigit()
    ):
        raise InvalidValue("cursor", value, "not a cursor this service issued")
    return int(value)


def page_of(rows: Sequence[tuple[int, T]], limit: int) -> Page[T]:
    """``rows`` are (position, item) in order, at most ``limit + 1`` of them."""
    items = [item for _, item in rows[:limit]]
    more = len(rows) > limit
    return Page(items, str(rows[limit - 1][0]) if more else None)
