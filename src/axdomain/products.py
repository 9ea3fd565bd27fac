"""Product registry rows: products (append-only) and instruments (symbol -> contract)."""

from __future__ import annotations

import attrs

from axdomain._checks import require_text
from axdomain.contracts import ContractId, ProductId

MAX_PRODUCT_NAME_LEN = 64
MAX_SYMBOL_LEN = 64


@attrs.frozen
class Product:
    """Immutable once written: the id is burned into ledger account ids forever."""

    product_id: ProductId
    name: str = attrs.field(validator=lambda _, a, v: require_text(a.name, v, MAX_PRODUCT_NAME_LEN))
    created_at_ns: int


@attrs.frozen
class Instrument:
    """A tradable symbol. ``expiration_ns`` may be adjusted; identity (contract) never."""

    symbol: str = attrs.field(validator=lambda _, a, v: require_text(a.name, v, MAX_SYMBOL_LEN))
    contract: ContractId
    expiration_ns: int | None = None
