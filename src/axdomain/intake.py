"""Order intake rules (SPEC §4), pure: reducing, margin, limits, tradable instruments.

"Reducing" is judged against the position *net of the account's other resting reducing
orders* on the contract, so stacking small reducing orders can never open a position; the
fill planner re-checks it (``fill_raises_exposure``). Margin covers resting orders too: free
cash must cover the margin of every resting opening order of the account plus the new one.
"""

from __future__ import annotations

from collections.abc import Iterable

from axdomain.accounts import Account
from axdomain.errors import DomainError
from axdomain.orders import Order, Side
from axdomain.products import Instrument

BPS = 10_000
INITIAL_MARGIN_BPS = 1_000  # 10 % of an opening order's notional must be free cash


class OrderRejected(DomainError):
    """Order intake refused an order before it reached the venue (nothing was recorded)."""


class InsufficientFunds(DomainError):
    """Free cash does not cover the margin, the withdrawal or the transfer asked for."""


def margin_micro_usd(qty_lots: int, price_micro_usd: int) -> int:
    """Initial margin of an opening order, rounded up (never under-collateralise)."""
    return -(-qty_lots * price_micro_usd * INITIAL_MARGIN_BPS // BPS)


def is_reducing(position_lots: int, resting_reducing_lots: int, side: Side, qty_lots: int) -> bool:
    """True when the order, with every other resting reducing order of the account on this
    contract filled first, can only bring the position toward zero."""
    if position_lots * side.sign >= 0:
        return False
    return qty_lots + resting_reducing_lots <= abs(position_lots)


def fill_raises_exposure(position_lots: int, signed_fill_lots: int) -> bool:
    return abs(position_lots + signed_fill_lots) > abs(position_lots)


def resting_margin_micro_usd(resting: Iterable[Order]) -> int:
    """Margin held by an account's resting opening orders (their unfilled part)."""
    return sum(
        margin_micro_usd(o.remaining_lots, o.limit_price_micro_usd)
        for o in resting
        if not o.reduce_only and o.status.is_resting
    )


def require_tradable(instrument: Instrument | None, symbol: str, now_ns: int) -> Instrument:
    """Only a listed instrument whose contract has not expired or been delisted trades."""
    if instrument is None:
        raise OrderRejected("symbol", symbol, "no such instrument")
    if instrument.delisted_at_ns is not None:
        raise OrderRejected("symbol", symbol, "delisted")
    if instrument.expiration_ns is not None and now_ns >= instrument.expiration_ns:
        raise OrderRejected("symbol", symbol, "expired")
    return instrument


def check_opening_order(
    *,
    account: Account,
    qty_lots: int,
    price_micro_usd: int,
    free_cash_micro_usd: int,
    open_contracts: int,
    opens_new_contract: bool,
) -> None:
    """Limits and margin of an order that can open exposure (per account, never netted)."""
    notional = qty_lots * price_micro_usd
    if notional > account.limits.max_notional_micro_usd:
        raise OrderRejected("qty_lots", qty_lots, "order notional exceeds the account limit")
    if opens_new_contract and open_contracts >= account.limits.max_open_positions:
        raise OrderRejected("symbol", open_contracts, "max open positions reached")
    required = margin_micro_usd(qty_lots, price_micro_usd)
    if free_cash_micro_usd < required:
        raise InsufficientFunds(
            "qty_lots",
            qty_lots,
            f"needs {required} micro-USD of free margin, has {free_cash_micro_usd}",
        )
