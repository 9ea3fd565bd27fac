"""Memory product registry: append-only products, a never-reissued id sequence, instruments.

Nothing here can rename, delete or renumber a product: the port has no such operation and
every write that would clash with an existing row raises ``Conflict`` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from axdomain.contracts import ContractId, ProductId
from axdomain.errors import Conflict, InvalidValue, NotFound
from axdomain.products import Instrument, Product
from axdomain.registry import ProductIdSequence


class MemoryProducts:
    def __init__(self) -> None:
        self._products: dict[ProductId, Product] = {}
        self._by_name: dict[str, ProductId] = {}
        self._sequence = ProductIdSequence()
        self._instruments: dict[str, Instrument] = {}
        self._by_contract: dict[ContractId, str] = {}

    def create_product(self, name: str, created_at_ns: int) -> Product:
        if isinstance(name, str) and name in self._by_name:
            raise Conflict("product_name", name, "already exists")
        product_id, following = self._sequence.issue()
        # Validate the row before burning the id, so bad input leaves the sequence alone.
        product = Product(product_id, name, created_at_ns)
        self._sequence = following
        self._insert(product)
        return product

    def seed_product(self, product: Product) -> None:
        if not isinstance(product, Product):
            raise InvalidValue("product", product, "must be a Product")
        if product.product_id in self._products:
            raise Conflict("product_id", product.product_id.value, "already exists")
        if product.name in self._by_name:
            raise Conflict("product_name", product.name, "already exists")
        self._sequence = self._sequence.after_seed(product.product_id)
        self._insert(product)

    def _insert(self, product: Product) -> None:
        assert product.product_id not in self._products and product.name not in self._by_name
        self._products[product.product_id] = product
        self._by_name[product.name] = product.product_id

    def get_product(self, product_id: ProductId) -> Product | None:
        return self._products.get(product_id)

    def find_product(self, name: str) -> Product | None:
        product_id = self._by_name.get(name)
        return None if product_id is None else self._products[product_id]

    def list_products(self) -> Sequence[Product]:
        """In product id order."""
        return [self._products[key] for key in sorted(self._products)]

    def add_instrument(self, instrument: Instrument) -> None:
        if not isinstance(instrument, Instrument):
            raise InvalidValue("instrument", instrument, "must be an Instrument")
        if instrument.symbol in self._instruments:
            raise Conflict("symbol", instrument.symbol, "already exists")
        if instrument.contract in self._by_contract:
            raise Conflict("contract", instrument.contract.value, "already has a symbol")
        if instrument.product not in self._products:
            raise NotFound("product_id", instrument.product.value, "no such product")
        self._instruments[instrument.symbol] = instrument
        self._by_contract[instrument.contract] = instrument.symbol

    def get_instrument(self, symbol: str) -> Instrument | None:
        return self._instruments.get(symbol)

    def set_expiration(self, symbol: str, expiration_ns: int | None) -> Instrument:
        current = self._instruments.get(symbol)
        if current is None:
            raise NotFound("symbol", symbol, "no such instrument")
        updated = current.with_expiration(expiration_ns)
        self._instruments[symbol] = updated
        return updated

    def mark_delisted(self, symbol: str, at_ns: int) -> Instrument:
        current = self._instruments.get(symbol)
        if current is None:
            raise NotFound("symbol", symbol, "no such instrument")
        if current.delisted_at_ns is None:
            current = attrs.evolve(current, delisted_at_ns=at_ns)
            self._instruments[symbol] = current
        return current

    def list_instruments(self) -> Sequence[Instrument]:
        """In symbol order."""
        return [self._instruments[key] for key in sorted(self._instruments)]
