"""SQL order log: unique order id, unique ``(account_id, client_order_id)`` among open orders.

On PostgreSQL the log is partitioned by account, so the database keys the order id per
account; ``add_order`` refuses an id another account already holds (ids derive from the
account and the idempotency key, so only a 64-bit hash collision could produce one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, select, update
from sqlalchemy.exc import IntegrityError

from axadapters.sql import schema
from axadapters.sql._support import from_hex64, hex64
from axadapters.sql.tx import begin, connect
from axdomain.contracts import ContractId
from axdomain.errors import Conflict, NotFound
from axdomain.ids import AccountId, UserId
from axdomain.orders import Order, OrderStatus, Side, TimeInForce
from axdomain.paging import Page, page_of


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
        "filled_lots": order.filled_lots,
        "status_reason": order.status_reason,
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
        filled_lots=row["filled_lots"],
        status_reason=row["status_reason"],
    )


def _held_elsewhere(connection: Connection, order: Order) -> bool:
    table = schema.orders
    query = select(table.c.order_id).where(
        table.c.order_id == hex64(order.order_id),
        table.c.account_id != hex64(order.account_id.value),
    )
    return connection.execute(query.limit(1)).first() is not None


class SqlOrders:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_order(self, order: Order) -> None:
        try:
            with begin(self._engine) as connection:
                if _held_elsewhere(connection, order):
                    raise Conflict("order_id", order.order_id, "already exists")
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
        """The open order with this id if there is one, else the latest that used it."""
        table = schema.orders
        query = (
            select(table)
            .where(
                table.c.account_id == hex64(account_id.value),
                table.c.client_order_id == client_order_id,
            )
            .order_by((table.c.status == OrderStatus.OPEN.value).desc(), table.c.seq.desc())
            .limit(1)
        )
        with connect(self._engine) as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _order(row)

    def _one(self, condition: Any) -> Order | None:
        with connect(self._engine) as connection:
            row = connection.execute(select(schema.orders).where(condition)).mappings().first()
        return None if row is None else _order(row)

    def update_order(self, order: Order) -> None:
        table = schema.orders
        # The account narrows the update to the order's partition.
        key = (table.c.account_id == hex64(order.account_id.value)) & (
            table.c.order_id == hex64(order.order_id)
        )
        values = {
            "status": order.status.value,
            "filled_lots": order.filled_lots,
            "status_reason": order.status_reason,
        }
        with begin(self._engine) as connection:
            if connection.execute(update(table).where(key).values(values)).rowcount == 0:
                raise NotFound("order_id", order.order_id, "no such order")

    def resting_orders_for_account(self, account_id: AccountId) -> Sequence[Order]:
        table = schema.orders
        query = (
            select(table)
            .where(
                table.c.account_id == hex64(account_id.value),
                table.c.status == OrderStatus.OPEN.value,
            )
            .order_by(table.c.seq)
        )
        with connect(self._engine) as connection:
            return [_order(row) for row in connection.execute(query).mappings()]

    def orders_for_account(
        self, account_id: AccountId, *, status: OrderStatus | None, after: int, limit: int
    ) -> Page[Order]:
        table = schema.orders
        query = select(table).where(
            table.c.account_id == hex64(account_id.value), table.c.seq > after
        )
        if status is not None:
            query = query.where(table.c.status == status.value)
        query = query.order_by(table.c.seq).limit(limit + 1)
        with connect(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
        return page_of([(row["seq"], _order(row)) for row in rows], limit)

    def set_status(self, order_id: int, status: OrderStatus) -> None:
        table = schema.orders
        key = table.c.order_id == hex64(order_id)
        with begin(self._engine) as connection:
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
        with connect(self._engine) as connection:
            return [_order(row) for row in connection.execute(query).mappings()]

    def all_orders(self) -> Sequence[Order]:
        table = schema.orders
        with connect(self._engine) as connection:
            rows = connection.execute(select(table).order_by(table.c.seq)).mappings()
            return [_order(row) for row in rows]
