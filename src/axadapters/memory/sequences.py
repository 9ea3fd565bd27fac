"""Memory sequence allocator: gap-free per-account counters (1, 2, 3, ...)."""

from __future__ import annotations

from axdomain._checks import require_range
from axdomain.errors import InvalidValue
from axdomain.ids import AccountId

MAX_BATCH = 1 << 20  # one allocation never reserves more than a ledger batch could need


class MemorySequences:
    def __init__(self) -> None:
        self._last: dict[AccountId, int] = {}

    def allocate(self, account_id: AccountId, count: int = 1) -> int:
        if not isinstance(account_id, AccountId):
            raise InvalidValue("account_id", account_id, "must be an AccountId")
        require_range("count", count, 1, MAX_BATCH)
        first = self._last.get(account_id, 0) + 1
        self._last[account_id] = first + count - 1
        return first

    def last_allocated(self, account_id: AccountId) -> int:
        if not isinstance(account_id, AccountId):
            raise InvalidValue("account_id", account_id, "must be an AccountId")
        return self._last.get(account_id, 0)
