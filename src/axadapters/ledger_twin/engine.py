"""TigerBeetle's create semantics for the subset the exchange uses, held in memory.

The engine decides every result as TigerBeetle (>= 0.16.4) does, so code that runs on the
twin behaves the same on a real cluster. Per event, the first applicable result in this
list (TigerBeetle's documented descending precedence) is returned:

``create_accounts``
    linked_event_chain_open (LINKED on the last event of the batch) · linked_event_failed
    (another event of the chain failed) · timestamp_must_be_zero · reserved_flag ·
    id_must_not_be_zero · id_must_not_be_int_max · exists_with_different_flags ·
    …_user_data_128 · …_user_data_64 · …_user_data_32 · …_ledger · …_code · exists ·
    flags_are_mutually_exclusive (DEBITS_MUST_NOT_EXCEED_CREDITS with
    CREDITS_MUST_NOT_EXCEED_DEBITS) · debits_pending_must_be_zero ·
    debits_posted_must_be_zero · credits_pending_must_be_zero · credits_posted_must_be_zero ·
    ledger_must_not_be_zero · code_must_not_be_zero.

``create_transfers``
    linked_event_chain_open · linked_event_failed · timestamp_must_be_zero · reserved_flag ·
    id_must_not_be_zero · id_must_not_be_int_max · exists_with_different_flags ·
    …_pending_id · …_timeout · …_debit_account_id · …_credit_account_id · …_amount ·
    …_user_data_128 · …_user_data_64 · …_user_data_32 · …_ledger · …_code · exists ·
    id_already_failed · then, for a post or void: flags_are_mutually_exclusive ·
    pending_id_must_not_be_zero · pending_id_must_not_be_int_max ·
    pending_id_must_be_different · timeout_reserved_for_pending_transfer ·
    pending_transfer_not_found · pending_transfer_not_pending ·
    pending_transfer_has_different_debit_account_id / _credit_account_id / _ledger / _code ·
    exceeds_pending_transfer_amount · pending_transfer_has_different_amount ·
    pending_transfer_already_posted / _voided · pending_transfer_expired ·
    debit_account_already_closed · credit_account_already_closed (posting only);
    for any other transfer: debit_account_id_must_not_be_zero / _int_max ·
    credit_account_id_must_not_be_zero / _int_max · accounts_must_be_different ·
    pending_id_must_be_zero · timeout_reserved_for_pending_transfer ·
    closing_transfer_must_be_pending · ledger_must_not_be_zero · code_must_not_be_zero ·
    debit_account_not_found · credit_account_not_found · accounts_must_have_the_same_ledger ·
    transfer_must_have_the_same_ledger_as_accounts · debit_account_already_closed ·
    credit_account_already_closed · overflows_debits_pending · overflows_credits_pending ·
    overflows_debits_posted · overflows_credits_posted · overflows_debits · overflows_credits ·
    overflows_timeout · exceeds_credits · exceeds_debits.

Batches follow TigerBeetle's ``execute_create``: events apply in order and see the effects of
earlier events; a linked chain is all or nothing (the failing event reports its own result,
the chain's other events ``linked_event_failed``); ``exists`` is a failure and breaks a
chain. Each event of a batch of ``n`` consumes one timestamp: with batch timestamp ``T``
event ``i`` gets ``T - n + i + 1`` whether or not it is created, so every created object has
a unique, strictly increasing timestamp. A transfer failing with a *transient* result
(account or pending transfer not found, an account closed, exceeds_credits, exceeds_debits)
burns its id: resubmitting it returns ``id_already_failed``.

Two-phase transfers: a pending transfer moves its amount into ``debits_pending`` /
``credits_pending`` (which count against ``debits_must_not_exceed_credits``); a post moves up
to that amount into the posted balances (``AMOUNT_MAX`` posts all of it), a void releases it.
Either is stored with the pending transfer's accounts, ledger and code (and its user data
where the post/void left them zero), timeout 0, and the amount it moved. A pending transfer
with a timeout expires at ``timestamp + timeout`` seconds: at the start of every create call
the twin releases each pending transfer expired by the first event's timestamp (TigerBeetle
does it in its own pulse operation, at some time after expiry), and a post or void of an
expired one fails with ``pending_transfer_expired`` either way. Closing transfers (pending,
with CLOSING_DEBIT / CLOSING_CREDIT) set the account's CLOSED flag; voiding (or expiry of)
that pending transfer clears it; a closed account accepts no transfer but that void.

Not implemented (refused with ``InvalidValue`` before anything is applied): balancing
transfers, imported events, and the account history (``get_account_balances``). The HISTORY
account flag is stored only.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import attrs

from axdomain.errors import InvalidValue
from axdomain.ledger.port import (
    TIGERBEETLE_BATCH_EVENTS_MAX,
    TRANSIENT_TRANSFER_RESULTS,
    AccountError,
    CreateAccountResult,
    CreateTransferResult,
    TransferError,
    require_batch_size,
    require_query_ledger,
    require_supported_flags,
)
from axdomain.ledger.values import (
    ACCOUNT_FLAGS_KNOWN,
    AMOUNT_MAX,
    TRANSFER_FLAGS_KNOWN,
    U128_MAX,
    AccountFlags,
    LedgerAccount,
    Transfer,
    TransferFlags,
)

BATCH_EVENTS_MAX = TIGERBEETLE_BATCH_EVENTS_MAX
# TigerBeetle reserves the top bit of the u64 timestamp; stay below it like the cluster does.
TIMESTAMP_MAX_NS = (1 << 63) - 1
NS_PER_S = 1_000_000_000
# Expiries released per create call, like TigerBeetle's bounded pulse: the rest wait a call.
EXPIRIES_PER_BATCH_MAX = TIGERBEETLE_BATCH_EVENTS_MAX

# Plain ints: IntFlag arithmetic builds a new enum member per operation, on the hot path.
_LINKED = int(AccountFlags.LINKED)
_DMNEC = int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
_CMNED = int(AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS)
_CLOSED = int(AccountFlags.CLOSED)
_PENDING = int(TransferFlags.PENDING)
_POST = int(TransferFlags.POST_PENDING_TRANSFER)
_VOID = int(TransferFlags.VOID_PENDING_TRANSFER)
_CLOSING_DEBIT = int(TransferFlags.CLOSING_DEBIT)
_CLOSING_CREDIT = int(TransferFlags.CLOSING_CREDIT)
_TWO_PHASE = _PENDING | _POST | _VOID
_NOT_WITH_POST_OR_VOID = (
    _PENDING
    | _CLOSING_DEBIT
    | _CLOSING_CREDIT
    | int(TransferFlags.BALANCING_DEBIT)
    | int(TransferFlags.BALANCING_CREDIT)
)
assert int(TransferFlags.LINKED) == _LINKED
_A = CreateAccountResult
_T = CreateTransferResult
# Balances per account id, mutable to keep the hot path cheap.
_DEBITS = 0
_CREDITS = 1
_DEBITS_PENDING = 2
_CREDITS_PENDING = 3
# Status of a pending transfer (TigerBeetle's TransferPendingStatus).
PENDING, POSTED, VOIDED, EXPIRED = "pending", "posted", "voided", "expired"
_Event = TypeVar("_Event", LedgerAccount, Transfer)
_Result = TypeVar("_Result", CreateAccountResult, CreateTransferResult)


@attrs.frozen
class CommittedBatch:
    """What one create call changed: exactly what the journal must persist to replay it.

    ``expired_transfer_ids``: pending transfers released by expiry before the events ran.
    """

    batch_timestamp: int
    accounts: tuple[LedgerAccount, ...] = ()
    transfers: tuple[Transfer, ...] = ()
    failed_transfer_ids: tuple[int, ...] = ()
    expired_transfer_ids: tuple[int, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (
            self.accounts or self.transfers or self.failed_transfer_ids or self.expired_transfer_ids
        )


@attrs.frozen
class _Expiry:
    """Undo-log entry: the pending transfer ``transfer_id`` was released by its timeout."""

    transfer_id: int


class ReplayMismatch(Exception):
    """A journaled object that could not have been committed on the state replayed so far."""


class LedgerEngine:
    """The ledger state and TigerBeetle's rules; no I/O, so the journal wraps it."""

    def __init__(
        self,
        clock_ns: Callable[[], int] | None = None,
        batch_events_max: int = TIGERBEETLE_BATCH_EVENTS_MAX,
    ) -> None:
        if not 1 <= batch_events_max <= TIGERBEETLE_BATCH_EVENTS_MAX:
            raise InvalidValue(
                "batch_events_max", batch_events_max, f"must be 1..{TIGERBEETLE_BATCH_EVENTS_MAX}"
            )
        self.batch_events_max = batch_events_max
        self._clock_ns = clock_ns
        self._last_timestamp = 0
        self._accounts: dict[int, LedgerAccount] = {}
        # [debits_posted, credits_posted, debits_pending, credits_pending] per account id.
        self._balances: dict[int, list[int]] = {}
        self._closed: set[int] = set()
        self._transfers: dict[int, Transfer] = {}
        self._by_account: dict[int, list[Transfer]] = {}
        self._by_ledger_ud32: dict[tuple[int, int], list[int]] = {}
        self._by_ledger: dict[int, list[int]] = {}
        self._transfers_by_ledger: dict[int, list[Transfer]] = {}
        self._pending_status: dict[int, str] = {}
        self._expiries: list[tuple[int, int, int]] = []  # (expires_at, timestamp, id) heap
        self._failed_transfer_ids: set[int] = set()
        self._batch_failed_ids: list[int] = []
        # Undo log of the batch in flight, newest last.
        self._undo: list[LedgerAccount | Transfer | _Expiry] = []

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

    # -- expiry ----------------------------------------------------------------------------

    def _expire_due(self, now: int) -> list[int]:
        """Release pending transfers whose timeout passed by ``now``, oldest expiry first."""
        expired: list[int] = []
        while self._expiries and self._expiries[0][0] <= now:
            if len(expired) == EXPIRIES_PER_BATCH_MAX:
                break
            _, _, transfer_id = heapq.heappop(self._expiries)
            if self._pending_status.get(transfer_id) != PENDING:
                continue  # posted, voided or rolled back since it was queued
            self._apply_expiry(self._transfers[transfer_id])
            expired.append(transfer_id)
        return expired

    def _apply_expiry(self, pending: Transfer) -> None:
        self._release_pending(pending)
        self._pending_status[pending.id] = EXPIRED
        self._reopen_closed_by(pending)
        self._undo.append(_Expiry(pending.id))

    def _undo_expiry(self, transfer_id: int) -> None:
        pending = self._transfers[transfer_id]
        assert self._pending_status[transfer_id] == EXPIRED
        self._balances[pending.debit_account_id][_DEBITS_PENDING] += pending.amount
        self._balances[pending.credit_account_id][_CREDITS_PENDING] += pending.amount
        self._pending_status[transfer_id] = PENDING
        self._close_by(pending)
        heapq.heappush(self._expiries, (_expires_at(pending), pending.timestamp, pending.id))

    # -- create_accounts -------------------------------------------------------------------

    def create_accounts(
        self, accounts: Sequence[LedgerAccount]
    ) -> tuple[list[AccountError], CommittedBatch]:
        require_batch_size("accounts", len(accounts), self.batch_events_max)
        require_supported_flags(accounts=accounts)
        results, expired = self._run_batch(accounts, self._create_account, _A.OK, _A)
        errors = [AccountError(index, result) for index, result in results]
        created = tuple(item for item in self._undo if isinstance(item, LedgerAccount))
        self._undo.clear()
        return errors, CommittedBatch(
            self._last_timestamp, accounts=created, expired_transfer_ids=expired
        )

    def _create_account(self, a: LedgerAccount, timestamp: int) -> CreateAccountResult:
        if a.timestamp != 0:
            return _A.TIMESTAMP_MUST_BE_ZERO
        if int(a.flags) & ~ACCOUNT_FLAGS_KNOWN:
            return _A.RESERVED_FLAG
        if a.id == 0:
            return _A.ID_MUST_NOT_BE_ZERO
        if a.id == U128_MAX:
            return _A.ID_MUST_NOT_BE_INT_MAX
        existing = self._accounts.get(a.id)
        if existing is not None:
            return _account_exists(a, self._current(existing))
        if int(a.flags) & _DMNEC and int(a.flags) & _CMNED:
            return _A.FLAGS_ARE_MUTUALLY_EXCLUSIVE
        if a.debits_pending != 0:
            return _A.DEBITS_PENDING_MUST_BE_ZERO
        if a.debits_posted != 0:
            return _A.DEBITS_POSTED_MUST_BE_ZERO
        if a.credits_pending != 0:
            return _A.CREDITS_PENDING_MUST_BE_ZERO
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
        self._balances[account.id] = [0, 0, 0, 0]
        self._by_account[account.id] = []
        self._by_ledger_ud32.setdefault((account.ledger, account.user_data_32), []).append(
            account.id
        )
        self._by_ledger.setdefault(account.ledger, []).append(account.id)
        if int(account.flags) & _CLOSED:
            self._closed.add(account.id)
        self._undo.append(account)

    # -- create_transfers ------------------------------------------------------------------

    def create_transfers(
        self, transfers: Sequence[Transfer]
    ) -> tuple[list[TransferError], CommittedBatch]:
        require_batch_size("transfers", len(transfers), self.batch_events_max)
        require_supported_flags(transfers=transfers)
        failed_before = len(self._failed_transfer_ids)
        results, expired = self._run_batch(transfers, self._create_transfer, _T.OK, _T)
        errors = [TransferError(index, result) for index, result in results]
        created = tuple(item for item in self._undo if isinstance(item, Transfer))
        self._undo.clear()
        failed = tuple(self._batch_failed_ids)
        assert len(self._failed_transfer_ids) == failed_before + len(failed)
        return errors, CommittedBatch(
            self._last_timestamp,
            transfers=created,
            failed_transfer_ids=failed,
            expired_transfer_ids=expired,
        )

    def _create_transfer(self, t: Transfer, timestamp: int) -> CreateTransferResult:
        if t.timestamp != 0:
            return _T.TIMESTAMP_MUST_BE_ZERO
        flags = int(t.flags)
        if flags & ~TRANSFER_FLAGS_KNOWN:
            return _T.RESERVED_FLAG
        if t.id == 0:
            return _T.ID_MUST_NOT_BE_ZERO
        if t.id == U128_MAX:
            return _T.ID_MUST_NOT_BE_INT_MAX
        existing = self._transfers.get(t.id)
        if existing is not None:
            return self._transfer_exists(t, existing)
        if t.id in self._failed_transfer_ids:
            return _T.ID_ALREADY_FAILED
        if flags & (_POST | _VOID):
            return self._post_or_void(t, timestamp)
        result = _check_transfer_fields(t, flags)
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
        if dr.id in self._closed:
            return _T.DEBIT_ACCOUNT_ALREADY_CLOSED
        if cr.id in self._closed:
            return _T.CREDIT_ACCOUNT_ALREADY_CLOSED
        dr_balance = self._balances[dr.id]
        cr_balance = self._balances[cr.id]
        amount = t.amount
        if flags & _PENDING:
            if dr_balance[_DEBITS_PENDING] + amount > U128_MAX:
                return _T.OVERFLOWS_DEBITS_PENDING
            if cr_balance[_CREDITS_PENDING] + amount > U128_MAX:
                return _T.OVERFLOWS_CREDITS_PENDING
        if dr_balance[_DEBITS] + amount > U128_MAX:
            return _T.OVERFLOWS_DEBITS_POSTED
        if cr_balance[_CREDITS] + amount > U128_MAX:
            return _T.OVERFLOWS_CREDITS_POSTED
        dr_debits = dr_balance[_DEBITS] + dr_balance[_DEBITS_PENDING] + amount
        cr_credits = cr_balance[_CREDITS] + cr_balance[_CREDITS_PENDING] + amount
        if dr_debits > U128_MAX:
            return _T.OVERFLOWS_DEBITS
        if cr_credits > U128_MAX:
            return _T.OVERFLOWS_CREDITS
        if t.timeout and timestamp + t.timeout * NS_PER_S > TIMESTAMP_MAX_NS:
            return _T.OVERFLOWS_TIMEOUT
        if int(dr.flags) & _DMNEC and dr_debits > dr_balance[_CREDITS]:
            return _T.EXCEEDS_CREDITS
        if int(cr.flags) & _CMNED and cr_credits > cr_balance[_DEBITS]:
            return _T.EXCEEDS_DEBITS
        self._insert_transfer(_stamped(t, timestamp))
        return _T.OK

    def _post_or_void(self, t: Transfer, timestamp: int) -> CreateTransferResult:
        """Post or void ``t.pending_id`` (the checks after ``id_already_failed``)."""
        flags = int(t.flags)
        if (flags & _POST and flags & _VOID) or flags & _NOT_WITH_POST_OR_VOID:
            return _T.FLAGS_ARE_MUTUALLY_EXCLUSIVE
        if t.pending_id == 0:
            return _T.PENDING_ID_MUST_NOT_BE_ZERO
        if t.pending_id == U128_MAX:
            return _T.PENDING_ID_MUST_NOT_BE_INT_MAX
        if t.pending_id == t.id:
            return _T.PENDING_ID_MUST_BE_DIFFERENT
        if t.timeout != 0:
            return _T.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER
        p = self._transfers.get(t.pending_id)
        if p is None:
            return _T.PENDING_TRANSFER_NOT_FOUND
        if not int(p.flags) & _PENDING:
            return _T.PENDING_TRANSFER_NOT_PENDING
        if t.debit_account_id not in (0, p.debit_account_id):
            return _T.PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID
        if t.credit_account_id not in (0, p.credit_account_id):
            return _T.PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID
        if t.ledger not in (0, p.ledger):
            return _T.PENDING_TRANSFER_HAS_DIFFERENT_LEDGER
        if t.code not in (0, p.code):
            return _T.PENDING_TRANSFER_HAS_DIFFERENT_CODE
        is_post = bool(flags & _POST)
        amount = _post_void_amount(t, p)
        if amount > p.amount:
            return _T.EXCEEDS_PENDING_TRANSFER_AMOUNT
        if not is_post and amount < p.amount:
            return _T.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT
        status = self._pending_status[p.id]
        if status == POSTED:
            return _T.PENDING_TRANSFER_ALREADY_POSTED
        if status == VOIDED:
            return _T.PENDING_TRANSFER_ALREADY_VOIDED
        if status == EXPIRED or (p.timeout and _expires_at(p) <= timestamp):
            return _T.PENDING_TRANSFER_EXPIRED
        if is_post and p.debit_account_id in self._closed:
            return _T.DEBIT_ACCOUNT_ALREADY_CLOSED
        if is_post and p.credit_account_id in self._closed:
            return _T.CREDIT_ACCOUNT_ALREADY_CLOSED
        self._insert_transfer(_resolved(t, p, amount, timestamp))
        return _T.OK

    def _insert_transfer(self, transfer: Transfer) -> None:
        flags = int(transfer.flags)
        dr_id, cr_id, amount = (
            transfer.debit_account_id,
            transfer.credit_account_id,
            transfer.amount,
        )
        if not flags & _TWO_PHASE:
            self._balances[dr_id][_DEBITS] += amount
            self._balances[cr_id][_CREDITS] += amount
        elif flags & _PENDING:
            self._balances[dr_id][_DEBITS_PENDING] += amount
            self._balances[cr_id][_CREDITS_PENDING] += amount
            self._pending_status[transfer.id] = PENDING
            self._close_by(transfer)
            if transfer.timeout:
                entry = (_expires_at(transfer), transfer.timestamp, transfer.id)
                heapq.heappush(self._expiries, entry)
        else:
            pending = self._transfers[transfer.pending_id]
            self._release_pending(pending)
            if flags & _POST:
                self._balances[dr_id][_DEBITS] += amount
                self._balances[cr_id][_CREDITS] += amount
                self._pending_status[pending.id] = POSTED
            else:
                self._pending_status[pending.id] = VOIDED
                self._reopen_closed_by(pending)
        self._transfers[transfer.id] = transfer
        self._by_account[dr_id].append(transfer)
        self._by_account[cr_id].append(transfer)
        self._transfers_by_ledger.setdefault(transfer.ledger, []).append(transfer)
        self._undo.append(transfer)

    def _release_pending(self, pending: Transfer) -> None:
        self._balances[pending.debit_account_id][_DEBITS_PENDING] -= pending.amount
        self._balances[pending.credit_account_id][_CREDITS_PENDING] -= pending.amount

    def _close_by(self, pending: Transfer) -> None:
        if int(pending.flags) & _CLOSING_DEBIT:
            self._closed.add(pending.debit_account_id)
        if int(pending.flags) & _CLOSING_CREDIT:
            self._closed.add(pending.credit_account_id)

    def _reopen_closed_by(self, pending: Transfer) -> None:
        if int(pending.flags) & _CLOSING_DEBIT:
            self._closed.discard(pending.debit_account_id)
        if int(pending.flags) & _CLOSING_CREDIT:
            self._closed.discard(pending.credit_account_id)

    def _transfer_exists(self, t: Transfer, e: Transfer) -> CreateTransferResult:
        if int(t.flags) != int(e.flags):
            return _T.EXISTS_WITH_DIFFERENT_FLAGS
        if t.pending_id != e.pending_id:
            return _T.EXISTS_WITH_DIFFERENT_PENDING_ID
        if t.timeout != e.timeout:
            return _T.EXISTS_WITH_DIFFERENT_TIMEOUT
        if int(e.flags) & (_POST | _VOID):
            return _post_or_void_exists(t, e, self._transfers[e.pending_id])
        return _transfer_exists(t, e)

    # -- the batch loop shared by both operations ------------------------------------------

    def _run_batch(
        self,
        events: Sequence[_Event],
        create: Callable[[_Event, int], _Result],
        ok: _Result,
        results_enum: type[_Result],
    ) -> tuple[list[tuple[int, _Result]], tuple[int, ...]]:
        """TigerBeetle's ``execute_create``: per-event results with linked-chain rollback."""
        assert not self._undo
        self._batch_failed_ids = []
        count = len(events)
        if count == 0:
            return [], ()
        batch_timestamp = self._reserve_timestamps(count)
        try:
            expired = tuple(self._expire_due(batch_timestamp - count + 1))
            results = self._apply_events(events, create, ok, results_enum, batch_timestamp)
            return results, expired
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
                if result in TRANSIENT_TRANSFER_RESULTS:
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
            elif isinstance(item, _Expiry):
                self._undo_expiry(item.transfer_id)
            else:
                self._remove_account(item)

    def _remove_transfer(self, transfer: Transfer) -> None:
        flags = int(transfer.flags)
        dr_id, cr_id, amount = (
            transfer.debit_account_id,
            transfer.credit_account_id,
            transfer.amount,
        )
        if not flags & _TWO_PHASE:
            self._balances[dr_id][_DEBITS] -= amount
            self._balances[cr_id][_CREDITS] -= amount
        elif flags & _PENDING:
            self._balances[dr_id][_DEBITS_PENDING] -= amount
            self._balances[cr_id][_CREDITS_PENDING] -= amount
            del self._pending_status[transfer.id]
            self._reopen_closed_by(transfer)  # lazily dropped from the expiry heap
        else:
            pending = self._transfers[transfer.pending_id]
            self._balances[pending.debit_account_id][_DEBITS_PENDING] += pending.amount
            self._balances[pending.credit_account_id][_CREDITS_PENDING] += pending.amount
            if flags & _POST:
                self._balances[dr_id][_DEBITS] -= amount
                self._balances[cr_id][_CREDITS] -= amount
            else:
                self._close_by(pending)
            self._pending_status[pending.id] = PENDING
        del self._transfers[transfer.id]
        assert self._by_account[cr_id].pop() is transfer
        assert self._by_account[dr_id].pop() is transfer
        assert self._transfers_by_ledger[transfer.ledger].pop() is transfer

    def _remove_account(self, account: LedgerAccount) -> None:
        assert self._balances.pop(account.id) == [0, 0, 0, 0]
        assert self._by_account.pop(account.id) == []
        del self._accounts[account.id]
        self._closed.discard(account.id)
        assert self._by_ledger_ud32[(account.ledger, account.user_data_32)].pop() == account.id
        assert self._by_ledger[account.ledger].pop() == account.id

    def undo_batch(self, batch: CommittedBatch) -> None:
        """Take back a batch the journal could not persist, newest change first."""
        for transfer in reversed(batch.transfers):
            self._remove_transfer(transfer)
        for account in reversed(batch.accounts):
            self._remove_account(account)
        for transfer_id in reversed(batch.expired_transfer_ids):
            self._undo_expiry(transfer_id)
        self._failed_transfer_ids.difference_update(batch.failed_transfer_ids)

    # -- replay ----------------------------------------------------------------------------

    def replay(self, batch: CommittedBatch) -> None:
        """Re-apply a journaled batch, checking it could have been committed here."""
        for transfer_id in batch.expired_transfer_ids:
            pending = self._transfers.get(transfer_id)
            if (
                pending is None
                or self._pending_status.get(transfer_id) != PENDING
                or not pending.timeout
                or _expires_at(pending) > batch.batch_timestamp
            ):
                raise ReplayMismatch(f"pending transfer {transfer_id} cannot expire here")
            self._apply_expiry(pending)
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
        if not (t.ledger == dr.ledger == cr.ledger and 0 < t.timestamp <= batch_timestamp):
            return False
        flags = int(t.flags)
        if flags & (_POST | _VOID):
            pending = self._transfers.get(t.pending_id)
            return (
                pending is not None
                and self._pending_status.get(pending.id) == PENDING
                and (pending.debit_account_id, pending.credit_account_id) == (dr.id, cr.id)
                and t.amount <= pending.amount
            )
        if dr.id in self._closed or cr.id in self._closed:
            return False
        dr_balance, cr_balance = self._balances[dr.id], self._balances[cr.id]
        dr_debits = dr_balance[_DEBITS] + dr_balance[_DEBITS_PENDING] + t.amount
        cr_credits = cr_balance[_CREDITS] + cr_balance[_CREDITS_PENDING] + t.amount
        return (
            dr_debits <= U128_MAX
            and cr_credits <= U128_MAX
            and not (int(dr.flags) & _DMNEC and dr_debits > dr_balance[_CREDITS])
            and not (int(cr.flags) & _CMNED and cr_credits > cr_balance[_DEBITS])
        )

    # -- reads -----------------------------------------------------------------------------

    def _current(self, account: LedgerAccount) -> LedgerAccount:
        """The account as TigerBeetle reports it: balances, and CLOSED as it is now."""
        debits, credits, debits_pending, credits_pending = self._balances[account.id]
        flags = int(account.flags) & ~_CLOSED
        if account.id in self._closed:
            flags |= _CLOSED
        return attrs.evolve(
            account,
            flags=AccountFlags(flags),
            debits_posted=debits,
            credits_posted=credits,
            debits_pending=debits_pending,
            credits_pending=credits_pending,
        )

    def pending_status(self, transfer_id: int) -> str | None:
        """``pending``/``posted``/``voided``/``expired`` for a pending transfer, else None."""
        return self._pending_status.get(transfer_id)

    def lookup_accounts(self, ids: Sequence[int]) -> list[LedgerAccount]:
        found = (self._accounts.get(account_id) for account_id in ids)
        return [self._current(account) for account in found if account is not None]

    def lookup_transfers(self, ids: Sequence[int]) -> list[Transfer]:
        found = (self._transfers.get(transfer_id) for transfer_id in ids)
        return [transfer for transfer in found if transfer is not None]

    def query_accounts(self, ledger: int, user_data_32: int | None = None) -> list[LedgerAccount]:
        require_query_ledger(ledger)
        if user_data_32 is None:
            ids = self._by_ledger.get(ledger, [])
        else:
            ids = self._by_ledger_ud32.get((ledger, user_data_32), [])
        return [self._current(self._accounts[account_id]) for account_id in ids]

    def query_transfers(self, ledger: int) -> list[Transfer]:
        require_query_ledger(ledger)
        return list(self._transfers_by_ledger.get(ledger, ()))

    def get_account_transfers(self, account_id: int) -> list[Transfer]:
        return list(self._by_account.get(account_id, ()))

    def scan_accounts(self) -> list[LedgerAccount]:
        return [self._current(account) for account in self._accounts.values()]

    def scan_transfers(self) -> list[Transfer]:
        return list(self._transfers.values())


def _copier(cls: type[Any]) -> Callable[[Any, int], Any]:
    """An unrolled copy-with-timestamp for ``cls`` (no validators, no per-field loop)."""
    names = [field.name for field in attrs.fields(cls) if field.name != "timestamp"]
    lines = ["def copy(value, timestamp):", "    stamped = new(cls)"]
    lines += [f"    set_(stamped, {name!r}, value.{name})" for name in names]
    lines += ["    set_(stamped, 'timestamp', timestamp)", "    return stamped"]
    namespace: dict[str, object] = {"new": object.__new__, "set_": object.__setattr__, "cls": cls}
    exec("\n".join(lines), namespace)  # generated from the class's own field names
    copy = namespace["copy"]
    assert callable(copy)
    return copy


# The hot path: one copy per created object, so unrolled rather than a loop over fields.
_COPY = {Transfer: _copier(Transfer), LedgerAccount: _copier(LedgerAccount)}


def _expires_at(pending: Transfer) -> int:
    return pending.timestamp + pending.timeout * NS_PER_S


def _post_void_amount(t: Transfer, p: Transfer) -> int:
    """A void of 0 means the whole pending amount; a post of AMOUNT_MAX likewise."""
    if int(t.flags) & _VOID:
        return t.amount or p.amount
    return p.amount if t.amount == AMOUNT_MAX else t.amount


def _resolved(t: Transfer, p: Transfer, amount: int, timestamp: int) -> Transfer:
    """The post/void as TigerBeetle stores it: the pending's accounts, ledger and code, its
    user data where the post/void left them zero, no timeout, the amount actually moved."""
    return _stamped(
        attrs.evolve(
            t,
            debit_account_id=p.debit_account_id,
            credit_account_id=p.credit_account_id,
            amount=amount,
            ledger=p.ledger,
            code=p.code,
            user_data_128=t.user_data_128 or p.user_data_128,
            user_data_64=t.user_data_64 or p.user_data_64,
            user_data_32=t.user_data_32 or p.user_data_32,
        ),
        timestamp,
    )


def _stamped(value: _Event, timestamp: int) -> _Event:
    """A copy of an already validated value carrying the ledger's timestamp.

    ``attrs.evolve`` would re-run every field validator — more than half of the twin's time
    per transfer — for fields that were validated when the value was built; only the
    timestamp is new, and it is range-checked here.
    """
    assert 0 < timestamp <= TIMESTAMP_MAX_NS, timestamp
    return cast(_Event, _COPY[type(value)](value, timestamp))


def _check_transfer_fields(t: Transfer, flags: int) -> CreateTransferResult:
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
    if t.pending_id != 0:
        return _T.PENDING_ID_MUST_BE_ZERO
    if not flags & _PENDING:
        if t.timeout != 0:
            return _T.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER
        if flags & (_CLOSING_DEBIT | _CLOSING_CREDIT):
            return _T.CLOSING_TRANSFER_MUST_BE_PENDING
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
    """After flags, pending_id and timeout matched, for a transfer that is no post/void."""
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


def _post_or_void_exists(t: Transfer, e: Transfer, p: Transfer) -> CreateTransferResult:
    """A resubmitted post/void: fields it left zero compare as the pending's."""
    if t.debit_account_id not in (0, e.debit_account_id):
        return _T.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID
    if t.credit_account_id not in (0, e.credit_account_id):
        return _T.EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID
    if _post_void_amount(t, p) != e.amount:
        return _T.EXISTS_WITH_DIFFERENT_AMOUNT
    if (t.user_data_128 or p.user_data_128) != e.user_data_128:
        return _T.EXISTS_WITH_DIFFERENT_USER_DATA_128
    if (t.user_data_64 or p.user_data_64) != e.user_data_64:
        return _T.EXISTS_WITH_DIFFERENT_USER_DATA_64
    if (t.user_data_32 or p.user_data_32) != e.user_data_32:
        return _T.EXISTS_WITH_DIFFERENT_USER_DATA_32
    if t.ledger not in (0, e.ledger):
        return _T.EXISTS_WITH_DIFFERENT_LEDGER
    if t.code not in (0, e.code):
        return _T.EXISTS_WITH_DIFFERENT_CODE
    return _T.EXISTS
