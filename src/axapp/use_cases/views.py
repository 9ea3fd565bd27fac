"""What the use cases return: typed values with a JSON shape (SPEC §12's payloads).

``as_dict`` gives the wire shape (ids as 16-hex strings, transfer ids as 32-hex, money and
quantities as integers); an idempotent replay rebuilds the first answer from that shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from axdomain.contracts import ContractId
from axdomain.ids import AccountId, UserId
from axdomain.orders import Fill, Order, OrderStatus, Side, TimeInForce


def hex128(value: int) -> str:
    return f"{value:032x}"


@attrs.frozen
class OrderView:
    order: Order
    symbol: str

    def as_dict(self) -> dict[str, Any]:
        o = self.order
        return {
            "order_id": f"{o.order_id:016x}",
            "account_id": str(o.account_id),
            "user_id": str(o.user_id),
            "client_order_id": o.client_order_id,
            "symbol": self.symbol,
            "contract_id": o.contract.value,
            "side": o.side.value,
            "qty_lots": o.qty_lots,
            "limit_price_micro_usd": o.limit_price_micro_usd,
            "time_in_force": o.time_in_force.value,
            "status": o.status.value,
            "filled_lots": o.filled_lots,
            "reduce_only": o.reduce_only,
            "status_reason": o.status_reason,
            "created_at_ns": o.created_at_ns,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OrderView:
        order = Order(
            order_id=int(d["order_id"], 16),
            account_id=AccountId.from_hex(d["account_id"]),
            user_id=UserId.from_hex(d["user_id"]),
            client_order_id=d["client_order_id"],
            contract=ContractId(d["contract_id"]),
            side=Side(d["side"]),
            qty_lots=d["qty_lots"],
            limit_price_micro_usd=d["limit_price_micro_usd"],
            time_in_force=TimeInForce(d["time_in_force"]),
            created_at_ns=d["created_at_ns"],
            status=OrderStatus(d["status"]),
            reduce_only=d["reduce_only"],
            filled_lots=d["filled_lots"],
            status_reason=d["status_reason"],
        )
        return cls(order, d["symbol"])


@attrs.frozen
class FillView:
    fill: Fill
    symbol: str

    def as_dict(self) -> dict[str, Any]:
        f = self.fill
        return {
            "order_id": f"{f.order_id:016x}",
            "account_id": str(f.account_id),
            "symbol": self.symbol,
            "contract_id": f.contract.value,
            "side": f.side.value,
            "qty_lots": f.qty_lots,
            "price_micro_usd": f.price_micro_usd,
            "fee_micro_usd": f.fee_micro_usd,
            "is_maker": f.is_maker,
            "transfer_id": hex128(f.qty_transfer_id),
            "at_ns": f.at_ns,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FillView:
        fill = Fill(
            order_id=int(d["order_id"], 16),
            qty_transfer_id=int(d["transfer_id"], 16),
            account_id=AccountId.from_hex(d["account_id"]),
            contract=ContractId(d["contract_id"]),
            side=Side(d["side"]),
            qty_lots=d["qty_lots"],
            price_micro_usd=d["price_micro_usd"],
            fee_micro_usd=d["fee_micro_usd"],
            is_maker=d["is_maker"],
            at_ns=d["at_ns"],
        )
        return cls(fill, d["symbol"])


@attrs.frozen
class PlaceResult:
    order: OrderView
    fills: tuple[FillView, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"order": self.order.as_dict(), "fills": [f.as_dict() for f in self.fills]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PlaceResult:
        fills = tuple(FillView.from_dict(f) for f in d["fills"])
        return cls(OrderView.from_dict(d["order"]), fills)


@attrs.frozen
class MoneyMoved:
    transfer_ids: tuple[int, ...]
    amount_micro_usd: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "transfer_ids": [hex128(t) for t in self.transfer_ids],
            "amount_micro_usd": self.amount_micro_usd,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MoneyMoved:
        return cls(tuple(int(t, 16) for t in data["transfer_ids"]), data["amount_micro_usd"])


@attrs.frozen
class PendingWithdrawals:
    account_id: AccountId
    items: tuple[tuple[int, int], ...]  # (withdrawal id, amount micro-USD), oldest first

    def as_dict(self) -> dict[str, Any]:
        return {
            "account_id": str(self.account_id),
            "items": [
                {"withdrawal_id": hex128(w), "amount_micro_usd": amount} for w, amount in self.items
            ],
        }


@attrs.frozen
class Page:
    items: Sequence[dict[str, Any]]
    next_cursor: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"items": list(self.items), "next_cursor": self.next_cursor}
