"""Names of the venue world: the venue an account trades at and the label of a lane.

Both are short lower-case slugs because they end up in storage keys, cursor sources
(``{venue}:{label}``) and log lines, where anything looser invites ambiguity.
"""

from __future__ import annotations

import re

import attrs

from axdomain.errors import InvalidValue

MAX_SLUG_LEN = 32
_SLUG = re.compile(r"[a-z][a-z0-9_-]{0,31}")


def require_slug(field: str, value: object) -> str:
    if not isinstance(value, str) or _SLUG.fullmatch(value) is None:
        raise InvalidValue(
            field, value, f"must be 1..{MAX_SLUG_LEN} of a-z 0-9 _ - starting with a letter"
        )
    return value


@attrs.frozen(order=True, repr=False)
class VenueId:
    """An external venue (exchange) by its short name, e.g. ``fake`` or ``backpack``."""

    name: str = attrs.field(validator=lambda _, a, v: require_slug("venue", v))

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"VenueId({self.name!r})"


def require_label(value: object) -> str:
    """An account label: the stable key of a lane in storage, metrics and cursors."""
    return require_slug("label", value)
