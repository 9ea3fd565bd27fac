"""``TigerBeetleLedger``: ``LedgerPort`` on the official ``tigerbeetle`` client.

Our values map 1:1 onto the client's (same field names and widths, pending balances,
``pending_id`` and ``timeout`` included). Result names are shared with TigerBeetle, so
statuses map by name; one the port does not know raises ``UnexpectedLedgerResult`` rather
than being guessed.

Batch size is the cluster's (its message size), so it is configuration
(``AX_TIGERBEETLE_BATCH_MAX``): a create call above it raises ``LedgerBatchTooLarge``
before anything is sent, lookups are split into chunks of it, and the cluster's own
``too_much_data`` maps to the same error. Every other client failure (closed or evicted
client, wrong release, a request the cluster refuses) raises ``LedgerUnavailable``.

Reads page through the cluster by timestamp until a page comes back empty: the cluster caps
a page at what fits its message, which may be below the requested limit, so a short page
does not prove the end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import tigerbeetle as tb
from tigerbeetle.client import InitError

from axdomain.errors import InvalidValue
from axdomain.ledger.port import (
    TIGERBEETLE_BATCH_EVENTS_MAX,
    AccountError,
    CreateAccountResult,
    CreateTransferResult,
    LedgerBatchTooLarge,
    LedgerUnavailable,
    TransferError,
    require_batch_size,
    require_query_ledger,
    require_supported_flags,
)
from axdomain.ledger.values import AccountFlags, LedgerAccount, Transfer, TransferFlags

_R = TypeVar("_R", CreateAccountResult, CreateTransferResult)
_V = TypeVar("_V")
_UNAVAILABLE = (
    tb.ClientClosedError,
    tb.ClientEvictedError,
    tb.ClientReleaseTooLowError,
    tb.ClientReleaseTooHighError,
    tb.NativeError,
    InitError,
)


class UnexpectedLedgerResult(Exception):
    """The cluster answered with a status outside the port's subset."""


def call_client(operation: str, count: int, request: Callable[..., _V], *args: Any) -> _V:
    """Run one client request, turning its exceptions into the port's typed errors."""
    try:
        return request(*args)
    except tb.TooMuchDataError:
        raise LedgerBatchTooLarge(
            operation,
            count,
            "the cluster refused the batch as too much data: lower "
            "AX_TIGERBEETLE_BATCH_MAX to the cluster's batch size",
        ) from None
    except _UNAVAILABLE as exc:
        raise LedgerUnavailable(f"TigerBeetle {operation}: {exc or type(exc).__name__}") from exc
    except (UnexpectedLedgerResult, LedgerBatchTooLarge):
        raise
    except Exception as exc:  # the client's bare Exception for invalid operation / data size
        raise LedgerUnavailable(f"TigerBeetle {operation}: {exc}") from exc


class TigerBeetleLedger:
    def __init__(self, client: Any, batch_events_max: int = TIGERBEETLE_BATCH_EVENTS_MAX) -> None:
        if not 1 <= batch_events_max <= TIGERBEETLE_BATCH_EVENTS_MAX:
            raise InvalidValue(
                "batch_events_max", batch_events_max, f"must be 1..{TIGERBEETLE_BATCH_EVENTS_MAX}"
            )
        self._client = client
        self._batch_events_max = batch_events_max

    @classmethod
    def connect(
        cls,
        cluster_id: int,
        addresses: str,
        batch_events_max: int = TIGERBEETLE_BATCH_EVENTS_MAX,
    ) -> TigerBeetleLedger:
        """``addresses``: every replica of the cluster, comma separated ``ip:port`` (what
        ``AX_TIGERBEETLE_ADDRESSES`` is checked and normalized to). The client talks to the
        primary and fails over between these replicas itself; a lost replica is its concern,
        not this adapter's."""
        client = call_client(
            "connect", 0, lambda: tb.ClientSync(cluster_id=cluster_id, replica_addresses=addresses)
        )
        return cls(client, batch_events_max)

    @property
    def batch_events_max(self) -> int:
        return self._batch_events_max

    def close(self) -> None:
        self._client.close()

    def create_accounts(self, accounts: Sequence[LedgerAccount]) -> list[AccountError]:
        require_batch_size("accounts", len(accounts), self._batch_events_max)
        require_supported_flags(accounts=accounts)
        if not accounts:
            return []
        events = [to_tb_account(a) for a in accounts]
        results = call_client("create_accounts", len(events), self._client.create_accounts, events)
        return [
            AccountError(index, _by_name(CreateAccountResult, name))
            for index, name in failures(results, len(accounts))
        ]

    def create_transfers(self, transfers: Sequence[Transfer]) -> list[TransferError]:
        require_batch_size("transfers", len(transfers), self._batch_events_max)
        require_supported_flags(transfers=transfers)
        if not transfers:
            return []
        events = [to_tb_transfer(t) for t in transfers]
        results = call_client(
            "create_transfers", len(events), self._client.create_transfers, events
        )
        return [
            TransferError(index, _by_name(CreateTransferResult, name))
            for index, name in failures(results, len(transfers))
        ]

    def lookup_accounts(self, ids: Sequence[int]) -> list[LedgerAccount]:
        found: list[LedgerAccount] = []
        for start in range(0, len(ids), self._batch_events_max):
            chunk = list(ids[start : start + self._batch_events_max])
            page = call_client("lookup_accounts", len(chunk), self._client.lookup_accounts, chunk)
            found.extend(from_tb_account(a) for a in page)
        return found

    def lookup_transfers(self, ids: Sequence[int]) -> list[Transfer]:
        found: list[Transfer] = []
        for start in range(0, len(ids), self._batch_events_max):
            chunk = list(ids[start : start + self._batch_events_max])
            page = call_client("lookup_transfers", len(chunk), self._client.lookup_transfers, chunk)
            found.extend(from_tb_transfer(t) for t in page)
        return found

    def query_accounts(self, ledger: int, user_data_32: int | None = None) -> list[LedgerAccount]:
        require_query_ledger(ledger)
        found = self._pages(
            "query_accounts",
            lambda ts: self._client.query_accounts(
                _query_filter(ledger, user_data_32 or 0, ts, self._batch_events_max)
            ),
        )
        # A zero filter field means "any" to TigerBeetle, so an exact 0 is re-checked here.
        accounts = [from_tb_account(a) for a in found]
        if user_data_32 is None:
            return accounts
        return [a for a in accounts if a.user_data_32 == user_data_32]

    def query_transfers(self, ledger: int) -> list[Transfer]:
        require_query_ledger(ledger)
        found = self._pages(
            "query_transfers",
            lambda ts: self._client.query_transfers(
                _query_filter(ledger, 0, ts, self._batch_events_max)
            ),
        )
        return [from_tb_transfer(t) for t in found]

    def get_account_transfers(self, account_id: int) -> list[Transfer]:
        found = self._pages(
            "get_account_transfers",
            lambda ts: self._client.get_account_transfers(
                tb.AccountFilter(
                    account_id=account_id,
                    user_data_128=0,
                    user_data_64=0,
                    user_data_32=0,
                    code=0,
                    timestamp_min=ts,
                    timestamp_max=0,
                    limit=self._batch_events_max,
                    flags=tb.AccountFilterFlags.DEBITS | tb.AccountFilterFlags.CREDITS,
                )
            ),
        )
        return [from_tb_transfer(t) for t in found]

    def scan_accounts(self) -> list[LedgerAccount]:
        found = self._pages(
            "query_accounts",
            lambda ts: self._client.query_accounts(_query_filter(0, 0, ts, self._batch_events_max)),
        )
        return [from_tb_account(a) for a in found]

    def scan_transfers(self) -> list[Transfer]:
        found = self._pages(
            "query_transfers",
            lambda ts: self._client.query_transfers(
                _query_filter(0, 0, ts, self._batch_events_max)
            ),
        )
        return [from_tb_transfer(t) for t in found]

    def _pages(self, operation: str, page_from: Callable[[int], list[Any]]) -> list[Any]:
        """Every object of a timestamp-ordered query, one page after another."""
        found: list[Any] = []
        timestamp_min = 0
        while True:
            page = call_client(operation, 1, page_from, timestamp_min)
            if not page:
                return found
            found.extend(page)
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


def _query_filter(ledger: int, user_data_32: int, timestamp_min: int, limit: int) -> Any:
    return tb.QueryFilter(
        user_data_128=0,
        user_data_64=0,
        user_data_32=user_data_32,
        ledger=ledger,
        code=0,
        timestamp_min=timestamp_min,
        timestamp_max=0,
        limit=limit,
        flags=tb.QueryFilterFlags.NONE,
    )


def to_tb_account(a: LedgerAccount) -> tb.Account:
    return tb.Account(
        id=a.id,
        debits_pending=a.debits_pending,
        debits_posted=a.debits_posted,
        credits_pending=a.credits_pending,
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
        debits_pending=a.debits_pending,
        credits_pending=a.credits_pending,
    )


def to_tb_transfer(t: Transfer) -> tb.Transfer:
    return tb.Transfer(
        id=t.id,
        debit_account_id=t.debit_account_id,
        credit_account_id=t.credit_account_id,
        amount=t.amount,
        pending_id=t.pending_id,
        user_data_128=t.user_data_128,
        user_data_64=t.user_data_64,
        user_data_32=t.user_data_32,
        timeout=t.timeout,
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
        pending_id=t.pending_id,
        timeout=t.timeout,
    )
