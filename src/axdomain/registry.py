"""Product registry rules, the symbol <-> ContractId map, and the seed-table startup check.

Listing a contract is data, not code: a product row (append-only, id from a sequence that
starts at 1001, steps by 2 and never reissues a value) plus an instrument row mapping a
symbol to ``(product, contract date)``. The running services resolve symbols through a
``SymbolRegistry`` built from those rows at start. For the release that replaces the old
compile-time symbol table, that table survives as ``SEED_PERPETUALS`` and the registry must
agree with it at start (``check_against_seed``); any disagreement stops the service, naming
the symbol, because a wrong mapping would post fills to another contract's ledger accounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from axdomain._checks import require_int, require_text
from axdomain.contracts import PRODUCT_ID_MAX, PRODUCT_ID_MIN, ContractId, ProductId
from axdomain.errors import Conflict, DomainError, InvalidValue, NotFound
from axdomain.ports import ProductRepository
from axdomain.products import MAX_PRODUCT_NAME_LEN, MAX_SYMBOL_LEN, Instrument, Product

PRODUCT_ID_STEP = 2  # odd ids only: every even id is the basis ledger of the id below it
PRODUCT_ID_EXHAUSTED = PRODUCT_ID_MAX + PRODUCT_ID_STEP


@attrs.frozen
class ProductIdSequence:
    """The next product id to issue: 1001, 1003, ... Values only ever move up.

    A pure model of ``product_id_seq START 1001 INCREMENT 2``: issuing moves past the value
    and seeding a historic id moves the sequence above it, but nothing moves it back, so an
    id is never issued twice even if the row that used it failed to commit.
    """

    next_value: int = PRODUCT_ID_MIN

    def __attrs_post_init__(self) -> None:
        number = require_int("product_id_seq", self.next_value)
        if not PRODUCT_ID_MIN <= number <= PRODUCT_ID_EXHAUSTED or number % 2 == 0:
            raise InvalidValue(
                "product_id_seq",
                number,
                f"must be odd in [{PRODUCT_ID_MIN}, {PRODUCT_ID_EXHAUSTED}]",
            )

    @property
    def is_exhausted(self) -> bool:
        return self.next_value == PRODUCT_ID_EXHAUSTED

    def peek(self) -> ProductId:
        if self.is_exhausted:
            raise Conflict("product_id_seq", self.next_value, "no product id left to issue")
        return ProductId(self.next_value)

    def issue(self) -> tuple[ProductId, ProductIdSequence]:
        """The id to use now and the sequence that must replace this one."""
        product_id = self.peek()
        return product_id, ProductIdSequence(product_id.value + PRODUCT_ID_STEP)

    def after_seed(self, product_id: ProductId) -> ProductIdSequence:
        """Move above a seeded historic id (like ``setval``), never below the current value."""
        if not isinstance(product_id, ProductId):
            raise InvalidValue("product_id", product_id, "must be a ProductId")
        return ProductIdSequence(max(self.next_value, product_id.value + PRODUCT_ID_STEP))


class SymbolRegistry:
    """symbol <-> ContractId, both directions, one-to-one, with the product names.

    Immutable: a refresh builds a new registry from the rows, so a reader never sees a
    half-applied update.
    """

    __slots__ = ("_by_contract", "_by_symbol", "_product_names")

    def __init__(self) -> None:
        """An empty registry; use ``from_rows`` to build one from registry rows."""
        self._by_symbol: dict[str, ContractId] = {}
        self._by_contract: dict[ContractId, str] = {}
        self._product_names: dict[ProductId, str] = {}

    @classmethod
    def from_rows(
        cls, products: Iterable[Product], instruments: Iterable[Instrument]
    ) -> SymbolRegistry:
        """Build from product and instrument rows.

        Raises ``Conflict`` on a duplicate product id, product name, symbol or contract, and
        ``NotFound`` for an instrument whose product is not among ``products``.
        """
        registry = cls()
        names_seen: set[str] = set()
        for product in products:
            if not isinstance(product, Product):
                raise InvalidValue("product", product, "must be a Product")
            if product.product_id in registry._product_names:
                raise Conflict("product_id", product.product_id.value, "listed twice")
            if product.name in names_seen:
                raise Conflict("product_name", product.name, "listed twice")
            names_seen.add(product.name)
            registry._product_names[product.product_id] = product.name
        for instrument in instruments:
            if not isinstance(instrument, Instrument):
                raise InvalidValue("instrument", instrument, "must be an Instrument")
            symbol, contract = instrument.symbol, instrument.contract
            if symbol in registry._by_symbol:
                raise Conflict("symbol", symbol, "listed twice")
            if contract in registry._by_contract:
                other = registry._by_contract[contract]
                raise Conflict("symbol", symbol, f"its contract {contract} is already {other!r}")
            if contract.product not in registry._product_names:
                raise NotFound("symbol", symbol, f"product {contract.product.value} is unknown")
            registry._by_symbol[symbol] = contract
            registry._by_contract[contract] = symbol
        return registry

    def __len__(self) -> int:
        return len(self._by_symbol)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._by_symbol

    def find_contract(self, symbol: str) -> ContractId | None:
        return self._by_symbol.get(symbol)

    def find_symbol(self, contract: ContractId) -> str | None:
        return self._by_contract.get(contract)

    def contract_for(self, symbol: str) -> ContractId:
        contract = self._by_symbol.get(symbol)
        if contract is None:
            raise NotFound("symbol", symbol, "no such instrument")
        return contract

    def symbol_for(self, contract: ContractId) -> str:
        symbol = self._by_contract.get(contract)
        if symbol is None:
            raise NotFound("contract", getattr(contract, "value", contract), "no instrument")
        return symbol

    def product_name(self, product_id: ProductId) -> str:
        name = self._product_names.get(product_id)
        if name is None:
            raise NotFound("product_id", getattr(product_id, "value", product_id), "unknown")
        return name

    def find_product_name(self, product_id: ProductId) -> str | None:
        return self._product_names.get(product_id)

    def contracts_of(self, product_id: ProductId) -> tuple[ContractId, ...]:
        """Every listed contract of a product in term order (perpetual first, then by date)."""
        return tuple(sorted(c for c in self._by_contract if c.product == product_id))

    def items(self) -> tuple[tuple[str, ContractId], ...]:
        """(symbol, contract) pairs sorted by symbol."""
        return tuple(sorted(self._by_symbol.items()))

    def as_mapping(self) -> Mapping[str, ContractId]:
        return dict(self._by_symbol)


@attrs.frozen
class SeedPerpetual:
    """One row of the old compile-time symbol table: a perpetual and its historic id."""

    symbol: str = attrs.field(validator=lambda _, a, v: require_text(a.name, v, MAX_SYMBOL_LEN))
    product_id: ProductId
    product_name: str = attrs.field(
        validator=lambda _, a, v: require_text(a.name, v, MAX_PRODUCT_NAME_LEN)
    )

    @property
    def contract(self) -> ContractId:
        return ContractId.perp(self.product_id)

    def product(self, created_at_ns: int) -> Product:
        return Product(self.product_id, self.product_name, created_at_ns)

    def instrument(self) -> Instrument:
        return Instrument(self.symbol, self.contract)


def _seed(symbol: str, product_id: int, product_name: str) -> SeedPerpetual:
    return SeedPerpetual(symbol, ProductId(product_id), product_name)


# The perpetuals listed before products became data, with the ids already burned into
# ledger account ids. Frozen history: never edit a row, never add one (new products come
# only from the sequence). Listing order = id order.
SEED_PERPETUALS: tuple[SeedPerpetual, ...] = (
    _seed("COMPUTEDESK-H100-PERP", 1001, "COMPUTEDESK-H100"),
    _seed("COMPUTEDESK-A100-PERP", 1003, "COMPUTEDESK-A100"),
    _seed("COMPUTEDESK-H200-PERP", 1005, "COMPUTEDESK-H200"),
    _seed("COMPUTEDESK-L40S-PERP", 1007, "COMPUTEDESK-L40S"),
    _seed("COMPUTEDESK-B200-PERP", 1009, "COMPUTEDESK-B200"),
    _seed("COMPUTEDESK-MI300X-PERP", 1011, "COMPUTEDESK-MI300X"),
)


def validate_seed_table(seed: Sequence[SeedPerpetual]) -> None:
    """A seed table must itself be one-to-one in symbols, ids and names."""
    for field, keys in (
        ("symbol", [row.symbol for row in seed]),
        ("product_id", [row.product_id.value for row in seed]),
        ("product_name", [row.product_name for row in seed]),
    ):
        seen: set[object] = set()
        for key in keys:
            if key in seen:
                raise Conflict(field, key, "appears twice in the seed table")
            seen.add(key)


validate_seed_table(SEED_PERPETUALS)


def seed_rows(
    created_at_ns: int, seed: Sequence[SeedPerpetual] = SEED_PERPETUALS
) -> tuple[tuple[Product, ...], tuple[Instrument, ...]]:
    """The product and instrument rows that bring an empty store in line with ``seed``."""
    validate_seed_table(seed)
    products = tuple(row.product(created_at_ns) for row in seed)
    return products, tuple(row.instrument() for row in seed)


class SeedMismatch(DomainError):
    """Startup error: the registry disagrees with the static seed table.

    ``field`` is ``"symbol"`` and ``value`` the first offending symbol (in symbol order);
    ``symbols`` lists every offending symbol and ``problem`` says what differs for each.
    """

    def __init__(self, symbols: Sequence[str], problems: Sequence[str]) -> None:
        if not symbols or len(symbols) != len(problems):  # kept under python -O
            raise AssertionError("a seed mismatch names one problem per symbol, at least one")
        self.symbols = tuple(symbols)
        super().__init__("symbol", self.symbols[0], "; ".join(problems))


def check_against_seed(
    registry: SymbolRegistry, seed: Sequence[SeedPerpetual] = SEED_PERPETUALS
) -> None:
    """Raise ``SeedMismatch`` unless every seed perpetual is in the registry unchanged.

    Each seed symbol must map to the perpetual of its historic product id (so the reverse
    direction agrees too, the registry being one-to-one) and that product must carry the
    seed's name. Symbols listed after the seed (new products, dated contracts) are free.
    """
    validate_seed_table(seed)
    symbols: list[str] = []
    problems: list[str] = []
    for row in sorted(seed, key=lambda r: r.symbol):
        contract = registry.find_contract(row.symbol)
        name = registry.find_product_name(row.product_id)
        if contract is None:
            problem = "missing from the registry"
        elif contract != row.contract:
            problem = f"registry maps it to {contract}, the seed to {row.contract}"
        elif name != row.product_name:
            problem = (
                f"product {row.product_id.value} is named {name!r} in the registry, "
                f"{row.product_name!r} in the seed"
            )
        else:
            continue
        symbols.append(row.symbol)
        problems.append(f"{row.symbol}: {problem}")
    if symbols:
        raise SeedMismatch(symbols, problems)


def load_symbol_registry(
    products: ProductRepository, seed: Sequence[SeedPerpetual] = SEED_PERPETUALS
) -> SymbolRegistry:
    """The startup path: build the registry from the stored rows, then check the seed."""
    registry = SymbolRegistry.from_rows(products.list_products(), products.list_instruments())
    check_against_seed(registry, seed)
    return registry
