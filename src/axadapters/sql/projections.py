"""SQL projections of the committed ledger, the flag history and pending fills.

``project`` writes a batch of chains and moves the cursor in one transaction; every row is
keyed ``(account_id, sequence_number)`` and inserted with ON CONFLICT DO NOTHING, so a
replayed batch changes nothing, and a batch the stored cursor has already passed (another
process on the same ledger projected it) is skipped whole. Balances go to
``current_balances`` in the same transaction.

On PostgreSQL each table of a batch is one statement whatever the batch size
(``insert_columns``: one array per column, balances as one multi-row upsert), rows in
primary-key order, so a batch of a thousand chains costs five round trips, not one per row
or per account. SQLite (embedded, no round trips) keeps the plain executemany.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, select
from sqlalchemy.dialects import sqlite

from axadapters.sql import schema
from axadapters.sql._support import (
    Columns,
    driver_pipeline,
    from_hex64,
    hex64,
    insert_columns,
    upsert,
)
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
    if rows:
        _insert_ignoring(connection, table, {name: [row[name] for row in rows] for name in rows[0]})


def _insert_ignoring(connection: Connection, table: Table, columns: Columns) -> None:
    if not next(iter(columns.values())):
        return
    if connection.dialect.name == "postgresql":
        insert_columns(connection, table, columns, on_conflict="ON CONFLICT DO NOTHING")
    else:
        connection.execute(sqlite.insert(table).on_conflict_do_nothing(), _rows(columns))


def _upsert_all(
    connection: Connection, table: Table, columns: Columns, key: tuple[str, ...]
) -> None:
    """Insert or replace each row by ``key`` (rows carry distinct keys)."""
    if not next(iter(columns.values())):
        return
    if connection.dialect.name != "postgresql":
        for row in _rows(columns):
            upsert(connection, table, row, key)
        return
    changed = ", ".join(f"{name} = EXCLUDED.{name}" for name in columns if name not in key)
    on_conflict = f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {changed}"
    insert_columns(connection, table, columns, on_conflict=on_conflict)


def _rows(columns: Columns) -> list[dict[str, Any]]:
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


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
        stamps = [stamp for chain in chains for stamp in chain.stamps]
        positions = [record for chain in chains for record in chain.positions]
        transactions = [record for chain in chains for record in chain.transactions]
        balances: dict[AccountId, int] = {}
        for chain in chains:
            balances.update(chain.usd_after)
        updated_at = max((chain.transfers[0].user_data_64 for chain in chains), default=0)
        with begin(self._engine) as connection:
            if self._projected(connection) >= cursor.transfers_projected:
                return  # another process sharing the ledger projected these already
            postgres = connection.dialect.name == "postgresql"
            with driver_pipeline(connection) if postgres else contextlib.nullcontext():
                _insert_ignoring(connection, schema.account_events, _event_columns(stamps))
                _insert_ignoring(connection, schema.position_records, _position_columns(positions))
                _insert_ignoring(
                    connection, schema.transaction_records, _transaction_columns(transactions)
                )
                _upsert_all(
                    connection,
                    schema.current_balances,
                    {
                        "account_id": [hex64(account.value) for account in balances],
                        "balance_micro_usd": list(balances.values()),
                        "updated_at_ns": [updated_at] * len(balances),
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


def _event_columns(stamps: list[SequenceStamp]) -> Columns:
    return {
        "account_id": [hex64(s.account_id.value) for s in stamps],
        "sequence_number": [s.sequence_number for s in stamps],
        "first_transfer_id": [hex128(s.first_transfer_id) for s in stamps],
    }


def _position_columns(records: list[PositionRecord]) -> Columns:
    return {
        "account_id": [hex64(r.account_id.value) for r in records],
        "sequence_number": [r.sequence_number for r in records],
        "contract_id": [r.contract.value for r in records],
        "qty_lots": [r.qty_lots for r in records],
        "basis_micro_usd": [r.basis_micro_usd for r in records],
        "timestamp_ns": [r.timestamp_ns for r in records],
    }


def _transaction_columns(records: list[TransactionRecord]) -> Columns:
    return {
        "account_id": [hex64(r.account_id.value) for r in records],
        "sequence_number": [r.sequence_number for r in records],
        "amounts_json": [
            json.dumps([[int(c), a] for c, a in r.amounts_micro_usd]) for r in records
        ],
        "transfer_ids_json": [json.dumps([hex128(t) for t in r.transfer_ids]) for r in records],
        "timestamp_ns": [r.timestamp_ns for r in records],
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
