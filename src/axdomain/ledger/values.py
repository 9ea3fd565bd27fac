"""TigerBeetle-shaped ledger values: accounts, transfers, flags and the transfer codes.

Field names and widths follow TigerBeetle's so a value maps 1:1 onto the official client.
Amounts are u128 integers: qty in lots on product ledgers, micro-USD on the USD ledger.
"""

from __future__ import annotations

import enum

import attrs

from axdomain._checks import require_range

U16_MAX = (1 << 16) - 1
U32_MAX = (1 << 32) - 1
U64_MAX = (1 << 64) - 1
U128_MAX = (1 << 128) - 1
USD_LEDGER = 1
# A posting transfer whose amount is AMOUNT_MAX posts the whole pending amount (TigerBeetle).
AMOUNT_MAX = U128_MAX


class AccountFlags(enum.IntFlag):
    NONE = 0
    LINKED = 1 << 0
    DEBITS_MUST_NOT_EXCEED_CREDITS = 1 << 1
    CREDITS_MUST_NOT_EXCEED_DEBITS = 1 << 2
    HISTORY = 1 << 3
    IMPORTED = 1 << 4
    CLOSED = 1 << 5  # set by a closing transfer (or at creation); voiding that transfer clears it


ACCOUNT_FLAGS_KNOWN = 0b11_1111  # higher bits are reserved: the ledger answers reserved_flag


class TransferFlags(enum.IntFlag):
    NONE = 0
    LINKED = 1 << 0
    PENDING = 1 << 1
    POST_PENDING_TRANSFER = 1 << 2
    VOID_PENDING_TRANSFER = 1 << 3
    BALANCING_DEBIT = 1 << 4
    BALANCING_CREDIT = 1 << 5
    CLOSING_DEBIT = 1 << 6
    CLOSING_CREDIT = 1 << 7
    IMPORTED = 1 << 8


TRANSFER_FLAGS_KNOWN = 0b1_1111_1111  # higher bits are reserved: reserved_flag


class TransferCode(enum.IntEnum):
    """Stable wire codes: never renumber, only append."""

    TRADE_QTY = 1
    TRADE_BASIS = 2
    REALIZED_PNL = 3
    FEE = 4
    DEPOSIT = 5
    WITHDRAWAL = 6
    FUNDING = 7
    SETTLEMENT_QTY = 8
    BASIS_RESET = 9
    INTERNAL_TRANSFER = 10  # USD between two customer accounts (USD ledger only)


def _u16(_: object, a: attrs.Attribute[int], v: object) -> None:
    require_range(a.name, v, 0, U16_MAX)


def _u32(_: object, a: attrs.Attribute[int], v: object) -> None:
    require_range(a.name, v, 0, U32_MAX)


def _u64(_: object, a: attrs.Attribute[int], v: object) -> None:
    require_range(a.name, v, 0, U64_MAX)


def _u128(_: object, a: attrs.Attribute[int], v: object) -> None:
    require_range(a.name, v, 0, U128_MAX)


def _nonzero_u128(_: object, a: attrs.Attribute[int], v: object) -> None:
    require_range(a.name, v, 1, U128_MAX)


def _nonzero_u32(_: object, a: attrs.Attribute[int], v: object) -> None:
    require_range(a.name, v, 1, U32_MAX)


def _nonzero_u16(_: object, a: attrs.Attribute[int], v: object) -> None:
    require_range(a.name, v, 1, U16_MAX)


@attrs.frozen
class LedgerAccount:
    """A ledger account as created (balances live in ``LedgerBalance``/the store)."""

    id: int = attrs.field(validator=_nonzero_u128)
    ledger: int = attrs.field(validator=_nonzero_u32)
    code: int = attrs.field(validator=_nonzero_u16)
    flags: AccountFlags = AccountFlags.NONE
    user_data_128: int = attrs.field(default=0, validator=_u128)
    user_data_64: int = attrs.field(default=0, validator=_u64)
    user_data_32: int = attrs.field(default=0, validator=_u32)
    debits_posted: int = attrs.field(default=0, validator=_u128)
    credits_posted: int = attrs.field(default=0, validator=_u128)
    timestamp: int = attrs.field(default=0, validator=_u64)
    debits_pending: int = attrs.field(default=0, validator=_u128)
    credits_pending: int = attrs.field(default=0, validator=_u128)

    @property
    def net(self) -> int:
        """Credits minus debits posted: the signed balance (qty, basis or micro-USD)."""
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        """Posted net less the debits still pending (reserved withdrawals): what a debit may
        still take from an account with ``debits_must_not_exceed_credits`` — its free cash."""
        return self.credits_posted - self.debits_posted - self.debits_pending

    @property
    def is_closed(self) -> bool:
        return bool(self.flags & AccountFlags.CLOSED)


@attrs.frozen
class Transfer:
    id: int = attrs.field(validator=_nonzero_u128)
    debit_account_id: int = attrs.field(validator=_nonzero_u128)
    credit_account_id: int = attrs.field(validator=_nonzero_u128)
    amount: int = attrs.field(validator=_u128)
    ledger: int = attrs.field(validator=_nonzero_u32)
    code: int = attrs.field(validator=_nonzero_u16)
    flags: TransferFlags = TransferFlags.NONE
    user_data_128: int = attrs.field(default=0, validator=_u128)
    user_data_64: int = attrs.field(default=0, validator=_u64)
    user_data_32: int = attrs.field(default=0, validator=_u32)
    timestamp: int = attrs.field(default=0, validator=_u64)
    pending_id: int = attrs.field(default=0, validator=_u128)
    timeout: int = attrs.field(default=0, validator=_u32)  # seconds; pending transfers only


def pack_price_qty(price_micro_usd: int, qty_lots: int) -> int:
    """``user_data_128`` of a trade leg: price in the high 64 bits, qty in the low 64."""
    require_range("price_micro_usd", price_micro_usd, 0, U64_MAX)
    require_range("qty_lots", qty_lots, 0, U64_MAX)
    return (price_micro_usd << 64) | qty_lots


def unpack_price_qty(user_data_128: int) -> tuple[int, int]:
    require_range("user_data_128", user_data_128, 0, U128_MAX)
    return user_data_128 >> 64, user_data_128 & U64_MAX


class LedgerAccountCode(enum.IntEnum):
    """``code`` of a ledger account: what its balance counts (stable, append only)."""

    USD = 1  # micro-USD on ledger 1
    QTY = 2  # lots on a product's qty ledger
    BASIS = 3  # micro-USD of cost basis on the product's basis ledger (qty ledger + 1)
