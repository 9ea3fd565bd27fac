"""Memory fill log and idempotency records."""

from __future__ import annotations

from axdomain.errors import Conflict
from axdomain.idempotency import IdempotencyRecord
from axdomain.ids import AccountId
from axdomain.orders import Fill
from axdomain.paging import Page, page_of


class MemoryFills:
    def __init__(self) -> None:
        self._by_account: dict[AccountId, list[tuple[int, Fill]]] = {}
        self._keys: set[tuple[int, int]] = set()
        self._position = 0

    def add_fill(self, fill: Fill) -> None:
        key = (fill.order_id, fill.qty_transfer_id)
        if key in self._keys:
            return
        self._keys.add(key)
        self._position += 1
        self._by_account.setdefault(fill.account_id, []).append((self._position, fill))

    def fills_for_account(self, account_id: AccountId, *, after: int, limit: int) -> Page[Fill]:
        rows = [row for row in self._by_account.get(account_id, []) if row[0] > after]
        return page_of(rows[: limit + 1], limit)

    def fills_for_order(self, account_id: AccountId, order_id: int) -> list[Fill]:
        return [f for _, f in self._by_account.get(account_id, []) if f.order_id == order_id]


class MemoryIdempotency:
    def __init__(self) -> None:
        self._records: dict[tuple[AccountId, str], IdempotencyRecord] = {}

    def get(self, account_id: AccountId, idempotency_key: str) -> IdempotencyRecord | None:
        return self._records.get((account_id, idempotency_key))

    def put(self, record: IdempotencyRecord) -> None:
        key = (record.account_id, record.idempotency_key)
        if key in self._records:
            raise Conflict("idempotency_key", record.idempotency_key, "already recorded")
        self._records[key] = record
