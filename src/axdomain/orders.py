"""Orders: owned by an account, placed by an actor of record.

``user_id`` on an order is who placed it (the authenticated actor), never the owner and
never the UBO. ``client_order_id`` is unique per account, not per user.
"""

from __future__ import annotations

import enum

import attrs

from axdomain._checks import require_range, require_text
from axdomain.contracts import ContractId
from axdomain.ids import AccountId, UserId

MAX_CLIENT_ORDER_ID_LEN = 64
MAX_QTY_LOTS = (1 << 63) - 1
MAX_PRICE_MICRO_USD = (1 << 63) - 1


class Side(enum.Enum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class TimeInForce(enum.Enum):
    GTC = "gtc"
    IOC = "ioc"


class OrderStatus(enum.Enum):
    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def is_resting(self) -> bool:
        return self is OrderStatus.OPEN


@attrs.frozen
class Order:
    order_id: int = attrs.field(
        validator=lambda _, a, v: require_range(a.name, v, 1, (1 << 64) - 1)
    )
    account_id: AccountId
    user_id: UserId
    client_order_id: str = attrs.field(
        validator=lambda _, a, v: require_text(a.name, v, MAX_CLIENT_ORDER_ID_LEN)
    )
    contract: ContractId
    side: Side
    qty_lots: int = attrs.field(validator=lambda _, a, v: require_range(a.name, v, 1, MAX_QTY_LOTS))
    limit_price_micro_usd: int = attrs.field(
        validator=lambda _, a, v: require_range(a.name, v, 1, MAX_PRICE_MICRO_USD)
    )
    time_in_force: TimeInForce
    created_at_ns: int
    status: OrderStatus = OrderStatus.OPEN
    reduce_only: bool = False
    filled_lots: int = 0
    # Why an order ended without filling completely (e.g. the ledger refused its fill).
    status_reason: str | None = None

    def __attrs_post_init__(self) -> None:
        require_range("filled_lots", self.filled_lots, 0, self.qty_lots)

    @property
    def remaining_lots(self) -> int:
        return self.qty_lots - self.filled_lots


@attrs.frozen
class Fill:
    """One side of one committed fill, as its order's account sees it.

    Keyed by ``(order_id, qty_transfer_id)``: the ledger's qty transfer is the fact, this
    row its projection for reads (written idempotently).
    """

    order_id: int
    qty_transfer_id: int
    account_id: AccountId
    contract: ContractId
    side: Side
    qty_lots: int
    price_micro_usd: int
    fee_micro_usd: int
    is_maker: bool
    at_ns: int
