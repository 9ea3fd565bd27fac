"""Template filters: integer money and nanosecond times shown to people, without floats."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

MICRO = 1_000_000
NS_PER_S = 10**9


def usd(micro_usd: object) -> str:
    """``-1234500000`` -> ``-1,234.500000``: the integer split, never a float."""
    if isinstance(micro_usd, bool) or not isinstance(micro_usd, int):
        return str(micro_usd)
    sign = "-" if micro_usd < 0 else ""
    whole, fraction = divmod(abs(micro_usd), MICRO)
    return f"{sign}{whole:,}.{fraction:06d}"


def ns_time(at_ns: object) -> str:
    """UTC, to the second; the integer nanoseconds stay in the title for the exact value."""
    if isinstance(at_ns, bool) or not isinstance(at_ns, int):
        return "—"
    moment = datetime.fromtimestamp(at_ns // NS_PER_S, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def hex16(value: object) -> str:
    return f"{value:016x}" if isinstance(value, int) else str(value)


def flags(permissions: object) -> str:
    names = getattr(permissions, "wire_names", None)
    listed = names() if names is not None else permissions
    return ", ".join(listed) if isinstance(listed, list | tuple) and listed else "none"


EXPLAINED = {
    "account_frozen": "the account is frozen: no orders and no transfers",
    "close_only": "the account is close-only: only orders that reduce a position",
    "not_permitted": "your permissions do not cover this",
    "key_scope": "this API key's scope does not cover this",
    "account_not_found": "no such account among yours",
    "insufficient_funds": "not enough free cash or margin",
    "csrf": "the form is stale or came from elsewhere: reload the page and retry",
}


def explain(code: object) -> str:
    """A sentence for a person next to the API's error code (empty when none is needed)."""
    return EXPLAINED.get(str(code), "")


FILTERS: dict[str, Callable[[Any], str]] = {
    "explain": explain,
    "usd": usd,
    "ns_time": ns_time,
    "hex16": hex16,
    "flags": flags,
}
