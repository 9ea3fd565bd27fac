"""SQL projections of the committed ledger, the flag history and pending fills.

``project`` writes a batch of chains and moves the cursor in one transaction; every row is
keyed ``(account_id, sequence_number)`` and inserted with ON CONFLICT DO NOTHING, so a
replayed batch changes nothing, and a batch the stored cursor has already passed (another
process on the same ledger projected it) is skipped whole. Balances go to
``current_balances`` in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from axadapters.sql import schema
from axadapters.sql._support import from_hex64, hex64, upsert
from axadapters.sql.tx import begin, connect
from axdomain.contracts import ContractId
from axdomain.ids import AccountId
from axdomain.ledger.invariants import AccountFlagChange
from axdomain.ledger.projection import PendingFill, ProjectedChain, ProjectionCursor
from axdomain.ledger.sequencing import PositionRecord, SequenceStamp, TransactionRecord
from axdomain.ledger.values import TransferCode

CURSOR_NAME = "ledger"


def hex128(value: int) -> str:
    return f"{value:032x}"


def insert_ignoring_duplicates(
    connection: Connection, table: Table, rows: list[dict[str, Any]]
) -> None:
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(postgresql.insert(table).on_conflict_do_nothing(), rows)
    else:
        connection.execute(sqlite.insert(table).on_conflict_do_nothing(), rows)


class SqlProjections:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def cursor(self) -> ProjectionCursor:
        table = schema.projection_cursor
        with connect(self._engine) as connection:
            row = (
                connection.execute(select(table).where(table.c.name == CURSOR_NAME))
                .mappings()
                .first()
            )
        if row is None:
            return ProjectionCursor()
        return ProjectionCursor(row["transfers_projected"], int(row["last_transfer_id"], 16))

    def project(self, chains: Sequence[ProjectedChain], cursor: ProjectionCursor) -> None:
        events, positions, transactions = [], [], []
        balances: dict[AccountId, int] = {}
        updated_at = 0
        for chain in chains:
            for stamp in chain.stamps:
                events.append(
                    {
                        "account_id": hex64(stamp.account_id.value),
                        "sequence_number": stamp.sequence_number,
                        "first_transfer_id": hex128(stamp.first_transfer_id),
                    }
                )
            positions += [_position_row(p) for p in chain.positions]
            transactions += [_transaction_row(t) for t in chain.transactions]
            balances.update(chain.usd_after)
            updated_at = max(updated_at, chain.transfers[0].user_data_64)
        with begin(self._engine) as connection:
            if self._projected(connection) >= cursor.transfers_projected:
                return  # another process sharing the ledger projected these already
            insert_ignoring_duplicates(connection, schema.account_events, events)
            insert_ignoring_duplicates(connection, schema.position_records, positions)
            insert_ignoring_duplicates(connection, schema.transaction_records, transactions)
            for account, usd in balances.items():
                upsert(
                    connection,
                    schema.current_balances,
                    {
                        "account_id": hex64(account.value),
                        "balance_micro_usd": usd,
                        "updated_at_ns": updated_at,
                    },
                    ("account_id",),
                )
            upsert(
                connection,
                schema.projection_cursor,
                {
                    "name": CURSOR_NAME,
                    "transfers_projected": cursor.transfers_projected,
                    "last_transfer_id": hex128(cursor.last_transfer_id),
                },
                ("name",),
            )

    @staticmethod
    def _projected(connection: Connection) -> int:
        """The stored cursor, locked until the batch commits: with several processes
        projecting the same ledger, the cursor and the balances only ever move forward."""
        table = schema.projection_cursor
        query = select(table.c.transfers_projected).where(table.c.name == CURSOR_NAME)
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        stored = connection.execute(query).scalar()
        return int(stored or 0)

    def stamps(self) -> Sequence[SequenceStamp]:
        table = schema.account_events
        query = select(table).order_by(table.c.account_id, table.c.sequence_number)
        with connect(self._engine) as connection:
            return [
                SequenceStamp(
                    AccountId(from_hex64(row["account_id"])),
                    row["sequence_number"],
                    int(row["first_transfer_id"], 16),
                )
                for row in connection.execute(query).mappings()
            ]

    def position_records(self, account_id: AccountId) -> Sequence[PositionRecord]:
        table = schema.position_records
        query = (
            select(table)
            .where(table.c.account_id == hex64(account_id.value))
            .order_by(table.c.sequence_number)
        )
        with connect(self._engine) as connection:
            return [
                PositionRecord(
                    account_id,
                    row["sequence_number"],
                    ContractId(row["contract_id"]),
                    row["qty_lots"],
                    row["basis_micro_usd"],
                    row["timestamp_ns"],
                )
                for row in connection.execute(query).mappings()
            ]

    def transaction_records(self, account_id: AccountId) -> Sequence[TransactionRecord]:
        table = schema.transaction_records
        query = (
            select(table)
            .where(table.c.account_id == hex64(account_id.value))
            .order_by(table.c.sequence_number)
        )
        with connect(self._engine) as connection:
            return [
                TransactionRecord(
                    account_id,
                    row["sequence_number"],
                    tuple(
                        (TransferCode(code), amount)
                        for code, amount in json.loads(row["amounts_json"])
                    ),
                    tuple(int(t, 16) for t in json.loads(row["transfer_ids_json"])),
                    row["timestamp_ns"],
                )
                for row in connection.execute(query).mappings()
            ]

    def balances(self) -> dict[AccountId, int]:
        table = schema.current_balances
        with connect(self._engine) as connection:
            rows = connection.execute(select(table)).mappings()
            return {AccountId(from_hex64(r["account_id"])): r["balance_micro_usd"] for r in rows}

    def reset(self) -> None:
        with begin(self._engine) as connection:
            for table in (
                schema.account_events,
                schema.position_records,
                schema.transaction_records,
                schema.projection_cursor,
                schema.current_balances,
            ):
                connection.execute(delete(table))


def _position_row(record: PositionRecord) -> dict[str, Any]:
    return {
        "account_id": hex64(record.account_id.value),
        "sequence_number": record.sequence_number,
        "contract_id": record.contract.value,
        "qty_lots": record.qty_lots,
        "basis_micro_usd": record.basis_micro_usd,
        "timestamp_ns": record.timestamp_ns,
    }


def _transaction_row(record: TransactionRecord) -> dict[str, Any]:
    return {
        "account_id": hex64(record.account_id.value),
        "sequence_number": record.sequence_number,
        "amounts_json": json.dumps([[int(c), a] for c, a in record.amounts_micro_usd]),
        "transfer_ids_json": json.dumps([hex128(t) for t in record.transfer_ids]),
        "timestamp_ns": record.timestamp_ns,
    }


class SqlFlagHistory:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def append(self, change: AccountFlagChange) -> None:
        row = {
            "account_id": hex64(change.account_id.value),
            "at_ns": change.at_ns,
            "is_frozen": change.is_frozen,
            "is_close_only": change.is_close_only,
        }
        with begin(self._engine) as connection:
            connection.execute(schema.account_flag_changes.insert().values(row))

    def all_changes(self) -> Sequence[AccountFlagChange]:
        table = schema.account_flag_changes
        with connect(self._engine) as connection:
            return [
                AccountFlagChange(
                    AccountId(from_hex64(r["account_id"])),
                    r["at_ns"],
                    bool(r["is_frozen"]),
                    bool(r["is_close_only"]),
                )
                for r in connection.execute(select(table).order_by(table.c.seq)).mappings()
            ]


class SqlPendingFills:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def put(self, fill: PendingFill) -> None:
        row = {
            "taker_order_id": hex64(fill.taker_order_id),
            "fill_key": fill.fill_key,
            "maker_order_id": hex64(fill.maker_order_id),
            "qty_lots": fill.qty_lots,
            "price_micro_usd": fill.price_micro_usd,
            "first_transfer_id": hex128(fill.first_transfer_id),
        }
        with begin(self._engine) as connection:
            insert_ignoring_duplicates(connection, schema.pending_fills, [row])

    def all_pending(self) -> Sequence[PendingFill]:
        table = schema.pending_fills
        with connect(self._engine) as connection:
            return [
                PendingFill(
                    from_hex64(r["taker_order_id"]),
                    r["fill_key"],
                    from_hex64(r["maker_order_id"]),
                    r["qty_lots"],
                    r["price_micro_usd"],
                    int(r["first_transfer_id"], 16),
                )
                for r in connection.execute(
                    select(table).order_by(table.c.taker_order_id, table.c.fill_key)
                ).mappings()
            ]

    def delete(self, taker_order_id: int, fill_key: int) -> None:
        table = schema.pending_fills
        with begin(self._engine) as connection:
            connection.execute(
                delete(table).where(
                    table.c.taker_order_id == hex64(taker_order_id), table.c.fill_key == fill_key
                )
            )
