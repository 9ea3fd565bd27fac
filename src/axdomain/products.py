"""Product registry rows: products (append-only) and instruments (symbol -> contract).

A product's id is burned into ledger account ids the moment the first account uses it, so a
``Product`` row never changes. An ``Instrument`` is the tradable symbol of one contract
(product + nominal date); only its expiration time may be adjusted, never its contract.
"""

from __future__ import annotations

from typing import Self

import attrs

from axdomain._checks import require_range, require_text
from axdomain.contracts import ContractDate, ContractId, ProductId
from axdomain.errors import InvalidValue

MAX_PRODUCT_NAME_LEN = 64
MAX_SYMBOL_LEN = 64
I64_MAX = (1 << 63) - 1  # times are ns since the epoch in a signed 64-bit column


def _product_id(_: object, attribute: attrs.Attribute[ProductId], value: object) -> None:
    if not isinstance(value, ProductId):
        raise InvalidValue(attribute.name, value, "must be a ProductId")


def _tradable_contract(_: object, attribute: attrs.Attribute[ContractId], value: object) -> None:
    if not isinstance(value, ContractId):
        raise InvalidValue(attribute.name, value, "must be a ContractId")
    if value.is_usd:
        raise InvalidValue(attribute.name, value.value, "the USD asset is not tradable")


def _time_ns(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    require_range(attribute.name, value, 0, I64_MAX)


def _optional_time_ns(_: object, attribute: attrs.Attribute[int | None], value: object) -> None:
    if value is not None:
        require_range(attribute.name, value, 0, I64_MAX)


@attrs.frozen
class Product:
    """Immutable once written: the id is burned into ledger account ids forever."""

    product_id: ProductId = attrs.field(validator=_product_id)
    name: str = attrs.field(validator=lambda _, a, v: require_text(a.name, v, MAX_PRODUCT_NAME_LEN))
    created_at_ns: int = attrs.field(validator=_time_ns)


@attrs.frozen
class Instrument:
    """A tradable symbol. ``expiration_ns`` may be adjusted; identity (contract) never."""

    symbol: str = attrs.field(validator=lambda _, a, v: require_text(a.name, v, MAX_SYMBOL_LEN))
    contract: ContractId = attrs.field(validator=_tradable_contract)
    expiration_ns: int | None = attrs.field(default=None, validator=_optional_time_ns)
    # Set once the delist fence passed; a delisted instrument takes no orders again.
    delisted_at_ns: int | None = attrs.field(default=None, validator=_optional_time_ns)

    def __attrs_post_init__(self) -> None:
        if self.contract.is_perp and self.expiration_ns is not None:
            raise InvalidValue("expiration_ns", self.expiration_ns, "a perpetual never expires")

    @property
    def product(self) -> ProductId:
        return self.contract.product

    @property
    def contract_date(self) -> ContractDate:
        return self.contract.date

    @property
    def is_perp(self) -> bool:
        return self.contract.is_perp

    def with_expiration(self, expiration_ns: int | None) -> Self:
        """The same instrument (same symbol, same contract) with a new expiry."""
        return attrs.evolve(self, expiration_ns=expiration_ns)
