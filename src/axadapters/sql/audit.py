"""SQL audit trail: insert-only (the application role has no UPDATE/DELETE on it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, RowMapping, select

from axadapters.sql import schema
from axadapters.sql._support import (
    from_hex64,
    hex64,
    optional_flags_from_row,
    optional_flags_to_columns,
)
from axadapters.sql.tx import append_only, connect
from axdomain.audit import AuditRecord
from axdomain.authorization import DenyReason
from axdomain.ids import AccountId, UserId
from axdomain.permissions import Action


def _row(record: AuditRecord) -> dict[str, Any]:
    return {
        "request_id": record.request_id,
        "at_ns": record.at_ns,
        "actor_user_id": _optional_hex(record.actor_user_id),
        "actor_operator_id": None
        if record.actor_operator_id is None
        else hex64(record.actor_operator_id),
        "account_id": _optional_hex(record.account_id),
        "action": record.action.value,
        "allowed": record.allowed,
        "reason": record.reason.value,
        **optional_flags_to_columns(record.grant_permissions, "grant_"),
        "key_id": None if record.key_id is None else hex64(record.key_id),
        **optional_flags_to_columns(record.key_scope, "key_"),
    }


def _optional_hex(value: UserId | AccountId | None) -> str | None:
    return None if value is None else hex64(value.value)


def _record(row: RowMapping) -> AuditRecord:
    key_id = row["key_id"]
    actor, account, operator = row["actor_user_id"], row["account_id"], row["actor_operator_id"]
    return AuditRecord(
        request_id=row["request_id"],
        at_ns=row["at_ns"],
        actor_user_id=None if actor is None else UserId(from_hex64(actor)),
        account_id=None if account is None else AccountId(from_hex64(account)),
        actor_operator_id=None if operator is None else from_hex64(operator),
        action=Action(row["action"]),
        allowed=bool(row["allowed"]),
        reason=DenyReason(row["reason"]),
        grant_permissions=optional_flags_from_row(row, "grant_"),
        key_id=None if key_id is None else from_hex64(key_id),
        key_scope=optional_flags_from_row(row, "key_"),
    )


class SqlAuditLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def append(self, record: AuditRecord) -> None:
        append_only(self._engine, schema.audit_log, _row(record))

    def records_for_account(self, account_id: AccountId) -> Sequence[AuditRecord]:
        table = schema.audit_log
        query = (
            select(table).where(table.c.account_id == hex64(account_id.value)).order_by(table.c.seq)
        )
        with connect(self._engine) as connection:
            return [_record(row) for row in connection.execute(query).mappings()]

    def all_records(self) -> Sequence[AuditRecord]:
        table = schema.audit_log
        with connect(self._engine) as connection:
            rows = connection.execute(select(table).order_by(table.c.seq)).mappings()
            return [_record(row) for row in rows]
