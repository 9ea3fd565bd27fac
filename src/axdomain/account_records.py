"""Account-keyed money records that used to be keyed by user (seed §2c.1, classes A and B).

Balances, the monthly loss limit and the loan-to-value monitor are one row per account;
deposit addresses are one per ``(account, blockchain, asset)``; leaderboard rows rank
accounts (trading entities), not humans. None of these carries a ``user_id``: the owner is
found through the account's UBO.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import attrs

from axdomain._checks import require_range, require_text
from axdomain.errors import InvalidValue
from axdomain.ids import AccountId

I64_MIN = -(1 << 63)
I64_MAX = (1 << 63) - 1
I128_MIN = -(1 << 127)
I128_MAX = (1 << 127) - 1
MAX_CHAIN_LEN = 32
MAX_ASSET_LEN = 32
MAX_ADDRESS_LEN = 128
MAX_METRIC_LEN = 64
MAX_LTV_BPS = 1_000_000  # 10 000 %: a ratio beyond this is a typo
MAX_TOP_N = 1000


def _account(_: object, attribute: attrs.Attribute[AccountId], value: object) -> None:
    if not isinstance(value, AccountId):
        raise InvalidValue(attribute.name, value, "must be an AccountId")


def _i64_nonneg(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    require_range(attribute.name, value, 0, I64_MAX)


def _i128(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    require_range(attribute.name, value, I128_MIN, I128_MAX)


def _text(max_len: int) -> Callable[[object, attrs.Attribute[str], object], None]:
    def check(_: object, attribute: attrs.Attribute[str], value: object) -> None:
        require_text(attribute.name, value, max_len)

    return check


@attrs.frozen
class CurrentBalance:
    """USD balance of one account in micro-USD; signed 128-bit (a debt shows as negative)."""

    account_id: AccountId = attrs.field(validator=_account)
    balance_micro_usd: int = attrs.field(validator=_i128)
    updated_at_ns: int = attrs.field(validator=_i64_nonneg)


@attrs.frozen
class MonthlyLossLimit:
    """The most an account may lose in one calendar month before it is set close-only."""

    account_id: AccountId = attrs.field(validator=_account)
    limit_micro_usd: int = attrs.field(validator=_i64_nonneg)
    updated_at_ns: int = attrs.field(validator=_i64_nonneg)


@attrs.frozen
class LtvMonitor:
    """Loan-to-value thresholds of one borrowing account, in basis points of collateral."""

    account_id: AccountId = attrs.field(validator=_account)
    margin_call_ltv_bps: int = attrs.field(
        validator=lambda _, a, v: require_range(a.name, v, 1, MAX_LTV_BPS)
    )
    liquidation_ltv_bps: int = attrs.field(
        validator=lambda _, a, v: require_range(a.name, v, 1, MAX_LTV_BPS)
    )
    updated_at_ns: int = attrs.field(validator=_i64_nonneg)

    def __attrs_post_init__(self) -> None:
        if self.liquidation_ltv_bps < self.margin_call_ltv_bps:
            raise InvalidValue(
                "liquidation_ltv_bps", self.liquidation_ltv_bps, "must be >= margin_call_ltv_bps"
            )


@attrs.frozen
class DepositAddress:
    """An on-chain address that funds exactly one account for one (blockchain, asset)."""

    account_id: AccountId = attrs.field(validator=_account)
    blockchain: str = attrs.field(validator=_text(MAX_CHAIN_LEN))
    asset: str = attrs.field(validator=_text(MAX_ASSET_LEN))
    address: str = attrs.field(validator=_text(MAX_ADDRESS_LEN))
    created_at_ns: int = attrs.field(validator=_i64_nonneg)


@attrs.frozen
class LeaderboardEntry:
    """One account's score for ``metric`` in the period of ``cadence`` starting at a time."""

    metric: str = attrs.field(validator=_text(MAX_METRIC_LEN))
    cadence: str = attrs.field(validator=_text(MAX_METRIC_LEN))
    period_start_ns: int = attrs.field(validator=_i64_nonneg)
    account_id: AccountId = attrs.field(validator=_account)
    score: int = attrs.field(validator=lambda _, a, v: require_range(a.name, v, I64_MIN, I64_MAX))


class BalanceRepository(Protocol):
    def put_balance(self, balance: CurrentBalance) -> None:
        """Insert or replace the one balance row of the account."""

    def get_balance(self, account_id: AccountId) -> CurrentBalance | None: ...


class LossLimitRepository(Protocol):
    def put_loss_limit(self, limit: MonthlyLossLimit) -> None:
        """Insert or replace the one loss-limit row of the account."""

    def get_loss_limit(self, account_id: AccountId) -> MonthlyLossLimit | None: ...


class LtvMonitorRepository(Protocol):
    def put_ltv_monitor(self, monitor: LtvMonitor) -> None:
        """Insert or replace the one LTV monitor of the account."""

    def get_ltv_monitor(self, account_id: AccountId) -> LtvMonitor | None: ...


class DepositAddressRepository(Protocol):
    def add_address(self, address: DepositAddress) -> None:
        """``Conflict`` if the key ``(account, blockchain, asset)`` or the address is taken."""

    def get_address(
        self, account_id: AccountId, blockchain: str, asset: str
    ) -> DepositAddress | None: ...

    def addresses_for_account(self, account_id: AccountId) -> Sequence[DepositAddress]:
        """Ordered by (blockchain, asset)."""


class LeaderboardRepository(Protocol):
    def put_entry(self, entry: LeaderboardEntry) -> None:
        """Insert or replace the row keyed (metric, cadence, period_start_ns, account_id)."""

    def top(
        self, metric: str, cadence: str, period_start_ns: int, limit: int
    ) -> Sequence[LeaderboardEntry]:
        """Highest score first, ties by account id; at most ``limit`` (1..MAX_TOP_N) rows."""


def check_top_limit(limit: object) -> int:
    """Shared bound so every adapter rejects the same ``limit`` values."""
    return require_range("limit", limit, 1, MAX_TOP_N)
