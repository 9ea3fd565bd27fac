"""TigerBeetle ledger account ids derived from (account, contract), with no lookup.

Layout of a ledger account id (u128)::

    127                          64 63 62                 32 31                   0
    +------------------------------+--+---------------------+---------------------+
    |        AccountId (u64)       |0 | contract date       | product (odd) = qty |
    |                              |  | YYYYMMDD or 0       | product + 1 = basis |
    |                              |  |                     | 1 = USD (date 0)    |
    +------------------------------+--+---------------------+---------------------+

The low 64 bits are the ContractId, except that a basis account's low 32 bits are the
product + 1 (an even number, which is never a ContractId). Bit 63 is the reserved scheme tag:
0 under this layout; any other value is rejected by the decoder, never masked away, so a
future scheme cannot be silently misread as this one. Every qty and basis account mirrors
the contract date in ``user_data_32`` so one query finds all accounts of a contract.
"""

from __future__ import annotations

from typing import Any

import attrs

from axdomain._checks import require_range
from axdomain.contracts import (
    DATE_MASK,
    DATE_SHIFT,
    PRODUCT_MASK,
    SCHEME_TAG_BIT,
    USD_ASSET_ID,
    ContractDate,
    ContractId,
    ProductId,
)
from axdomain.errors import InvalidValue
from axdomain.ids import AccountId

U128_MAX = (1 << 128) - 1
ACCOUNT_SHIFT = 64
LOW64_MASK = (1 << 64) - 1
CONTRACT_DECODE_CACHE_SIZE = 4096  # distinct (contract, qty|basis) halves kept decoded
MIN_OWNED_ID = 1 << ACCOUNT_SHIFT  # the smallest id whose top half is an AccountId (>= 1)


@attrs.frozen(order=True)
class TbAccountRef:
    """What a ledger account id means: whose account, which contract, qty or basis twin."""

    account_id: AccountId
    contract: ContractId
    is_basis: bool = False

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.account_id, AccountId):
            raise InvalidValue("account_id", self.account_id, "must be an AccountId")
        if not isinstance(self.contract, ContractId):
            raise InvalidValue("contract", self.contract, "must be a ContractId")
        if not isinstance(self.is_basis, bool):
            raise InvalidValue("is_basis", self.is_basis, "must be a bool")
        if self.is_basis and self.contract.is_usd:
            raise InvalidValue("contract", self.contract.value, "the USD asset has no basis")

    @classmethod
    def _trusted(cls, account_id: AccountId, contract: ContractId, is_basis: bool) -> TbAccountRef:
        """Build from parts the decoder has validated; skips ``__attrs_post_init__``."""
        ref = object.__new__(cls)
        object.__setattr__(ref, "account_id", account_id)
        object.__setattr__(ref, "contract", contract)
        object.__setattr__(ref, "is_basis", is_basis)
        return ref

    @property
    def is_usd(self) -> bool:
        return self.contract.is_usd

    @property
    def user_data_32(self) -> int:
        """The date mirrored on the ledger account (0 for perpetuals and USD)."""
        return (self.contract.value >> DATE_SHIFT) & DATE_MASK

    @property
    def ledger(self) -> int:
        return self.contract.qty_ledger + (1 if self.is_basis else 0)

    @property
    def tb_id(self) -> int:
        base = derive_tb_account_id(self.account_id, self.contract)
        return base + 1 if self.is_basis else base


def _require_parts(account_id: object, contract: object) -> None:
    if not isinstance(account_id, AccountId):
        raise InvalidValue("account_id", account_id, "must be an AccountId")
    if not isinstance(contract, ContractId):
        raise InvalidValue("contract", contract, "must be a ContractId")


def derive_tb_account_id(account_id: AccountId, contract: ContractId) -> int:
    """The qty (or USD) account of ``account_id`` in ``contract``, computed with no lookup.

    For a perpetual this is ``account.to_ulid() | product``, bit-identical to the id the
    account had before contracts carried dates: no ledger migration.
    """
    _require_parts(account_id, contract)
    return (account_id.value << ACCOUNT_SHIFT) | contract.value


def derive_tb_basis_account_id(account_id: AccountId, contract: ContractId) -> int:
    """The basis twin: qty id + 1, on ledger product + 1 (the low 32 bits become even)."""
    _require_parts(account_id, contract)
    if contract.is_usd:
        raise InvalidValue("contract", contract.value, "the USD asset has no basis account")
    return derive_tb_account_id(account_id, contract) + 1


def derive_tb_usd_account_id(account_id: AccountId) -> int:
    return derive_tb_account_id(account_id, ContractId.usd())


# Valid low halves seen so far. A ledger holds few distinct contracts but many accounts, so
# a scan decodes the same halves over and over; a plain dict lookup is the fast path of
# ``decode_tb_account_id``. Bounded: past the bound, new halves are decoded every time.
_KNOWN_HALVES: dict[int, tuple[ContractId, bool]] = {}


def _decode_low64(low: int) -> tuple[ContractId, bool]:
    """(contract, is_basis) of an id's low 64 bits; raises ``InvalidValue`` if invalid."""
    if low >> SCHEME_TAG_BIT:
        raise InvalidValue("contract_id", low, "bit 63 (scheme tag) is reserved")
    product_bits, date = low & PRODUCT_MASK, (low >> DATE_SHIFT) & DATE_MASK
    if product_bits == USD_ASSET_ID:
        return ContractId(low), False
    is_basis = product_bits % 2 == 0
    product = ProductId(product_bits - 1 if is_basis else product_bits)
    return ContractId.new(product, ContractDate(date)), is_basis


def _slot_setter(cls: type, name: str) -> Any:
    """The C-level setter of a slotted attrs field: writes it without ``__setattr__``."""
    owner = next(klass for klass in cls.__mro__ if name in vars(klass))
    return vars(owner)[name].__set__


# Bound once: the decode fast path builds its two objects with these (``object.__new__`` and
# one C call per field), the cheapest construction Python offers for a frozen slotted value.
_new = object.__new__
_set_account_value = _slot_setter(AccountId, "value")
_set_ref_account = _slot_setter(TbAccountRef, "account_id")
_set_ref_contract = _slot_setter(TbAccountRef, "contract")
_set_ref_is_basis = _slot_setter(TbAccountRef, "is_basis")


def decode_tb_account_id(tb_id: object) -> TbAccountRef:
    """Inverse of the derivations; anything that is not a qty, basis or USD id is an error.

    Fast path: an int whose top half is a valid AccountId (one range check) and whose low
    half was validated before (one dict lookup) is wrapped without re-validating its parts.
    Everything else takes the full check, which also raises the typed errors.
    """
    if type(tb_id) is int and MIN_OWNED_ID <= tb_id <= U128_MAX:
        half = _KNOWN_HALVES.get(tb_id & LOW64_MASK)
        if half is not None:
            account = _new(AccountId)
            _set_account_value(account, tb_id >> ACCOUNT_SHIFT)
            ref = _new(TbAccountRef)
            _set_ref_account(ref, account)
            _set_ref_contract(ref, half[0])
            _set_ref_is_basis(ref, half[1])
            return ref
    return _decode_checked(tb_id)


def _decode_checked(tb_id: object) -> TbAccountRef:
    number = require_range("tb_account_id", tb_id, 1, U128_MAX)
    low = number & LOW64_MASK
    try:
        half = _decode_low64(low)
        account_id = AccountId(number >> ACCOUNT_SHIFT)
    except InvalidValue as error:
        raise InvalidValue("tb_account_id", number, f"{error.field}: {error.problem}") from None
    if len(_KNOWN_HALVES) < CONTRACT_DECODE_CACHE_SIZE:
        _KNOWN_HALVES[low] = half
    return TbAccountRef._trusted(account_id, *half)
