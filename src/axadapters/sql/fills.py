"""SQL fill log and idempotency records (both keyed by account first)."""

from __future__ import annotations

from sqlalchemy import Engine, RowMapping, select
from sqlalchemy.exc import IntegrityError

from axadapters.sql import schema
from axadapters.sql._support import from_hex64, hex64
from axadapters.sql.tx import begin, connect
from axdomain.contracts import ContractId
from axdomain.errors import Conflict
from axdomain.idempotency import IdempotencyRecord
from axdomain.ids import AccountId
from axdomain.orders import Fill, Side
from axdomain.paging import Page, page_of


def _fill(row: RowMapping) -> Fill:
    return Fill(
        order_id=from_hex64(row["order_id"]),
        qty_transfer_id=int(row["qty_transfer_id"], 16),
        account_id=AccountId(from_hex64(row["account_id"])),
        contract=ContractId(row["contract_id"]),
        side=Side(row["side"]),
        qty_lots=row["qty_lots"],
        price_micro_usd=row["price_micro_usd"],
        fee_micro_usd=row["fee_micro_usd"],
        is_maker=bool(row["is_maker"]),
        at_ns=row["at_ns"],
    )


class SqlFills:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_fill(self, fill: Fill) -> None:
        row = {
            "order_id": hex64(fill.order_id),
            "qty_transfer_id": f"{fill.qty_transfer_id:032x}",
            "account_id": hex64(fill.account_id.value),
            "contract_id": fill.contract.value,
            "side": fill.side.value,
            "qty_lots": fill.qty_lots,
            "price_micro_usd": fill.price_micro_usd,
            "fee_micro_usd": fill.fee_micro_usd,
            "is_maker": fill.is_maker,
            "at_ns": fill.at_ns,
        }
        try:
            with begin(self._engine) as connection:
                connection.execute(schema.fills.insert().values(row))
        except IntegrityError:
            return  # already projected: a replay adds nothing

    def fills_for_account(self, account_id: AccountId, *, after: int, limit: int) -> Page[Fill]:
        table = schema.fills
        query = (
            select(table)
            .where(table.c.account_id == hex64(account_id.value), table.c.seq > after)
            .order_by(table.c.seq)
            .limit(limit + 1)
        )
        with connect(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
        return page_of([(row["seq"], _fill(row)) for row in rows], limit)

    def fills_for_order(self, account_id: AccountId, order_id: int) -> list[Fill]:
        table = schema.fills
        query = (
            select(table)
            .where(table.c.account_id == hex64(account_id.value))
            .where(table.c.order_id == hex64(order_id))
            .order_by(table.c.seq)
        )
        with connect(self._engine) as connection:
            return [_fill(row) for row in connection.execute(query).mappings()]


class SqlIdempotency:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, account_id: AccountId, idempotency_key: str) -> IdempotencyRecord | None:
        table = schema.idempotency_records
        query = select(table).where(
            table.c.account_id == hex64(account_id.value),
            table.c.idempotency_key == idempotency_key,
        )
        with connect(self._engine) as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            return None
        return IdempotencyRecord(
            account_id=account_id,
            idempotency_key=row["idempotency_key"],
            request_hash=row["request_hash"],
            operation=row["operation"],
            response_json=row["response_json"],
            created_at_ns=row["created_at_ns"],
        )

    def put(self, record: IdempotencyRecord) -> None:
        row = {
            "account_id": hex64(record.account_id.value),
            "idempotency_key": record.idempotency_key,
            "request_hash": record.request_hash,
            "operation": record.operation,
            "response_json": record.response_json,
            "created_at_ns": record.created_at_ns,
        }
        try:
            with begin(self._engine) as connection:
                connection.execute(schema.idempotency_records.insert().values(row))
        except IntegrityError as error:
            raise Conflict("idempotency_key", record.idempotency_key, "already recorded") from error
