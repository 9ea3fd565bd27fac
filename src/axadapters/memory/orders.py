"""Memory order log: unique order id and unique (account_id, client_order_id)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from axdomain.contracts import ContractId
from axdomain.errors import Conflict, NotFound
from axdomain.ids import AccountId
from axdomain.orders import Order, OrderStatus
from axdomain.paging import Page, page_of


class MemoryOrders:
    def __init__(self) -> None:
        self._orders: dict[int, Order] = {}
        self._by_client_id: dict[tuple[AccountId, str], int] = {}
        self._position: dict[int, int] = {}  # order id -> insertion position (1, 2, ...)
        self._by_account: dict[AccountId, list[int]] = {}
        self._by_contract: dict[ContractId, list[int]] = {}  # order ids, in add order

    def add_order(self, order: Order) -> None:
        if order.order_id in self._orders:
            raise Conflict("order_id", order.order_id, "already exists")
        client_key = (order.account_id, order.client_order_id)
        previous = self._by_client_id.get(client_key)
        if previous is not None and self._orders[previous].status.is_resting:
            raise Conflict("client_order_id", order.client_order_id, "already used on account")
        self._orders[order.order_id] = order
        self._by_client_id[client_key] = order.order_id
        self._position[order.order_id] = len(self._position) + 1
        self._by_account.setdefault(order.account_id, []).append(order.order_id)
        self._by_contract.setdefault(order.contract, []).append(order.order_id)

    def get_order(self, order_id: int) -> Order | None:
        return self._orders.get(order_id)

    def get_by_client_order_id(self, account_id: AccountId, client_order_id: str) -> Order | None:
        order_id = self._by_client_id.get((account_id, client_order_id))
        return None if order_id is None else self._orders[order_id]

    def set_status(self, order_id: int, status: OrderStatus) -> None:
        order = self._orders.get(order_id)
        if order is None:
            raise NotFound("order_id", order_id, "no such order")
        self._orders[order_id] = attrs.evolve(order, status=status)

    def update_order(self, order: Order) -> None:
        current = self._orders.get(order.order_id)
        if current is None:
            raise NotFound("order_id", order.order_id, "no such order")
        if (
            attrs.evolve(
                order,
                status=current.status,
                filled_lots=current.filled_lots,
                status_reason=current.status_reason,
            )
            != current
        ):
            raise Conflict("order", order.order_id, "only status and progress may change")
        self._orders[order.order_id] = order

    def resting_orders_for_account(self, account_id: AccountId) -> Sequence[Order]:
        orders = (self._orders[i] for i in self._by_account.get(account_id, []))
        return [o for o in orders if o.status.is_resting]

    def orders_for_account(
        self, account_id: AccountId, *, status: OrderStatus | None, after: int, limit: int
    ) -> Page[Order]:
        rows: list[tuple[int, Order]] = []
        for order_id in self._by_account.get(account_id, []):
            position, order = self._position[order_id], self._orders[order_id]
            if position > after and (status is None or order.status is status):
                rows.append((position, order))
                if len(rows) > limit:
                    break
        return page_of(rows, limit)

    def resting_orders(self, contract: ContractId) -> Sequence[Order]:
        orders = (self._orders[i] for i in self._by_contract.get(contract, []))
        return [o for o in orders if o.status.is_resting]

    def all_orders(self) -> Sequence[Order]:
        return list(self._orders.values())
