"""Wire shapes of the ledger service: one JSON object per line, integers exact (u128 fits
JSON numbers as Python reads them), flags and results as their integer or string values."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import attrs

from axdomain.errors import InvalidValue
from axdomain.ledger.port import (
    AccountError,
    CreateAccountResult,
    CreateTransferResult,
    LedgerBatchTooLarge,
    LedgerUnavailable,
    TransferError,
)
from axdomain.ledger.values import AccountFlags, LedgerAccount, Transfer, TransferFlags

_V = TypeVar("_V", LedgerAccount, Transfer)
# A ledger request carries at most one batch (8189 events of ~300 bytes as JSON).
MAX_LINE_BYTES = 16 * 1024 * 1024


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    message = json.loads(line)
    if not isinstance(message, dict):
        raise LedgerUnavailable("ledger service: a message must be a JSON object")
    return message


def account_out(account: LedgerAccount) -> dict[str, Any]:
    row = attrs.asdict(account)
    row["flags"] = int(account.flags)
    return row


def account_in(row: dict[str, Any]) -> LedgerAccount:
    return _built(LedgerAccount, {**row, "flags": AccountFlags(row["flags"])})


def transfer_out(transfer: Transfer) -> dict[str, Any]:
    row = attrs.asdict(transfer)
    row["flags"] = int(transfer.flags)
    return row


def transfer_in(row: dict[str, Any]) -> Transfer:
    return _built(Transfer, {**row, "flags": TransferFlags(row["flags"])})


def _built(kind: type[_V], fields: dict[str, Any]) -> _V:
    """A raw client may send fields the constructor forbids (a zero id): the ledger, not
    the wire, answers those with its per-event result, as TigerBeetle does."""
    try:
        return kind(**fields)
    except ValueError:
        with attrs.validators.disabled():
            return kind(**fields)


def account_errors_in(rows: list[list[Any]]) -> list[AccountError]:
    return [AccountError(index, CreateAccountResult(result)) for index, result in rows]


def transfer_errors_in(rows: list[list[Any]]) -> list[TransferError]:
    return [TransferError(index, CreateTransferResult(result)) for index, result in rows]


def error_out(error: Exception) -> dict[str, Any]:
    """A refusal the port defines travels as itself; anything else is ``unavailable``."""
    if isinstance(error, InvalidValue):
        value = error.value if isinstance(error.value, int | str) else str(error.value)
        kind = "batch_too_large" if isinstance(error, LedgerBatchTooLarge) else "invalid_value"
        return {"error": kind, "field": error.field, "value": value, "problem": error.problem}
    return {"error": "unavailable", "problem": f"{type(error).__name__}: {error}"}


def raise_error(message: dict[str, Any]) -> None:
    kind = message.get("error")
    if kind is None:
        return
    if kind == "batch_too_large":
        raise LedgerBatchTooLarge(message["field"], message["value"], message["problem"])
    if kind == "invalid_value":
        raise InvalidValue(message["field"], message["value"], message["problem"])
    raise LedgerUnavailable(f"ledger service: {message.get('problem', kind)}")
