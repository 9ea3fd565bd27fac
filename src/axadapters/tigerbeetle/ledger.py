"""``TigerBeetleLedger``: ``LedgerPort`` on the official ``tigerbeetle`` client.

Our values map 1:1 onto the client's (same field names and widths); pending balances,
``pending_id`` and ``timeout`` stay zero because the exchange never uses two-phase
transfers. Result names are shared with TigerBeetle, so statuses map by name; one the port
does not know raises ``UnexpectedLedgerResult`` rather than being guessed.

Reads page through the cluster ``PAGE_LIMIT`` objects at a time by timestamp, so scans
return every object however large the ledger is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import tigerbeetle as tb

from axdomain.ledger.port import (
    AccountError,
    CreateAccountResult,
    CreateTransferResult,
    TransferError,
)
from axdomain.ledger.values import AccountFlags, LedgerAccount, Transfer, TransferFlags

PAGE_LIMIT = 1000
LOOKUP_CHUNK = 8189  # TigerBeetle's largest batch of ids per request
_R = TypeVar("_R", CreateAccountResult, CreateTransferResult)


class UnexpectedLedgerResult(Exception):
    """The cluster answered with a status outside the port's subset."""


class TigerBeetleLedger:
    def __init__(self, client: tb.ClientSync) -> None:
        self._client = client

    @classmethod
    def connect(cls, cluster_id: int, addresses: str) -> TigerBeetleLedger:
        """``addresses``: the replicas, comma separated (``AX_TIGERBEETLE_ADDRESSES``)."""
        return cls(tb.ClientSync(cluster_id=cluster_id, replica_addresses=addresses))

    def close(self) -> None:
        self._client.close()

    def create_accounts(self, accounts: Sequence[LedgerAccount]) -> list[AccountError]:
        results = self._client.create_accounts([to_tb_account(a) for a in accounts])
        return [
            AccountError(index, _by_name(CreateAccountResult, name))
            for index, name in failures(results, len(accounts))
        ]

    def create_transfers(self, transfers: Sequence[Transfer]) -> list[TransferError]:
        results = self._client.create_transfers([to_tb_transfer(t) for t in transfers])
        return [
            TransferError(index, _by_name(CreateTransferResult, name))
            for index, name in failures(results, len(transfers))
        ]

    def lookup_accounts(self, ids: Sequence[int]) -> list[LedgerAccount]:
        found: list[LedgerAccount] = []
        for start in range(0, len(ids), LOOKUP_CHUNK):
            chunk = list(ids[start : start + LOOKUP_CHUNK])
            found.extend(from_tb_account(a) for a in self._client.lookup_accounts(chunk))
        return found

    def lookup_transfers(self, ids: Sequence[int]) -> list[Transfer]:
        found: list[Transfer] = []
        for start in range(0, len(ids), LOOKUP_CHUNK):
            chunk = list(ids[start : start + LOOKUP_CHUNK])
            found.extend(from_tb_transfer(t) for t in self._client.lookup_transfers(chunk))
        return found

    def query_accounts(self, ledger: int, user_data_32: int) -> list[LedgerAccount]:
        # A zero filter field means "any" to TigerBeetle, so user_data_32 == 0 is re-checked.
        found = self._query_accounts(ledger=ledger, user_data_32=user_data_32)
        return [a for a in found if a.user_data_32 == user_data_32]

    def get_account_transfers(self, account_id: int) -> list[Transfer]:
        found: list[Transfer] = []
        timestamp_min = 0
        while True:
            page = self._client.get_account_transfers(
                tb.AccountFilter(
                    account_id=account_id,
                    user_data_128=0,
                    user_data_64=0,
                    user_data_32=0,
                    code=0,
                    timestamp_min=timestamp_min,
                    timestamp_max=0,
                    limit=PAGE_LIMIT,
                    flags=tb.AccountFilterFlags.DEBITS | tb.AccountFilterFlags.CREDITS,
                )
            )
            found.extend(from_tb_transfer(t) for t in page)
            if len(page) < PAGE_LIMIT:
                return found
            timestamp_min = page[-1].timestamp + 1

    def scan_accounts(self) -> list[LedgerAccount]:
        return self._query_accounts(ledger=0, user_data_32=0)

    def scan_transfers(self) -> list[Transfer]:
        found: list[Transfer] = []
        timestamp_min = 0
        while True:
            page = self._client.query_transfers(_query_filter(0, 0, timestamp_min))
            found.extend(from_tb_transfer(t) for t in page)
            if len(page) < PAGE_LIMIT:
                return found
            timestamp_min = page[-1].timestamp + 1

    def _query_accounts(self, ledger: int, user_data_32: int) -> list[LedgerAccount]:
        found: list[LedgerAccount] = []
        timestamp_min = 0
        while True:
            page = self._client.query_accounts(_query_filter(ledger, user_data_32, timestamp_min))
            found.extend(from_tb_account(a) for a in page)
            if len(page) < PAGE_LIMIT:
                return found
            timestamp_min = page[-1].timestamp + 1


def failures(results: Sequence[Any], count: int) -> list[tuple[int, str]]:
    """(index, result name) of the failed events, for either client generation.

    Clients up to 0.16 return only failures as ``(index, result)``; 0.17 returns one
    ``(timestamp, status)`` per event with ``CREATED`` for success.
    """
    if results and hasattr(results[0], "index"):
        return [(int(r.index), str(r.result.name)) for r in results]
    if len(results) != count:
        raise UnexpectedLedgerResult(f"{len(results)} results for {count} events")
    return [(i, str(r.status.name)) for i, r in enumerate(results) if r.status.name != "CREATED"]


def _by_name(enum_type: type[_R], name: str) -> _R:
    try:
        return enum_type[name.upper()]
    except KeyError:
        raise UnexpectedLedgerResult(f"{enum_type.__name__} has no {name}") from None


def _query_filter(ledger: int, user_data_32: int, timestamp_min: int) -> tb.QueryFilter:
    return tb.QueryFilter(
        user_data_128=0,
        user_data_64=0,
        user_data_32=user_data_32,
        ledger=ledger,
        code=0,
        timestamp_min=timestamp_min,
        timestamp_max=0,
        limit=PAGE_LIMIT,
        flags=tb.QueryFilterFlags.NONE,
    )


def to_tb_account(a: LedgerAccount) -> tb.Account:
    return tb.Account(
        id=a.id,
        debits_posted=a.debits_posted,
        credits_posted=a.credits_posted,
        user_data_128=a.user_data_128,
        user_data_64=a.user_data_64,
        user_data_32=a.user_data_32,
        ledger=a.ledger,
        code=a.code,
        flags=tb.AccountFlags(int(a.flags)),
        timestamp=a.timestamp,
    )


def from_tb_account(a: tb.Account) -> LedgerAccount:
    return LedgerAccount(
        id=a.id,
        ledger=a.ledger,
        code=a.code,
        flags=AccountFlags(int(a.flags)),
        user_data_128=a.user_data_128,
        user_data_64=a.user_data_64,
        user_data_32=a.user_data_32,
        debits_posted=a.debits_posted,
        credits_posted=a.credits_posted,
        timestamp=a.timestamp,
    )


def to_tb_transfer(t: Transfer) -> tb.Transfer:
    return tb.Transfer(
        id=t.id,
        debit_account_id=t.debit_account_id,
        credit_account_id=t.credit_account_id,
        amount=t.amount,
        user_data_128=t.user_data_128,
        user_data_64=t.user_data_64,
        user_data_32=t.user_data_32,
        ledger=t.ledger,
        code=t.code,
        flags=tb.TransferFlags(int(t.flags)),
        timestamp=t.timestamp,
    )


def from_tb_transfer(t: tb.Transfer) -> Transfer:
    return Transfer(
        id=t.id,
        debit_account_id=t.debit_account_id,
        credit_account_id=t.credit_account_id,
        amount=t.amount,
        ledger=t.ledger,
        code=t.code,
        flags=TransferFlags(int(t.flags)),
        user_data_128=t.user_data_128,
        user_data_64=t.user_data_64,
        user_data_32=t.user_data_32,
        timestamp=t.timestamp,
    )
