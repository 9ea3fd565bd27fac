"""The ledger port: the subset of TigerBeetle's API the exchange core uses.

Results follow TigerBeetle: ``create_*`` return only the failed events, each as
``(index, result)``; an empty list means every event was applied. A batch whose events
carry the LINKED flag is applied all or nothing per chain.

Every adapter enforces the same batch limit (``batch_events_max``, from
``AX_TIGERBEETLE_BATCH_MAX``): a larger batch raises ``LedgerBatchTooLarge`` and changes
nothing. Any other failure to reach the ledger raises ``LedgerUnavailable``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Protocol

import attrs

from axdomain.errors import InvalidValue
from axdomain.ledger.values import (
    U32_MAX,
    AccountFlags,
    LedgerAccount,
    Transfer,
    TransferFlags,
)

# TigerBeetle's largest batch with its default 1 MiB message (128-byte events); a cluster
# built with a smaller message size accepts fewer (256 KiB: 2045; 32 KiB: 253).
TIGERBEETLE_BATCH_EVENTS_MAX = 8189
# The flags TigerBeetle knows but the port does not implement: refused before any I/O.
UNSUPPORTED_ACCOUNT_FLAGS = AccountFlags.IMPORTED
UNSUPPORTED_TRANSFER_FLAGS = (
    TransferFlags.BALANCING_DEBIT | TransferFlags.BALANCING_CREDIT | TransferFlags.IMPORTED
)

_UNSUPPORTED_ACCOUNT = int(UNSUPPORTED_ACCOUNT_FLAGS)  # plain ints: checked on the hot path
_UNSUPPORTED_TRANSFER = int(UNSUPPORTED_TRANSFER_FLAGS)


class LedgerBatchTooLarge(InvalidValue):
    """A batch above the configured limit (TigerBeetle's ``too_much_data``); nothing applied."""


class LedgerUnavailable(Exception):
    """The ledger could not be asked (closed or evicted client, wrong release, bad request
    framing, a storage failure): the outcome of the call is unknown or nothing was done."""


def require_batch_size(field: str, count: int, batch_events_max: int) -> None:
    if count > batch_events_max:
        raise LedgerBatchTooLarge(
            field,
            count,
            f"a batch holds at most {batch_events_max} events (AX_TIGERBEETLE_BATCH_MAX)",
        )


def require_supported_flags(
    accounts: Sequence[LedgerAccount] = (), transfers: Sequence[Transfer] = ()
) -> None:
    """Imported events and balancing transfers are outside the port: refused up front by
    every adapter alike (reserved bits are not: the ledger answers ``reserved_flag``)."""
    unsupported_account, unsupported_transfer = _UNSUPPORTED_ACCOUNT, _UNSUPPORTED_TRANSFER
    for account in accounts:
        if int(account.flags) & unsupported_account:
            raise InvalidValue("flags", account.flags, "imported accounts are not supported")
    for transfer in transfers:
        if int(transfer.flags) & unsupported_transfer:
            raise InvalidValue("flags", transfer.flags, "balancing/imported are not supported")


def require_query_ledger(ledger: int) -> int:
    """TigerBeetle reads a zero filter field as "any"; the port's filters are exact, so a
    ledger of 0 (which no account can have) is a caller bug, not a whole-cluster scan."""
    if isinstance(ledger, bool) or not isinstance(ledger, int) or not 0 < ledger <= U32_MAX:
        raise InvalidValue("ledger", ledger, f"must be in [1, {U32_MAX}]")
    return ledger


class CreateAccountResult(enum.Enum):
    """Names match TigerBeetle's ``CreateAccountResult`` (the subset we can produce)."""

    OK = "ok"
    LINKED_EVENT_FAILED = "linked_event_failed"
    LINKED_EVENT_CHAIN_OPEN = "linked_event_chain_open"
    TIMESTAMP_MUST_BE_ZERO = "timestamp_must_be_zero"
    RESERVED_FLAG = "reserved_flag"
    ID_MUST_NOT_BE_ZERO = "id_must_not_be_zero"
    ID_MUST_NOT_BE_INT_MAX = "id_must_not_be_int_max"
    FLAGS_ARE_MUTUALLY_EXCLUSIVE = "flags_are_mutually_exclusive"
    DEBITS_PENDING_MUST_BE_ZERO = "debits_pending_must_be_zero"
    DEBITS_POSTED_MUST_BE_ZERO = "debits_posted_must_be_zero"
    CREDITS_PENDING_MUST_BE_ZERO = "credits_pending_must_be_zero"
    CREDITS_POSTED_MUST_BE_ZERO = "credits_posted_must_be_zero"
    LEDGER_MUST_NOT_BE_ZERO = "ledger_must_not_be_zero"
    CODE_MUST_NOT_BE_ZERO = "code_must_not_be_zero"
    EXISTS_WITH_DIFFERENT_FLAGS = "exists_with_different_flags"
    EXISTS_WITH_DIFFERENT_USER_DATA_128 = "exists_with_different_user_data_128"
    EXISTS_WITH_DIFFERENT_USER_DATA_64 = "exists_with_different_user_data_64"
    EXISTS_WITH_DIFFERENT_USER_DATA_32 = "exists_with_different_user_data_32"
    EXISTS_WITH_DIFFERENT_LEDGER = "exists_with_different_ledger"
    EXISTS_WITH_DIFFERENT_CODE = "exists_with_different_code"
    EXISTS = "exists"


class CreateTransferResult(enum.Enum):
    """Names match TigerBeetle's ``CreateTransferResult`` (the subset we can produce)."""

    OK = "ok"
    LINKED_EVENT_FAILED = "linked_event_failed"
    LINKED_EVENT_CHAIN_OPEN = "linked_event_chain_open"
    ID_MUST_NOT_BE_ZERO = "id_must_not_be_zero"
    ID_MUST_NOT_BE_INT_MAX = "id_must_not_be_int_max"
    ID_ALREADY_FAILED = "id_already_failed"
    TIMESTAMP_MUST_BE_ZERO = "timestamp_must_be_zero"
    RESERVED_FLAG = "reserved_flag"
    FLAGS_ARE_MUTUALLY_EXCLUSIVE = "flags_are_mutually_exclusive"
    PENDING_ID_MUST_BE_ZERO = "pending_id_must_be_zero"
    PENDING_ID_MUST_NOT_BE_ZERO = "pending_id_must_not_be_zero"
    PENDING_ID_MUST_NOT_BE_INT_MAX = "pending_id_must_not_be_int_max"
    PENDING_ID_MUST_BE_DIFFERENT = "pending_id_must_be_different"
    TIMEOUT_RESERVED_FOR_PENDING_TRANSFER = "timeout_reserved_for_pending_transfer"
    CLOSING_TRANSFER_MUST_BE_PENDING = "closing_transfer_must_be_pending"
    PENDING_TRANSFER_NOT_FOUND = "pending_transfer_not_found"
    PENDING_TRANSFER_NOT_PENDING = "pending_transfer_not_pending"
    PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID = (
        "pending_transfer_has_different_debit_account_id"
    )
    PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID = (
        "pending_transfer_has_different_credit_account_id"
    )
    PENDING_TRANSFER_HAS_DIFFERENT_LEDGER = "pending_transfer_has_different_ledger"
    PENDING_TRANSFER_HAS_DIFFERENT_CODE = "pending_transfer_has_different_code"
    EXCEEDS_PENDING_TRANSFER_AMOUNT = "exceeds_pending_transfer_amount"
    PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT = "pending_transfer_has_different_amount"
    PENDING_TRANSFER_ALREADY_POSTED = "pending_transfer_already_posted"
    PENDING_TRANSFER_ALREADY_VOIDED = "pending_transfer_already_voided"
    PENDING_TRANSFER_EXPIRED = "pending_transfer_expired"
    DEBIT_ACCOUNT_ALREADY_CLOSED = "debit_account_already_closed"
    CREDIT_ACCOUNT_ALREADY_CLOSED = "credit_account_already_closed"
    EXISTS_WITH_DIFFERENT_PENDING_ID = "exists_with_different_pending_id"
    EXISTS_WITH_DIFFERENT_TIMEOUT = "exists_with_different_timeout"
    OVERFLOWS_DEBITS_PENDING = "overflows_debits_pending"
    OVERFLOWS_CREDITS_PENDING = "overflows_credits_pending"
    OVERFLOWS_DEBITS = "overflows_debits"
    OVERFLOWS_CREDITS = "overflows_credits"
    OVERFLOWS_TIMEOUT = "overflows_timeout"
    DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO = "debit_account_id_must_not_be_zero"
    DEBIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX = "debit_account_id_must_not_be_int_max"
    CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO = "credit_account_id_must_not_be_zero"
    CREDIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX = "credit_account_id_must_not_be_int_max"
    ACCOUNTS_MUST_BE_DIFFERENT = "accounts_must_be_different"
    LEDGER_MUST_NOT_BE_ZERO = "ledger_must_not_be_zero"
    CODE_MUST_NOT_BE_ZERO = "code_must_not_be_zero"
    DEBIT_ACCOUNT_NOT_FOUND = "debit_account_not_found"
    CREDIT_ACCOUNT_NOT_FOUND = "credit_account_not_found"
    ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER = "accounts_must_have_the_same_ledger"
    TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS = (
        "transfer_must_have_the_same_ledger_as_accounts"
    )
    EXISTS_WITH_DIFFERENT_FLAGS = "exists_with_different_flags"
    EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID = "exists_with_different_debit_account_id"
    EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID = "exists_with_different_credit_account_id"
    EXISTS_WITH_DIFFERENT_AMOUNT = "exists_with_different_amount"
    EXISTS_WITH_DIFFERENT_USER_DATA_128 = "exists_with_different_user_data_128"
    EXISTS_WITH_DIFFERENT_USER_DATA_64 = "exists_with_different_user_data_64"
    EXISTS_WITH_DIFFERENT_USER_DATA_32 = "exists_with_different_user_data_32"
    EXISTS_WITH_DIFFERENT_LEDGER = "exists_with_different_ledger"
    EXISTS_WITH_DIFFERENT_CODE = "exists_with_different_code"
    EXISTS = "exists"
    OVERFLOWS_DEBITS_POSTED = "overflows_debits_posted"
    OVERFLOWS_CREDITS_POSTED = "overflows_credits_posted"
    EXCEEDS_CREDITS = "exceeds_credits"
    EXCEEDS_DEBITS = "exceeds_debits"


# Results that depend on state which may change: TigerBeetle burns the transfer id on them
# (a retry with the same id answers id_already_failed).
TRANSIENT_TRANSFER_RESULTS = frozenset(
    {
        CreateTransferResult.DEBIT_ACCOUNT_NOT_FOUND,
        CreateTransferResult.CREDIT_ACCOUNT_NOT_FOUND,
        CreateTransferResult.PENDING_TRANSFER_NOT_FOUND,
        CreateTransferResult.DEBIT_ACCOUNT_ALREADY_CLOSED,
        CreateTransferResult.CREDIT_ACCOUNT_ALREADY_CLOSED,
        CreateTransferResult.EXCEEDS_CREDITS,
        CreateTransferResult.EXCEEDS_DEBITS,
    }
)


@attrs.frozen
class AccountError:
    index: int
    result: CreateAccountResult


@attrs.frozen
class TransferError:
    index: int
    result: CreateTransferResult


class LedgerPort(Protocol):
    @property
    def batch_events_max(self) -> int:
        """The most events one create call (or one lookup) may carry on this ledger."""

    def create_accounts(self, accounts: Sequence[LedgerAccount]) -> list[AccountError]: ...

    def create_transfers(self, transfers: Sequence[Transfer]) -> list[TransferError]: ...

    def lookup_accounts(self, ids: Sequence[int]) -> list[LedgerAccount]:
        """Found accounts with their current balances, in request order; unknown ids skipped."""

    def lookup_transfers(self, ids: Sequence[int]) -> list[Transfer]: ...

    def query_accounts(self, ledger: int, user_data_32: int | None = None) -> list[LedgerAccount]:
        """Accounts on ``ledger`` (1..2**32-1, never "any") whose ``user_data_32`` equals the
        given value (0 included: exact), or every account of the ledger for ``None``; in
        creation order. The per-contract sweep and the own-ledger scan at start."""

    def query_transfers(self, ledger: int) -> list[Transfer]:
        """Every transfer on ``ledger`` (1..2**32-1) in commit order."""

    def get_account_transfers(self, account_id: int) -> list[Transfer]:
        """Transfers debiting or crediting the account, in commit (timestamp) order."""

    def scan_accounts(self) -> list[LedgerAccount]:
        """Every account of the whole ledger with balances, in creation order. On a shared
        cluster this includes other services' accounts: start-up reads only its own
        (``axdomain.ledger.ownership.scan_own_ledger``)."""

    def scan_transfers(self) -> list[Transfer]:
        """Every committed transfer of the whole ledger in commit order (see above)."""
