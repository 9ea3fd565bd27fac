"""SQL order log: unique order id, unique ``(account_id, client_order_id)``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, select, update
from sqlalchemy.exc import IntegrityError

from axadapters.sql import schema
from axadapters.sql._support import from_hex64, hex64
from axdomain.contracts import ContractId
from axdomain.errors import Conflict, NotFound
from axdomain.ids import AccountId, UserId
from axdomain.orders import Order, OrderStatus, Side, TimeInForce


def add_order_in(connection: Connection, order: Order) -> None:
    """Insert inside the caller's transaction; raises ``IntegrityError`` on a duplicate."""
    connection.execute(schema.orders.insert().values(_row(order)))


def _row(order: Order) -> dict[str, Any]:
    return {
        "order_id": hex64(order.order_id),
        "account_id": hex64(order.account_id.value),
        "user_id": hex64(order.user_id.value),
        "client_order_id": order.client_order_id,
        "contract_id": order.contract.value,
        "side": order.side.value,
        "qty_lots": order.qty_lots,
        "limit_price_micro_usd": order.limit_price_micro_usd,
        "time_in_force": order.time_in_force.value,
        "created_at_ns": order.created_at_ns,
        "status": order.status.value,
        "reduce_only": order.reduce_only,
    }


def _order(row: RowMapping) -> Order:
    return Order(
        order_id=from_hex64(row["order_id"]),
        account_id=AccountId(from_hex64(row["account_id"])),
        user_id=UserId(from_hex64(row["user_id"])),
        client_order_id=row["client_order_id"],
        contract=ContractId(row["contract_id"]),
        side=Side(row["side"]),
        qty_lots=row["qty_lots"],
        limit_price_micro_usd=row["limit_price_micro_usd"],
        time_in_force=TimeInForce(row["time_in_force"]),
        created_at_ns=row["created_at_ns"],
        status=OrderStatus(row["status"]),
        reduce_only=bool(row["reduce_only"]),
    )


class SqlOrders:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_order(self, order: Order) -> None:
        try:
            with self._engine.begin() as connection:
                add_order_in(connection, order)
        except IntegrityError as error:
            if self.get_order(order.order_id) is not None:
                raise Conflict("order_id", order.order_id, "already exists") from error
            raise Conflict(
                "client_order_id", order.client_order_id, "already used on account"
            ) from error

    def get_order(self, order_id: int) -> Order | None:
        return self._one(schema.orders.c.order_id == hex64(order_id))

    def get_by_client_order_id(self, account_id: AccountId, client_order_id: str) -> Order | None:
        table = schema.orders
        return self._one(
            (table.c.account_id == hex64(account_id.value))
            & (table.c.client_order_id == client_order_id)
        )

    def _one(self, condition: Any) -> Order | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(schema.orders).where(condition)).mappings().first()
        return None if row is None else _order(row)

    def set_status(self, order_id: int, status: OrderStatus) -> None:
        table = schema.orders
        key = table.c.order_id == hex64(order_id)
        with self._engine.begin() as connection:
            result = connection.execute(update(table).where(key).values(status=status.value))
            if result.rowcount == 0:
                raise NotFound("order_id", order_id, "no such order")

    def resting_orders(self, contract: ContractId) -> Sequence[Order]:
        table = schema.orders
        query = (
            select(table)
            .where(table.c.contract_id == contract.value, table.c.status == OrderStatus.OPEN.value)
            .order_by(table.c.seq)
        )
        with self._engine.connect() as connection:
            return [_order(row) for row in connection.execute(query).mappings()]

    def all_orders(self) -> Sequence[Order]:
        table = schema.orders
        with self._engine.connect() as connection:
            rows = connection.execute(select(table).order_by(table.c.seq)).mappings()
            return [_order(row) for row in rows]
