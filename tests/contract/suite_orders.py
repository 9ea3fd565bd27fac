"""Contract suite for the order log port: uniqueness per account, status, resting orders."""

from __future__ import annotations

import attrs
import pytest

from axdomain import (
    AccountId,
    Conflict,
    ContractDate,
    ContractId,
    NotFound,
    Order,
    OrderStatus,
    ProductId,
    Side,
    TimeInForce,
    UserId,
)
from axdomain.ports import OrderRepository

ACTOR = UserId(0x0190_0000_0000_0001)
ACCOUNT_A = AccountId(0x0190_0000_0000_0001)
ACCOUNT_B = AccountId(0x0190_0000_0000_00B0)
PERP = ContractId.perp(ProductId(1001))
DATED = ContractId.new(ProductId(1001), ContractDate(20260130))


def order(
    order_id: int, account: AccountId = ACCOUNT_A, cid: str = "c-1", contract: ContractId = PERP
) -> Order:
    return Order(
        order_id=order_id,
        account_id=account,
        user_id=ACTOR,
        client_order_id=cid,
        contract=contract,
        side=Side.BUY,
        qty_lots=3,
        limit_price_micro_usd=2_500_000_000,
        time_in_force=TimeInForce.GTC,
        created_at_ns=1_700_000_000_000_000_000 + order_id,
    )


class OrdersContract:
    def make_orders(self) -> OrderRepository:
        raise NotImplementedError

    def test_add_get_by_id_and_by_client_order_id(self) -> None:
        orders = self.make_orders()
        first = order(1)
        orders.add_order(first)
        assert orders.get_order(1) == first
        assert orders.get_by_client_order_id(ACCOUNT_A, "c-1") == first
        assert orders.get_by_client_order_id(ACCOUNT_B, "c-1") is None
        assert orders.get_order(2) is None

    def test_client_order_id_is_unique_per_account_not_globally(self) -> None:
        orders = self.make_orders()
        orders.add_order(order(1, ACCOUNT_A, "same"))
        with pytest.raises(Conflict):
            orders.add_order(order(2, ACCOUNT_A, "same"))
        orders.add_order(order(3, ACCOUNT_B, "same"))
        assert orders.get_order(2) is None
        assert [o.order_id for o in orders.all_orders()] == [1, 3]

    def test_duplicate_order_id_is_a_conflict(self) -> None:
        orders = self.make_orders()
        orders.add_order(order(1, ACCOUNT_A, "a"))
        with pytest.raises(Conflict):
            orders.add_order(order(1, ACCOUNT_B, "b"))
        assert orders.get_by_client_order_id(ACCOUNT_B, "b") is None

    def test_status_changes_and_resting_orders_per_contract(self) -> None:
        orders = self.make_orders()
        orders.add_order(order(1, cid="a", contract=PERP))
        orders.add_order(order(2, cid="b", contract=DATED))
        orders.add_order(order(3, cid="c", contract=DATED))
        orders.set_status(3, OrderStatus.CANCELLED)
        assert [o.order_id for o in orders.resting_orders(DATED)] == [2]
        assert [o.order_id for o in orders.resting_orders(PERP)] == [1]
        stored = orders.get_order(3)
        assert stored == attrs.evolve(
            order(3, cid="c", contract=DATED), status=OrderStatus.CANCELLED
        )
        with pytest.raises(NotFound):
            orders.set_status(99, OrderStatus.FILLED)
