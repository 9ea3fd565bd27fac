"""The order-log contract suite against the memory adapter."""

from __future__ import annotations

from axadapters.memory.orders import MemoryOrders
from tests.contract.suite_orders import OrdersContract


class TestMemoryOrders(OrdersContract):
    def make_orders(self) -> MemoryOrders:
        return MemoryOrders()
