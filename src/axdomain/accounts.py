"""Ownership: the account and the facts that belong to it.

Frozen, close-only, fees and limits are account facts, never user facts. The owner is the
UBO (ultimate beneficial owner) recorded here, not a bit pattern shared with a user id.
"""

from __future__ import annotations

import enum

import attrs

from axdomain._checks import require_range, require_text
from axdomain.errors import InvalidValue
from axdomain.ids import AccountId, UserId

MAX_FEE_BPS = 10_000  # 100 %: anything beyond is a typo, not a fee.
MAX_NAME_LEN = 64
MAX_LIMIT = (1 << 63) - 1  # limits are stored as SQL BIGINT


class AccountKind(enum.Enum):
    CUSTOMER = "customer"
    SYSTEM = "system"


def _fee(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    require_range(attribute.name, value, -MAX_FEE_BPS, MAX_FEE_BPS)


def _limit(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    require_range(attribute.name, value, 0, MAX_LIMIT)


@attrs.frozen
class FeeSchedule:
    """Fees in basis points of notional; a negative maker fee is a rebate."""

    maker_fee_bps: int = attrs.field(default=0, validator=_fee)
    taker_fee_bps: int = attrs.field(default=0, validator=_fee)


@attrs.frozen
class AccountLimits:
    """Per-account risk limits; 0 means "no trading allowed", not "unlimited"."""

    max_open_positions: int = attrs.field(default=100, validator=_limit)
    max_notional_micro_usd: int = attrs.field(default=10**15, validator=_limit)
    monthly_loss_limit_micro_usd: int = attrs.field(default=10**14, validator=_limit)


@attrs.frozen
class Account:
    account_id: AccountId
    name: str = attrs.field(validator=lambda _, a, v: require_text(a.name, v, MAX_NAME_LEN))
    kind: AccountKind
    ubo_user_id: UserId | None
    created_at_ns: int = attrs.field(
        validator=lambda _, a, v: require_range(a.name, v, 0, MAX_LIMIT)
    )
    is_frozen: bool = False
    is_close_only: bool = False
    fees: FeeSchedule = FeeSchedule()
    limits: AccountLimits = AccountLimits()

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.account_id, AccountId):
            raise InvalidValue("account_id", self.account_id, "must be an AccountId")
        if self.kind is AccountKind.CUSTOMER and self.ubo_user_id is None:
            raise InvalidValue("ubo_user_id", None, "a customer account needs a UBO")
        if self.kind is AccountKind.SYSTEM and self.ubo_user_id is not None:
            raise InvalidValue("ubo_user_id", self.ubo_user_id, "a system account has no UBO")
        if self.kind is AccountKind.CUSTOMER and self.account_id.is_reserved:
            raise InvalidValue("account_id", self.account_id, "reserved for system accounts")
        for flag in ("is_frozen", "is_close_only"):
            if not isinstance(getattr(self, flag), bool):
                raise InvalidValue(flag, getattr(self, flag), "must be a bool")

    @property
    def is_customer(self) -> bool:
        return self.kind is AccountKind.CUSTOMER
