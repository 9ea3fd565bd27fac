"""SQL lane state: cursor and health rows replaced in place, kill-switch log insert-only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, RowMapping, select

from axadapters.sql import schema
from axadapters.sql._support import from_hex64, hex64, upsert
from axadapters.sql.storage_errors import storage_errors
from axdomain.ids import AccountId
from axdomain.venues.lanes import (
    KillSwitchEvent,
    LaneHealth,
    LaneState,
    OperatorRef,
    require_cursor,
)


def _health_row(health: LaneHealth) -> dict[str, Any]:
    return {
        "label": health.label,
        "account_id": hex64(health.account_id.value),
        "state": health.state.value,
        "consecutive_failures": health.consecutive_failures,
        "total_failures": health.total_failures,
        "last_error": health.last_error,
        "last_error_at_ns": health.last_error_at_ns,
        "next_attempt_at_ns": health.next_attempt_at_ns,
        "orders_placed": health.orders_placed,
        "updated_at_ns": health.updated_at_ns,
    }


def _health(row: RowMapping) -> LaneHealth:
    return LaneHealth(
        label=row["label"],
        account_id=AccountId(from_hex64(row["account_id"])),
        state=LaneState(row["state"]),
        updated_at_ns=row["updated_at_ns"],
        consecutive_failures=row["consecutive_failures"],
        total_failures=row["total_failures"],
        last_error=row["last_error"],
        last_error_at_ns=row["last_error_at_ns"],
        next_attempt_at_ns=row["next_attempt_at_ns"],
        orders_placed=row["orders_placed"],
    )


def _kill(row: RowMapping) -> KillSwitchEvent:
    return KillSwitchEvent(
        label=row["label"],
        account_id=AccountId(from_hex64(row["account_id"])),
        engaged=bool(row["engaged"]),
        operator=OperatorRef(row["operator_id"], row["operator_name"]),
        reason=row["reason"],
        at_ns=row["at_ns"],
    )


class SqlLaneStateStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get_cursor(self, source: str) -> str | None:
        table = schema.lane_cursors
        query = select(table.c.cursor_value).where(table.c.source == source)
        with storage_errors(self._engine), self._engine.connect() as connection:
            value = connection.execute(query).scalar_one_or_none()
        return None if value is None else str(value)

    def put_cursor(self, source: str, cursor: str, at_ns: int) -> None:
        values = {"source": source, "cursor_value": require_cursor(cursor), "updated_at_ns": at_ns}
        with storage_errors(self._engine), self._engine.begin() as connection:
            upsert(connection, schema.lane_cursors, values, ("source",))

    def put_health(self, health: LaneHealth) -> None:
        with storage_errors(self._engine), self._engine.begin() as connection:
            upsert(connection, schema.lane_health, _health_row(health), ("label",))

    def get_health(self, label: str) -> LaneHealth | None:
        table = schema.lane_health
        with storage_errors(self._engine), self._engine.connect() as connection:
            row = connection.execute(select(table).where(table.c.label == label)).mappings().first()
        return None if row is None else _health(row)

    def all_health(self) -> Sequence[LaneHealth]:
        table = schema.lane_health
        with storage_errors(self._engine), self._engine.connect() as connection:
            rows = connection.execute(select(table).order_by(table.c.label)).mappings()
            return [_health(row) for row in rows]

    def append_kill_switch(self, event: KillSwitchEvent) -> None:
        values = {
            "label": event.label,
            "account_id": hex64(event.account_id.value),
            "engaged": event.engaged,
            "operator_id": event.operator.operator_id,
            "operator_name": event.operator.name,
            "reason": event.reason,
            "at_ns": event.at_ns,
        }
        with storage_errors(self._engine), self._engine.begin() as connection:
            connection.execute(schema.lane_kill_switch_log.insert().values(values))

    def kill_switch(self, label: str) -> KillSwitchEvent | None:
        table = schema.lane_kill_switch_log
        query = select(table).where(table.c.label == label).order_by(table.c.seq.desc()).limit(1)
        with storage_errors(self._engine), self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _kill(row)

    def kill_switch_history(self, label: str) -> Sequence[KillSwitchEvent]:
        table = schema.lane_kill_switch_log
        query = select(table).where(table.c.label == label).order_by(table.c.seq)
        with storage_errors(self._engine), self._engine.connect() as connection:
            return [_kill(row) for row in connection.execute(query).mappings()]
