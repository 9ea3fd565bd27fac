"""Memory audit trail (append-only list)."""

from __future__ import annotations

from collections.abc import Sequence

from axdomain.audit import AuditRecord
from axdomain.ids import AccountId


class MemoryAuditLog:
    def __init__(self) -> None:
        self._records: list[AuditRecord] = []
        self._by_account: dict[AccountId, list[AuditRecord]] = {}

    def append(self, record: AuditRecord) -> None:
        self._records.append(record)
        if record.account_id is not None:  # exchange-wide operator actions name no account
            self._by_account.setdefault(record.account_id, []).append(record)

    def records_for_account(self, account_id: AccountId) -> Sequence[AuditRecord]:
        return list(self._by_account.get(account_id, ()))

    def all_records(self) -> Sequence[AuditRecord]:
        return list(self._records)
