"""Values of per-account execution lanes: health, kill-switch records, events, cursors.

A lane is one account's execution loop at one venue. Everything it records names the
account (both the ``AccountId`` and the registry label), so no fact can be attributed to the
wrong account, and its cursor is keyed ``{venue}:{label}`` so one account never advances
or starves another's position in a feed.
"""

from __future__ import annotations

import enum

import attrs

from axdomain._checks import require_range, require_text
from axdomain.errors import InvalidValue
from axdomain.ids import AccountId
from axdomain.venues.names import VenueId, require_label

MAX_ERROR_CHARS = 500
MAX_OPERATOR_TEXT = 128
MAX_REASON_CHARS = 500
MAX_CURSOR_CHARS = 128
MAX_DETAIL_ITEMS = 16
MAX_NS = (1 << 63) - 1


def cursor_source(venue: VenueId, label: str) -> str:
    """The per-account cursor key: ``{venue}:{account_label}``."""
    return f"{venue.name}:{require_label(label)}"


def backoff_ms(consecutive_failures: int, base_ms: int, max_ms: int) -> int:
    """Exponential (base, 2 base, 4 base, ...) and capped: a failing lane is retried forever
    at a bounded rate until it gives up or an operator steps in."""
    require_range("consecutive_failures", consecutive_failures, 1, 1 << 20)
    if not 0 < base_ms <= max_ms:
        raise InvalidValue("base_ms", base_ms, f"must be in (0, max_ms={max_ms}]")
    exponent = min(consecutive_failures - 1, 32)
    return min(base_ms << exponent, max_ms)


def _label(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    require_label(value)


def _account(_: object, attribute: attrs.Attribute[AccountId], value: object) -> None:
    if not isinstance(value, AccountId):
        raise InvalidValue(attribute.name, value, "must be an AccountId")


def _ns(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    require_range(attribute.name, value, 0, MAX_NS)


def _optional_ns(_: object, attribute: attrs.Attribute[int | None], value: object) -> None:
    if value is not None:
        require_range(attribute.name, value, 0, MAX_NS)


def truncate_error(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


def _optional_error(text: str | None) -> str | None:
    return None if text is None else truncate_error(text)


class LaneState(enum.Enum):
    STARTING = "starting"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"  # failing, retried with backoff
    FAILED = "failed"  # gave up after the failure bound; an operator restarts it
    STOPPED = "stopped"


@attrs.frozen
class LaneHealth:
    label: str = attrs.field(validator=_label)
    account_id: AccountId = attrs.field(validator=_account)
    state: LaneState
    updated_at_ns: int = attrs.field(validator=_ns)
    consecutive_failures: int = attrs.field(
        default=0, validator=lambda _, a, v: require_range(a.name, v, 0, MAX_NS)
    )
    total_failures: int = attrs.field(
        default=0, validator=lambda _, a, v: require_range(a.name, v, 0, MAX_NS)
    )
    last_error: str | None = attrs.field(default=None, converter=_optional_error)
    last_error_at_ns: int | None = attrs.field(default=None, validator=_optional_ns)
    next_attempt_at_ns: int | None = attrs.field(default=None, validator=_optional_ns)
    orders_placed: int = attrs.field(
        default=0, validator=lambda _, a, v: require_range(a.name, v, 0, MAX_NS)
    )


@attrs.frozen
class OperatorRef:
    """The operator of record for a manual control (id and display name, never a secret)."""

    operator_id: str = attrs.field(
        validator=lambda _, a, v: require_text(a.name, v, MAX_OPERATOR_TEXT)
    )
    name: str = attrs.field(validator=lambda _, a, v: require_text(a.name, v, MAX_OPERATOR_TEXT))


@attrs.frozen
class KillSwitchEvent:
    """One engage or release of a lane's kill switch; the log of these is the audit trail
    and the latest one is the switch's state."""

    label: str = attrs.field(validator=_label)
    account_id: AccountId = attrs.field(validator=_account)
    engaged: bool
    operator: OperatorRef
    reason: str = attrs.field(validator=lambda _, a, v: require_text(a.name, v, MAX_REASON_CHARS))
    at_ns: int = attrs.field(validator=_ns)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.engaged, bool):
            raise InvalidValue("engaged", self.engaged, "must be a bool")


class LaneEventKind(enum.Enum):
    ORDER_PLACED = "order_placed"
    ORDER_DUPLICATE = "order_duplicate"
    ORDER_BLOCKED_KILL_SWITCH = "order_blocked_kill_switch"
    ORDER_BLOCKED_CREDENTIAL = "order_blocked_credential"
    FILL = "fill"
    POSITIONS_READ = "positions_read"
    LANE_FAILED = "lane_failed"
    LANE_RECOVERED = "lane_recovered"
    LANE_GAVE_UP = "lane_gave_up"


@attrs.frozen
class LaneEvent:
    """Everything a lane emits; the account is a required field, not an optional tag."""

    account_id: AccountId = attrs.field(validator=_account)
    label: str = attrs.field(validator=_label)
    kind: LaneEventKind
    at_ns: int = attrs.field(validator=_ns)
    detail: tuple[tuple[str, str], ...] = attrs.field(default=())

    def __attrs_post_init__(self) -> None:
        if len(self.detail) > MAX_DETAIL_ITEMS:
            raise InvalidValue("detail", len(self.detail), f"at most {MAX_DETAIL_ITEMS} items")

    def as_dict(self) -> dict[str, str]:
        return {
            "account_id": str(self.account_id),
            "account_label": self.label,
            "kind": self.kind.value,
            "at_ns": str(self.at_ns),
            **dict(self.detail),
        }


def require_cursor(value: object) -> str:
    return require_text("cursor", value, MAX_CURSOR_CHARS)
