"""Products and contracts: the 64-bit ``ContractId`` of RFC 004.

Layout of a ContractId (u64)::

     63  62                              32 31                               0
    +---+----------------------------------+----------------------------------+
    | 0 |   contract date as YYYYMMDD      |  ProductId (odd) or USD_ASSET_ID |
    +---+----------------------------------+----------------------------------+
    bit 63: reserved scheme tag, always 0 under this layout.

A perpetual has date 0, so its ContractId equals its bare product id and every perpetual
ledger id stays bit-identical. Ordering on the packed integer is (date, product).
"""

from __future__ import annotations

from typing import Self

import attrs

from axdomain._checks import require_int, require_range
from axdomain.errors import InvalidValue

USD_ASSET_ID = 1
PRODUCT_ID_MIN = 1001
PRODUCT_ID_MAX = (1 << 32) - 3  # its basis twin (id + 1) must still fit in 32 bits

PRODUCT_BITS = 32
DATE_BITS = 31
DATE_SHIFT = 32
SCHEME_TAG_BIT = 63
PRODUCT_MASK = (1 << PRODUCT_BITS) - 1
DATE_MASK = (1 << DATE_BITS) - 1
CONTRACT_ID_MAX = (1 << 64) - 1
INTERNED_CONTRACTS_MAX = 4096  # distinct ContractIds ``new`` keeps to hand out again

PERPETUAL_DATE = 0
DATE_YEAR_MIN = 1000  # YYYYMMDD is exactly eight digits
DATE_YEAR_MAX = 9999
# Index = month; February is adjusted for leap years in ``_days_in_month``. A table, not
# ``calendar.monthrange``, because date validation sits on the ledger-id decode path.
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

assert PRODUCT_BITS + DATE_BITS + 1 == 64, "product + date + scheme tag must fill a u64"
assert DATE_SHIFT == PRODUCT_BITS and SCHEME_TAG_BIT == DATE_SHIFT + DATE_BITS
assert DATE_YEAR_MAX * 10_000 + 1231 <= DATE_MASK, "every YYYYMMDD must fit the date field"
assert PRODUCT_ID_MAX + 1 <= PRODUCT_MASK, "a basis twin must fit the product field"


def _days_in_month(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month]


@attrs.frozen(order=True)
class ProductId:
    """An odd u32 naming a product (e.g. COMPUTEDESK-H100); ``value + 1`` is its basis twin."""

    value: int

    def __attrs_post_init__(self) -> None:
        require_range("product_id", self.value, PRODUCT_ID_MIN, PRODUCT_ID_MAX)
        if self.value % 2 == 0:
            raise InvalidValue("product_id", self.value, "must be odd (even ids are basis twins)")

    @property
    def qty_ledger(self) -> int:
        return self.value

    @property
    def basis_ledger(self) -> int:
        return self.value + 1


@attrs.frozen(order=True)
class ContractDate:
    """A nominal contract date (a name, not the expiry), YYYYMMDD, or 0 for perpetual."""

    value: int

    def __attrs_post_init__(self) -> None:
        number = require_int("contract_date", self.value)
        if number == PERPETUAL_DATE:
            return
        year, month, day = number // 10_000, number // 100 % 100, number % 100
        if not DATE_YEAR_MIN <= year <= DATE_YEAR_MAX:
            raise InvalidValue("contract_date", number, "must be 0 or YYYYMMDD, year 1000..9999")
        if not 1 <= month <= 12 or not 1 <= day <= _days_in_month(year, month):
            raise InvalidValue("contract_date", number, "is not a calendar date")

    @classmethod
    def perpetual(cls) -> Self:
        return cls(PERPETUAL_DATE)

    @property
    def year(self) -> int:
        """0 for a perpetual."""
        return self.value // 10_000

    @property
    def month(self) -> int:
        return self.value // 100 % 100

    @property
    def day(self) -> int:
        return self.value % 100

    @property
    def is_perpetual(self) -> bool:
        return self.value == PERPETUAL_DATE


@attrs.frozen(order=True)
class ContractId:
    """A tradable contract: product + nominal date, packed into 64 bits."""

    value: int

    def __attrs_post_init__(self) -> None:
        number = require_range("contract_id", self.value, 0, CONTRACT_ID_MAX)
        if number >> SCHEME_TAG_BIT:
            raise InvalidValue("contract_id", number, "bit 63 (scheme tag) is reserved, must be 0")
        low, date = number & PRODUCT_MASK, (number >> DATE_SHIFT) & DATE_MASK
        if low == USD_ASSET_ID:
            if date != PERPETUAL_DATE:
                raise InvalidValue("contract_id", number, "the USD asset has no contract date")
            return
        try:
            ProductId(low)
            ContractDate(date)
        except InvalidValue as error:
            raise InvalidValue("contract_id", number, f"{error.field}: {error.problem}") from None

    @classmethod
    def _trusted(cls, value: int) -> Self:
        """Build from parts that were validated as typed values; skips re-validation.

        Packing two already-valid values cannot produce an invalid id, and ``new`` sits on
        the hot path of order intake and ledger decoding.
        """
        contract = object.__new__(cls)
        object.__setattr__(contract, "value", value)
        return contract

    @classmethod
    def new(cls, product: ProductId, date: ContractDate) -> Self:
        """Pack validated parts. A venue lists few contracts, so the values are interned:
        a repeat costs one dict lookup instead of building an object (values are frozen,
        so sharing one is unobservable except through ``is``)."""
        if not isinstance(product, ProductId):
            raise InvalidValue("product", product, "must be a ProductId")
        if not isinstance(date, ContractDate):
            raise InvalidValue("contract_date", date, "must be a ContractDate")
        value = (date.value << DATE_SHIFT) | product.value
        interned = _INTERNED.get(value)
        if interned is not None and type(interned) is cls:
            return interned
        contract = cls._trusted(value)
        if len(_INTERNED) < INTERNED_CONTRACTS_MAX:
            _INTERNED[value] = contract
        return contract

    @classmethod
    def perp(cls, product: ProductId) -> Self:
        """The perpetual of ``product``: numerically the bare product id."""
        if not isinstance(product, ProductId):
            raise InvalidValue("product", product, "must be a ProductId")
        return cls._trusted(product.value)

    @classmethod
    def usd(cls) -> Self:
        """The USD asset's id (ledger 1, date 0); not a product, never has a basis twin."""
        return cls._trusted(USD_ASSET_ID)

    def __hash__(self) -> int:
        # Hand-written (attrs keeps it): half the cost of the generated one, and contracts
        # key every position map.
        return hash(self.value)

    @property
    def is_usd(self) -> bool:
        return self.value == USD_ASSET_ID

    @property
    def product(self) -> ProductId:
        if self.is_usd:
            raise InvalidValue("contract_id", self.value, "the USD asset is not a product")
        return ProductId(self.value & PRODUCT_MASK)

    @property
    def date(self) -> ContractDate:
        return ContractDate((self.value >> DATE_SHIFT) & DATE_MASK)

    @property
    def is_perp(self) -> bool:
        return not self.is_usd and self.date.is_perpetual

    @property
    def qty_ledger(self) -> int:
        """The TigerBeetle ledger of this contract's qty accounts (1 for USD)."""
        return self.value & PRODUCT_MASK

    def __str__(self) -> str:
        if self.is_usd:
            return "USD"
        return f"{self.product.value}@{self.date.value}"


_INTERNED: dict[int, ContractId] = {}  # by packed value; bounded by INTERNED_CONTRACTS_MAX
