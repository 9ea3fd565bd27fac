"""Decoding a raw ledger transfer into a typed ledger event.

Contract identity lives in the account-id bits, not in the ledger number, so the decoder
re-derives it from both accounts and refuses any transfer whose legs disagree: this is the
read-side half of the firewall TigerBeetle's per-ledger rule used to give for free. Every
transfer code decodes to its own kind; DEPOSIT, WITHDRAWAL and FUNDING in particular never
collapse into one another (a bug the source design records in an earlier decoder).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import ClassVar

import attrs

from axdomain.contracts import ContractId
from axdomain.errors import InvalidValue
from axdomain.ids import SYSTEM_ACCOUNTS, AccountId
from axdomain.ledger.values import (
    USD_LEDGER,
    Transfer,
    TransferCode,
    TransferFlags,
    unpack_price_qty,
)
from axdomain.ledger_ids import TbAccountRef, decode_tb_account_id

LOW64_MASK = (1 << 64) - 1
QTY_CODES = frozenset({TransferCode.TRADE_QTY, TransferCode.SETTLEMENT_QTY})
BASIS_CODES = frozenset({TransferCode.TRADE_BASIS, TransferCode.BASIS_RESET})
USD_CODES = frozenset(
    {
        TransferCode.REALIZED_PNL,
        TransferCode.FEE,
        TransferCode.DEPOSIT,
        TransferCode.WITHDRAWAL,
        TransferCode.FUNDING,
        TransferCode.INTERNAL_TRANSFER,
    }
)


class TransferDecodeError(InvalidValue):
    """A transfer that is not a well-formed instance of its code (or has no known code)."""


class Phase(enum.Enum):
    """Where a transfer stands in TigerBeetle's two-phase protocol."""

    SINGLE = "single"  # posted at once
    PENDING = "pending"  # reserves: moves debits_pending / credits_pending only
    POST = "post"  # moves its amount into the posted balances, releases the reservation
    VOID = "void"  # releases the reservation, posts nothing


_PENDING = int(TransferFlags.PENDING)
_POST = int(TransferFlags.POST_PENDING_TRANSFER)
_VOID = int(TransferFlags.VOID_PENDING_TRANSFER)
_CLOSING = int(TransferFlags.CLOSING_DEBIT | TransferFlags.CLOSING_CREDIT)
_PHASE_FLAGS = _PENDING | _POST | _VOID
# Flags a committed exchange transfer may carry; anything else is not ours to fold.
_DECODABLE_FLAGS = int(TransferFlags.LINKED) | _PHASE_FLAGS | _CLOSING
# Two-phase withdrawals are the only reservations; zero-amount closing transfers are pending
# qty/basis transfers (SETTLEMENT_QTY, BASIS_RESET) that never post.
TWO_PHASE_CODES = frozenset({TransferCode.WITHDRAWAL})
CLOSING_CODES = frozenset({TransferCode.SETTLEMENT_QTY, TransferCode.BASIS_RESET})


def phase_of(transfer: Transfer) -> Phase:
    flags = int(transfer.flags)
    if flags & _PENDING:
        return Phase.PENDING
    if flags & _POST:
        return Phase.POST
    if flags & _VOID:
        return Phase.VOID
    return Phase.SINGLE


def posted_amount(transfer: Transfer) -> int:
    """What the transfer moved into the posted balances (``debits_posted`` of the debit
    account, ``credits_posted`` of the credit account): its amount, except for a pending or
    voiding transfer, which post nothing. Every fold of posted nets must use this."""
    return 0 if int(transfer.flags) & (_PENDING | _VOID) else transfer.amount


def pending_delta(transfer: Transfer, pending_amount: int) -> int:
    """Change of the debit account's ``debits_pending`` (and the credit account's
    ``credits_pending``): ``+amount`` for a pending transfer, ``-pending_amount`` (the
    reserved amount of ``transfer.pending_id``) for a post or void, 0 otherwise. A timeout
    expiry releases ``-pending_amount`` too, with no transfer of its own."""
    flags = int(transfer.flags)
    if flags & _PENDING:
        return transfer.amount
    if flags & (_POST | _VOID):
        return -pending_amount
    return 0


@lru_cache(maxsize=65_536)
def _contract_part(low64: int) -> tuple[ContractId, bool]:
    """Cache the (contract, is_basis) half: a ledger holds few contracts, many accounts."""
    ref = decode_tb_account_id(low64 | (1 << 64))
    return ref.contract, ref.is_basis


def decode_ref(tb_id: int) -> TbAccountRef:
    """``decode_tb_account_id`` with the contract half memoised (hot in folds and checks)."""
    if isinstance(tb_id, int) and not isinstance(tb_id, bool) and 0 < tb_id <= (1 << 128) - 1:
        try:
            contract, is_basis = _contract_part(tb_id & LOW64_MASK)
            return TbAccountRef(AccountId(tb_id >> 64), contract, is_basis)
        except InvalidValue:
            pass
    return decode_tb_account_id(tb_id)


@attrs.frozen
class LedgerEvent:
    """One committed transfer, decoded. ``debit``/``credit`` are the decoded accounts."""

    KIND: ClassVar[TransferCode]

    transfer_id: int
    debit: TbAccountRef
    credit: TbAccountRef
    amount: int
    timestamp_ns: int
    linked: bool
    phase: Phase = Phase.SINGLE
    pending_id: int = 0  # the reservation a POST or VOID resolves
    closing: bool = False  # a zero-amount pending transfer that closes qty/basis accounts

    @property
    def kind(self) -> TransferCode:
        return self.KIND

    @property
    def posted_amount(self) -> int:
        """What moved between the posted balances (0 for a pending or a void)."""
        return 0 if self.phase in (Phase.PENDING, Phase.VOID) else self.amount

    @property
    def contract(self) -> ContractId:
        """The product contract for qty/basis legs; ``ContractId.usd()`` for USD legs."""
        return self.debit.contract


@attrs.frozen
class TradeQty(LedgerEvent):
    KIND: ClassVar[TransferCode] = TransferCode.TRADE_QTY
    price_micro_usd: int = 0


@attrs.frozen
class TradeBasis(LedgerEvent):
    KIND: ClassVar[TransferCode] = TransferCode.TRADE_BASIS


@attrs.frozen
class RealizedPnl(LedgerEvent):
    KIND: ClassVar[TransferCode] = TransferCode.REALIZED_PNL


@attrs.frozen
class Fee(LedgerEvent):
    KIND: ClassVar[TransferCode] = TransferCode.FEE


@attrs.frozen
class Deposit(LedgerEvent):
    KIND: ClassVar[TransferCode] = TransferCode.DEPOSIT


@attrs.frozen
class Withdrawal(LedgerEvent):
    KIND: ClassVar[TransferCode] = TransferCode.WITHDRAWAL


@attrs.frozen
class Funding(LedgerEvent):
    KIND: ClassVar[TransferCode] = TransferCode.FUNDING


@attrs.frozen
class SettlementQty(LedgerEvent):
    KIND: ClassVar[TransferCode] = TransferCode.SETTLEMENT_QTY
    price_micro_usd: int = 0


@attrs.frozen
class BasisReset(LedgerEvent):
    KIND: ClassVar[TransferCode] = TransferCode.BASIS_RESET


@attrs.frozen
class InternalTransfer(LedgerEvent):
    KIND: ClassVar[TransferCode] = TransferCode.INTERNAL_TRANSFER


EVENT_TYPES: dict[TransferCode, type[LedgerEvent]] = {
    cls.KIND: cls
    for cls in (
        TradeQty,
        TradeBasis,
        RealizedPnl,
        Fee,
        Deposit,
        Withdrawal,
        Funding,
        SettlementQty,
        BasisReset,
        InternalTransfer,
    )
}
assert set(EVENT_TYPES) == set(TransferCode), "every transfer code needs its own event kind"

# Which system account must sit on one side of each code (None: customer to customer).
_COUNTERPARTY: dict[TransferCode, AccountId | None] = {
    TransferCode.TRADE_QTY: None,
    TransferCode.TRADE_BASIS: SYSTEM_ACCOUNTS.AX_PNL,
    TransferCode.REALIZED_PNL: SYSTEM_ACCOUNTS.AX_PNL,
    TransferCode.FEE: SYSTEM_ACCOUNTS.AX_FEES,
    TransferCode.DEPOSIT: SYSTEM_ACCOUNTS.AX_CUSTODY,
    TransferCode.WITHDRAWAL: SYSTEM_ACCOUNTS.AX_CUSTODY,
    TransferCode.FUNDING: SYSTEM_ACCOUNTS.AX_FUNDING,
    TransferCode.SETTLEMENT_QTY: SYSTEM_ACCOUNTS.AX_SETTLEMENT,
    TransferCode.BASIS_RESET: SYSTEM_ACCOUNTS.AX_PNL,
    TransferCode.INTERNAL_TRANSFER: None,
}


def _fail(field: str, value: object, problem: str) -> TransferDecodeError:
    return TransferDecodeError(field, value, problem)


def _code_of(transfer: Transfer) -> TransferCode:
    try:
        return TransferCode(transfer.code)
    except ValueError:
        raise _fail("code", transfer.code, "unknown transfer code") from None


def _ref(field: str, tb_id: int) -> TbAccountRef:
    try:
        return decode_ref(tb_id)
    except InvalidValue as error:
        raise _fail(field, tb_id, f"not a ledger account id ({error.problem})") from None


def _check_shape(
    transfer: Transfer, code: TransferCode, debit: TbAccountRef, credit: TbAccountRef
) -> None:
    """Both legs on the same contract and kind of account, on that contract's ledger."""
    if debit.contract != credit.contract or debit.is_basis != credit.is_basis:
        raise _fail(
            "credit_account_id",
            transfer.credit_account_id,
            f"not the same contract/account kind as the debit account {debit.contract}",
        )
    is_usd = debit.contract.is_usd
    if code in USD_CODES and not is_usd:
        raise _fail("debit_account_id", transfer.debit_account_id, f"{code.name} is USD-only")
    if code in QTY_CODES and (is_usd or debit.is_basis):
        raise _fail("debit_account_id", transfer.debit_account_id, f"{code.name} needs qty")
    if code in BASIS_CODES and not debit.is_basis:
        raise _fail("debit_account_id", transfer.debit_account_id, f"{code.name} needs basis")
    expected_ledger = USD_LEDGER if is_usd else debit.ledger
    if transfer.ledger != expected_ledger:
        raise _fail("ledger", transfer.ledger, f"must be {expected_ledger} for {debit.contract}")
    if not is_usd and transfer.user_data_32 != debit.contract.date.value:
        raise _fail("user_data_32", transfer.user_data_32, "must be the contract date")


def _check_parties(
    transfer: Transfer, code: TransferCode, debit: TbAccountRef, credit: TbAccountRef
) -> None:
    system = _COUNTERPARTY[code]
    if debit.account_id == credit.account_id:
        raise _fail("credit_account_id", transfer.credit_account_id, "same account both sides")
    if code is TransferCode.DEPOSIT and debit.account_id != system:
        raise _fail("debit_account_id", transfer.debit_account_id, "a deposit debits custody")
    if code is TransferCode.WITHDRAWAL and credit.account_id != system:
        raise _fail("credit_account_id", transfer.credit_account_id, "withdrawal credits custody")
    if system is not None and system not in (debit.account_id, credit.account_id):
        raise _fail("transfer", transfer.id, f"{code.name} must have {system!r} on one side")
    if system is None and (debit.account_id.is_reserved or credit.account_id.is_reserved):
        raise _fail("transfer", transfer.id, f"{code.name} is between two customer accounts")


def _check_phase(transfer: Transfer, code: TransferCode) -> tuple[Phase, bool]:
    """Two-phase flags only where the exchange uses them: withdrawals (pending, post, void)
    and zero-amount pending closing transfers on qty/basis accounts."""
    flags = int(transfer.flags)
    if flags & ~_DECODABLE_FLAGS:
        raise _fail("flags", transfer.flags, "not a flag combination the exchange writes")
    phase = phase_of(transfer)
    if bin(flags & _PHASE_FLAGS).count("1") > 1:
        raise _fail("flags", transfer.flags, "pending, post and void exclude each other")
    closing = bool(flags & _CLOSING)
    if closing:
        if code not in CLOSING_CODES or phase is not Phase.PENDING or transfer.amount != 0:
            raise _fail("flags", transfer.flags, "closing is a zero pending qty/basis transfer")
    elif phase is not Phase.SINGLE and code not in TWO_PHASE_CODES:
        raise _fail("flags", transfer.flags, f"{code.name} is never two-phase")
    if (phase in (Phase.POST, Phase.VOID)) != (transfer.pending_id != 0):
        raise _fail("pending_id", transfer.pending_id, f"wrong for a {phase.value} transfer")
    if transfer.timeout and phase is not Phase.PENDING:
        raise _fail("timeout", transfer.timeout, "only a pending transfer has a timeout")
    return phase, closing


def decode_transfer(transfer: Transfer) -> LedgerEvent:
    """The typed event of one committed transfer; ``TransferDecodeError`` if inconsistent."""
    code = _code_of(transfer)
    debit = _ref("debit_account_id", transfer.debit_account_id)
    credit = _ref("credit_account_id", transfer.credit_account_id)
    _check_shape(transfer, code, debit, credit)
    _check_parties(transfer, code, debit, credit)
    phase, closing = _check_phase(transfer, code)
    args = (
        transfer.id,
        debit,
        credit,
        transfer.amount,
        transfer.user_data_64,
        bool(transfer.flags & TransferFlags.LINKED),
        phase,
        transfer.pending_id,
        closing,
    )
    if code in QTY_CODES:
        price, qty = unpack_price_qty(transfer.user_data_128)
        if qty != transfer.amount:
            raise _fail("user_data_128", transfer.user_data_128, "packed qty != amount")
        qty_type = TradeQty if code is TransferCode.TRADE_QTY else SettlementQty
        return qty_type(*args, price_micro_usd=price)
    return EVENT_TYPES[code](*args)


def split_chains(transfers: Sequence[Transfer]) -> Iterator[Sequence[Transfer]]:
    """Linked chains in commit order: each run ends at the first transfer without LINKED.

    A chain is the unit of atomicity, so it is also the unit of a ledger event for
    sequence numbers. A trailing run that is still open (last leg LINKED) is an error:
    TigerBeetle would have refused it, so a scan that contains one is corrupt.
    """
    start = 0
    for index, transfer in enumerate(transfers):
        if not transfer.flags & TransferFlags.LINKED:
            yield transfers[start : index + 1]
            start = index + 1
    if start != len(transfers):
        raise _fail("transfers", transfers[start].id, "linked chain left open")
