"""TigerBeetle's create semantics for the subset the exchange uses, held in memory.

The engine decides every result exactly as TigerBeetle (>= 0.16.4) does, so code that runs
on the twin behaves the same on a real cluster. Per event, the first applicable result in
this list (TigerBeetle's documented descending precedence) is returned:

``create_accounts``
    linked_event_chain_open (LINKED on the last event of the batch) · linked_event_failed
    (another event of the chain failed) · timestamp_must_be_zero · id_must_not_be_zero ·
    id_must_not_be_int_max · exists_with_different_flags · …_user_data_128 · …_user_data_64 ·
    …_user_data_32 · …_ledger · …_code · exists · flags_are_mutually_exclusive
    (DEBITS_MUST_NOT_EXCEED_CREDITS with CREDITS_MUST_NOT_EXCEED_DEBITS) ·
    debits_posted_must_be_zero · credits_posted_must_be_zero · ledger_must_not_be_zero ·
    code_must_not_be_zero.

``create_transfers``
    linked_event_chain_open · linked_event_failed · timestamp_must_be_zero ·
    id_must_not_be_zero · id_must_not_be_int_max · exists_with_different_flags ·
    …_debit_account_id · …_credit_account_id · …_amount · …_user_data_128 · …_user_data_64 ·
    …_user_data_32 · …_ledger · …_code · exists · id_already_failed ·
    debit_account_id_must_not_be_zero · debit_account_id_must_not_be_int_max ·
    credit_account_id_must_not_be_zero · credit_account_id_must_not_be_int_max ·
    accounts_must_be_different · ledger_must_not_be_zero · code_must_not_be_zero ·
    debit_account_not_found · credit_account_not_found · accounts_must_have_the_same_ledger ·
    transfer_must_have_the_same_ledger_as_accounts · overflows_debits_posted ·
    overflows_credits_posted · exceeds_credits · exceeds_debits.

Batches follow TigerBeetle's ``execute_create``: events apply in order and see the effects of
earlier events; a linked chain is all or nothing (the failing event reports its own result,
the chain's other events ``linked_event_failed``); ``exists`` is a failure and breaks a
chain. Each event of a batch of ``n`` consumes one timestamp: with batch timestamp ``T``
event ``i`` gets ``T - n + i + 1`` whether or not it is created, so every created object has
a unique, strictly increasing timestamp. A transfer failing with a *transient* result
(account not found, exceeds_credits, exceeds_debits) burns its id: resubmitting it returns
``id_already_failed``, as on TigerBeetle >= 0.16.

Not implemented (the twin raises ``InvalidValue`` for the flags that would need them):
pending / two-phase transfers, balancing and closing transfers, imported events, and the
account history (``get_account_balances``). The HISTORY account flag is stored only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import attrs

from axdomain.errors import InvalidValue
from axdomain.ledger.port import (
    AccountError,
    CreateAccountResult,
    CreateTransferResult,
    TransferError,
)
from axdomain.ledger.values import (
    U128_MAX,
    AccountFlags,
    LedgerAccount,
    Transfer,
    TransferFlags,
)

# TigerBeetle's largest create batch (1 MiB message body / 128-byte events).
BATCH_EVENTS_MAX = 8189
# TigerBeetle reserves the top bit of the u64 timestamp; stay below it like the cluster does.
TIMESTAMP_MAX_NS = (1 << 63) - 1

_SUPPORTED_ACCOUNT_FLAGS = (
    AccountFlags.LINKED
    | AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    | AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
    | AccountFlags.HISTORY
)
_SUPPORTED_TRANSFER_FLAGS = TransferFlags.LINKED
# Plain ints: IntFlag arithmetic builds a new enum member per operation, on the hot path.
_LINKED = int(AccountFlags.LINKED)
_DMNEC = int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
_CMNED = int(AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS)
assert int(TransferFlags.LINKED) == _LINKED
_A = CreateAccountResult
_T = CreateTransferResult
_TRANSIENT = frozenset(
    {_T.DEBIT_ACCOUNT_NOT_FOUND, _T.CREDIT_ACCOUNT_NOT_FOUND, _T.EXCEEDS_CREDITS, _T.EXCEEDS_DEBITS}
)
_DEBITS = 0
_CREDITS = 1
_Event = TypeVar("_Event", LedgerAccount, Transfer)
_Result = TypeVar("_Result", CreateAccountResult, CreateTransferResult)


@attrs.frozen
class CommittedBatch:
    """What one create call changed: exactly what the journal must persist to replay it."""

    batch_timestamp: int
    accounts: tuple[LedgerAccount, ...] = ()
    transfers: tuple[Transfer, ...] = ()
    failed_transfer_ids: tuple[int, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.accounts or self.transfers or self.failed_transfer_ids)


class ReplayMismatch(Exception):
    """A journaled object that could not have been committed on the state replayed so far."""


class LedgerEngine:
    """The ledger state and TigerBeetle's rules; no I/O, so the journal wraps it."""

    def __init__(self, clock_ns: Callable[[], int] | None = None) -> None:
        self._clock_ns = clock_ns
        self._last_timestamp = 0
        self._accounts: dict[int, LedgerAccount] = {}
        # [debits_posted, credits_posted] per account id: mutable to keep the hot path cheap.
        self._balances: dict[int, list[int]] = {}
        self._transfers: dict[int, Transfer] = {}
        self._by_account: dict[int, list[Transfer]] = {}
        self._by_ledger_ud32: dict[tuple[int, int], list[int]] = {}
        self._failed_transfer_ids: set[int] = set()
        self._batch_failed_ids: list[int] = []
        # Undo log of the batch in flight: accounts and transfers inserted, newest last.
        self._undo: list[LedgerAccount | Transfer] = []

    # -- timestamps ------------------------------------------------------------------------

    @property
    def last_timestamp(self) -> int:
        return self._last_timestamp

    def _reserve_timestamps(self, count: int) -> int:
        """Return the batch timestamp T; events get T-count+1 .. T (TigerBeetle's scheme)."""
        floor = self._last_timestamp + count
        now = self._clock_ns() if self._clock_ns is not None else 0
        batch_timestamp = max(int(now), floor)
        if batch_timestamp > TIMESTAMP_MAX_NS:
            raise InvalidValue("timestamp", batch_timestamp, f"exceeds {TIMESTAMP_MAX_NS}")
        self._last_timestamp = batch_timestamp
        return batch_timestamp

    # -- create_accounts -------------------------------------------------------------------

    def create_accounts(
        self, accounts: Sequence[LedgerAccount]
    ) -> tuple[list[AccountError], CommittedBatch]:
        _check_batch_size("accounts", len(accounts))
        for account in accounts:
            if int(account.flags) & ~int(_SUPPORTED_ACCOUNT_FLAGS):
                raise InvalidValue("flags", account.flags, "not supported by the ledger twin")
        results = self._run_batch(accounts, self._create_account, _A.OK, _A)
        errors = [AccountError(index, result) for index, result in results]
        created = tuple(item for item in self._undo if isinstance(item, LedgerAccount))
        self._undo.clear()
        return errors, CommittedBatch(self._last_timestamp, accounts=created)

    def _create_account(self, a: LedgerAccount, timestamp: int) -> CreateAccountResult:
        if a.timestamp != 0:
            return _A.TIMESTAMP_MUST_BE_ZERO
        if a.id == 0:
            return _A.ID_MUST_NOT_BE_ZERO
        if a.id == U128_MAX:
            return _A.ID_MUST_NOT_BE_INT_MAX
        existing = self._accounts.get(a.id)
        if existing is not None:
            return _account_exists(a, existing)
        if int(a.flags) & _DMNEC and int(a.flags) & _CMNED:
            return _A.FLAGS_ARE_MUTUALLY_EXCLUSIVE
        if a.debits_posted != 0:
            return _A.DEBITS_POSTED_MUST_BE_ZERO
        if a.credits_posted != 0:
            return _A.CREDITS_POSTED_MUST_BE_ZERO
        if a.ledger == 0:
            return _A.LEDGER_MUST_NOT_BE_ZERO
        if a.code == 0:
            return _A.CODE_MUST_NOT_BE_ZERO
        self._insert_account(_stamped(a, timestamp))
        return _A.OK

    def _insert_account(self, account: LedgerAccount) -> None:
        self._accounts[account.id] = account
        self._balances[account.id] = [0, 0]
        self._by_account[account.id] = []
        self._by_ledger_ud32.setdefault((account.ledger, account.user_data_32), []).append(
            account.id
        )
        self._undo.append(account)

    # -- create_transfers ------------------------------------------------------------------

    def create_transfers(
        self, transfers: Sequence[Transfer]
    ) -> tuple[list[TransferError], CommittedBatch]:
        _check_batch_size("transfers", len(transfers))
        for transfer in transfers:
            if int(transfer.flags) & ~int(_SUPPORTED_TRANSFER_FLAGS):
                raise InvalidValue("flags", transfer.flags, "not supported by the ledger twin")
        failed_before = len(self._failed_transfer_ids)
        results = self._run_batch(transfers, self._create_transfer, _T.OK, _T)
        errors = [TransferError(index, result) for index, result in results]
        created = tuple(item for item in self._undo if isinstance(item, Transfer))
        self._undo.clear()
        failed = tuple(self._batch_failed_ids)
        assert len(self._failed_transfer_ids) == failed_before + len(failed)
        return errors, CommittedBatch(
            self._last_timestamp, transfers=created, failed_transfer_ids=failed
        )

    def _create_transfer(self, t: Transfer, timestamp: int) -> CreateTransferResult:
        if t.timestamp != 0:
            return _T.TIMESTAMP_MUST_BE_ZERO
        if t.id == 0:
            return _T.ID_MUST_NOT_BE_ZERO
        if t.id == U128_MAX:
            return _T.ID_MUST_NOT_BE_INT_MAX
        existing = self._transfers.get(t.id)
        if existing is not None:
            return _transfer_exists(t, existing)
        if t.id in self._failed_transfer_ids:
            return _T.ID_ALREADY_FAILED
        result = _check_transfer_fields(t)
        if result is not _T.OK:
            return result
        dr = self._accounts.get(t.debit_account_id)
        if dr is None:
            return _T.DEBIT_ACCOUNT_NOT_FOUND
        cr = self._accounts.get(t.credit_account_id)
        if cr is None:
            return _T.CREDIT_ACCOUNT_NOT_FOUND
        if dr.ledger != cr.ledger:
            return _T.ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER
        if t.ledger != dr.ledger:
            return _T.TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS
        dr_balance = self._balances[dr.id]
        cr_balance = self._balances[cr.id]
        amount = t.amount
        if dr_balance[_DEBITS] + amount > U128_MAX:
            return _T.OVERFLOWS_DEBITS_POSTED
        if cr_balance[_CREDITS] + amount > U128_MAX:
            return _T.OVERFLOWS_CREDITS_POSTED
        if int(dr.flags) & _DMNEC and dr_balance[_DEBITS] + amount > dr_balance[_CREDITS]:
            return _T.EXCEEDS_CREDITS
        if int(cr.flags) & _CMNED and cr_balance[_CREDITS] + amount > cr_balance[_DEBITS]:
            return _T.EXCEEDS_DEBITS
        self._insert_transfer(_stamped(t, timestamp))
        return _T.OK

    def _insert_transfer(self, transfer: Transfer) -> None:
        self._balances[transfer.debit_account_id][_DEBITS] += transfer.amount
        self._balances[transfer.credit_account_id][_CREDITS] += transfer.amount
        self._transfers[transfer.id] = transfer
        self._by_account[transfer.debit_account_id].append(transfer)
        self._by_account[transfer.credit_account_id].append(transfer)
        self._undo.append(transfer)

    # -- the batch loop shared by both operations ------------------------------------------

    def _run_batch(
        self,
        events: Sequence[_Event],
        create: Callable[[_Event, int], _Result],
        ok: _Result,
        results_enum: type[_Result],
    ) -> list[tuple[int, _Result]]:
        """TigerBeetle's ``execute_create``: per-event results with linked-chain rollback."""
        assert not self._undo
        self._batch_failed_ids = []
        count = len(events)
        if count == 0:
            return []
        batch_timestamp = self._reserve_timestamps(count)
        try:
            return self._apply_events(events, create, ok, results_enum, batch_timestamp)
        except BaseException:
            # A bug must not leave half a batch behind: take everything back, then raise.
            self._rollback_to(0)
            self._failed_transfer_ids.difference_update(self._batch_failed_ids)
            self._batch_failed_ids = []
            raise

    def _apply_events(
        self,
        events: Sequence[_Event],
        create: Callable[[_Event, int], _Result],
        ok: _Result,
        results_enum: type[_Result],
        batch_timestamp: int,
    ) -> list[tuple[int, _Result]]:
        count = len(events)
        failed_event = results_enum["LINKED_EVENT_FAILED"]
        chain_open = results_enum["LINKED_EVENT_CHAIN_OPEN"]
        results: list[tuple[int, _Result]] = []
        chain_start: int | None = None
        chain_mark = 0
        chain_broken = False
        for index, event in enumerate(events):
            linked = bool(int(event.flags) & _LINKED)
            if linked and chain_start is None:
                chain_start, chain_mark = index, len(self._undo)
            if linked and index == count - 1:
                result = chain_open
            elif chain_broken:
                result = failed_event
            else:
                result = create(event, batch_timestamp - count + index + 1)
            if result is not ok:
                if chain_start is not None and not chain_broken:
                    chain_broken = True
                    self._rollback_to(chain_mark)
                    results.extend((j, failed_event) for j in range(chain_start, index))
                results.append((index, result))
                if result in _TRANSIENT:
                    assert isinstance(event, Transfer)
                    self._failed_transfer_ids.add(event.id)
                    self._batch_failed_ids.append(event.id)
            if chain_start is not None and (not linked or result is chain_open):
                chain_start, chain_broken = None, False
        return results

    def _rollback_to(self, mark: int) -> None:
        while len(self._undo) > mark:
            item = self._undo.pop()
            if isinstance(item, Transfer):
                self._remove_transfer(item)
            else:
                self._remove_account(item)

    def _remove_transfer(self, transfer: Transfer) -> None:
        self._balances[transfer.debit_account_id][_DEBITS] -= transfer.amount
        self._balances[transfer.credit_account_id][_CREDITS] -= transfer.amount
        del self._transfers[transfer.id]
        assert self._by_account[transfer.credit_account_id].pop() is transfer
        assert self._by_account[transfer.debit_account_id].pop() is transfer

    def _remove_account(self, account: LedgerAccount) -> None:
        assert self._balances.pop(account.id) == [0, 0]
        assert self._by_account.pop(account.id) == []
        del self._accounts[account.id]
        assert self._by_ledger_ud32[(account.ledger, account.user_data_32)].pop() == account.id

    def undo_batch(self, batch: CommittedBatch) -> None:
        """Take back a batch the journal could not persist, newest change first."""
        for transfer in reversed(batch.transfers):
            self._remove_transfer(transfer)
        for account in reversed(batch.accounts):
            self._remove_account(account)
        self._failed_transfer_ids.difference_update(batch.failed_transfer_ids)

    # -- replay ----------------------------------------------------------------------------

    def replay(self, batch: CommittedBatch) -> None:
        """Re-apply a journaled batch, checking it could have been committed here."""
        for account in batch.accounts:
            if account.id in self._accounts or not 0 < account.timestamp <= batch.batch_timestamp:
                raise ReplayMismatch(f"account {account.id} cannot be replayed")
            self._insert_account(account)
        for transfer in batch.transfers:
            if not self._replayable(transfer, batch.batch_timestamp):
                raise ReplayMismatch(f"transfer {transfer.id} cannot be replayed")
            self._insert_transfer(transfer)
        self._failed_transfer_ids.update(batch.failed_transfer_ids)
        self._undo.clear()
        if batch.batch_timestamp <= self._last_timestamp:
            raise ReplayMismatch(f"batch timestamp {batch.batch_timestamp} does not advance")
        self._last_timestamp = batch.batch_timestamp

    def _replayable(self, t: Transfer, batch_timestamp: int) -> bool:
        dr = self._accounts.get(t.debit_account_id)
        cr = self._accounts.get(t.credit_account_id)
        if dr is None or cr is None or t.id in self._transfers or dr.id == cr.id:
            return False
        dr_balance, cr_balance = self._balances[dr.id], self._balances[cr.id]
        return (
            t.ledger == dr.ledger == cr.ledger
            and 0 < t.timestamp <= batch_timestamp
            and dr_balance[_DEBITS] + t.amount <= U128_MAX
            and cr_balance[_CREDITS] + t.amount <= U128_MAX
            and not (
                int(dr.flags) & _DMNEC and dr_balance[_DEBITS] + t.amount > dr_balance[_CREDITS]
            )
            and not (
                int(cr.flags) & _CMNED and cr_balance[_CREDITS] + t.amount > cr_balance[_DEBITS]
            )
        )

    # -- reads -----------------------------------------------------------------------------

    def _with_balance(self, account: LedgerAccount) -> LedgerAccount:
        debits, credits = self._balances[account.id]
        return attrs.evolve(account, debits_posted=debits, credits_posted=credits)

    def lookup_accounts(self, ids: Sequence[int]) -> list[LedgerAccount]:
        found = (self._accounts.get(account_id) for account_id in ids)
        return [self._with_balance(account) for account in found if account is not None]

    def lookup_transfers(self, ids: Sequence[int]) -> list[Transfer]:
        found = (self._transfers.get(transfer_id) for transfer_id in ids)
        return [transfer for transfer in found if transfer is not None]

    def query_accounts(self, ledger: int, user_data_32: int) -> list[LedgerAccount]:
        ids = self._by_ledger_ud32.get((ledger, user_data_32), [])
        return [self._with_balance(self._accounts[account_id]) for account_id in ids]

    def get_account_transfers(self, account_id: int) -> list[Transfer]:
        return list(self._by_account.get(account_id, ()))

    def scan_accounts(self) -> list[LedgerAccount]:
        return [self._with_balance(account) for account in self._accounts.values()]

    def scan_transfers(self) -> list[Transfer]:
        return list(self._transfers.values())


_ACCOUNT_FIELDS = tuple(field.name for field in attrs.fields(LedgerAccount))
_TRANSFER_FIELDS = tuple(field.name for field in attrs.fields(Transfer))


def _stamped(value: _Event, timestamp: int) -> _Event:
    """A copy of an already validated value carrying the ledger's timestamp.

    ``attrs.evolve`` would re-run every field validator — more than half of the twin's time
    per transfer — for fields that were validated when the value was built; only the
    timestamp is new, and it is range-checked here.
    """
    assert 0 < timestamp <= TIMESTAMP_MAX_NS, timestamp
    cls = type(value)
    names = _TRANSFER_FIELDS if cls is Transfer else _ACCOUNT_FIELDS
    stamped = object.__new__(cls)
    for name in names:
        object.__setattr__(stamped, name, getattr(value, name))
    object.__setattr__(stamped, "timestamp", timestamp)
    return stamped


def _check_batch_size(field: str, count: int) -> None:
    if count > BATCH_EVENTS_MAX:
        raise InvalidValue(field, count, f"a batch holds at most {BATCH_EVENTS_MAX} events")


def _check_transfer_fields(t: Transfer) -> CreateTransferResult:
    """The field checks between the id checks and the account lookups, in precedence order."""
    if t.debit_account_id == 0:
        return _T.DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO
    if t.debit_account_id == U128_MAX:
        return _T.DEBIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX
    if t.credit_account_id == 0:
        return _T.CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO
    if t.credit_account_id == U128_MAX:
        return _T.CREDIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX
    if t.debit_account_id == t.credit_account_id:
        return _T.ACCOUNTS_MUST_BE_DIFFERENT
    if t.ledger == 0:
        return _T.LEDGER_MUST_NOT_BE_ZERO
    if t.code == 0:
        return _T.CODE_MUST_NOT_BE_ZERO
    return _T.OK


def _account_exists(a: LedgerAccount, e: LedgerAccount) -> CreateAccountResult:
    if int(a.flags) != int(e.flags):
        return _A.EXISTS_WITH_DIFFERENT_FLAGS
    if a.user_data_128 != e.user_data_128:
        return _A.EXISTS_WITH_DIFFERENT_USER_DATA_128
    if a.user_data_64 != e.user_data_64:
        return _A.EXISTS_WITH_DIFFERENT_USER_DATA_64
    if a.user_data_32 != e.user_data_32:
        return _A.EXISTS_WITH_DIFFERENT_USER_DATA_32
    if a.ledger != e.ledger:
        return _A.EXISTS_WITH_DIFFERENT_LEDGER
    if a.code != e.code:
        return _A.EXISTS_WITH_DIFFERENT_CODE
    return _A.EXISTS


def _transfer_exists(t: Transfer, e: Transfer) -> CreateTransferResult:
    if int(t.flags) != int(e.flags):
        return _T.EXISTS_WITH_DIFFERENT_FLAGS
    if t.debit_account_id != e.debit_account_id:
        return _T.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID
    if t.credit_account_id != e.credit_account_id:
        return _T.EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID
    if t.amount != e.amount:
        return _T.EXISTS_WITH_DIFFERENT_AMOUNT
    if t.user_data_128 != e.user_data_128:
        return _T.EXISTS_WITH_DIFFERENT_USER_DATA_128
    if t.user_data_64 != e.user_data_64:
        return _T.EXISTS_WITH_DIFFERENT_USER_DATA_64
    if t.user_data_32 != e.user_data_32:
        return _T.EXISTS_WITH_DIFFERENT_USER_DATA_32
    if t.ledger != e.ledger:
        return _T.EXISTS_WITH_DIFFERENT_LEDGER
    if t.code != e.code:
        return _T.EXISTS_WITH_DIFFERENT_CODE
    return _T.EXISTS
