"""Registry and product rows: each refusal's field, value and exact problem, the sequence's
bounds, and the registry's read-side views.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from axdomain import (
    SEED_PERPETUALS,
    Conflict,
    ContractDate,
    ContractId,
    DomainError,
    Instrument,
    Product,
    ProductId,
    ProductIdSequence,
    SeedMismatch,
    SeedPerpetual,
    SymbolRegistry,
    check_against_seed,
)
from axdomain.contracts import PRODUCT_ID_MIN
from axdomain.registry import PRODUCT_ID_EXHAUSTED, seed_rows, validate_seed_table

T0 = 1_750_000_000_000_000_000
H100 = ProductId(1001)
A100 = ProductId(1003)
DATED = ContractId.new(H100, ContractDate(20260130))
SEQUENCE_PROBLEM = f"must be odd in [{PRODUCT_ID_MIN}, {PRODUCT_ID_EXHAUSTED}]"


def _refusal(call: Callable[[], object]) -> tuple[type, str, object, str]:
    with pytest.raises(DomainError) as raised:
        call()
    error = raised.value
    return type(error), error.field, error.value, error.problem


def _products() -> tuple[Product, ...]:
    return (Product(H100, "H100", T0), Product(A100, "A100", T0))


def test_sequence_bounds_are_inclusive_and_odd() -> None:
    assert ProductIdSequence(PRODUCT_ID_MIN).peek() == ProductId(PRODUCT_ID_MIN)
    last = ProductIdSequence(PRODUCT_ID_EXHAUSTED)
    assert last.is_exhausted
    assert not ProductIdSequence(PRODUCT_ID_EXHAUSTED - 2).is_exhausted
    for value in (PRODUCT_ID_MIN - 2, PRODUCT_ID_EXHAUSTED + 2, 1002):
        kind, field, bad, problem = _refusal(lambda v=value: ProductIdSequence(v))
        assert (kind.__name__, field, bad, problem) == (
            "InvalidValue",
            "product_id_seq",
            value,
            SEQUENCE_PROBLEM,
        )
    assert _refusal(last.peek) == (
        Conflict,
        "product_id_seq",
        PRODUCT_ID_EXHAUSTED,
        "no product id left to issue",
    )
    assert ProductIdSequence().issue() == (H100, ProductIdSequence(1003))


def test_after_seed_moves_up_only_and_refuses_untyped_ids() -> None:
    sequence = ProductIdSequence(1005)
    assert sequence.after_seed(ProductId(1001)) == sequence
    assert sequence.after_seed(ProductId(1003)) == sequence
    assert sequence.after_seed(ProductId(1005)) == ProductIdSequence(1007)
    assert _refusal(lambda: sequence.after_seed(1005))[1:] == (  # type: ignore[arg-type]
        "product_id",
        1005,
        "must be a ProductId",
    )


def test_from_rows_refusals_name_field_value_and_problem() -> None:
    perp = Instrument("H-PERP", ContractId.perp(H100))
    assert _refusal(lambda: SymbolRegistry.from_rows(["p"], []))[1:] == (  # type: ignore[list-item]
        "product",
        "p",
        "must be a Product",
    )
    assert _refusal(lambda: SymbolRegistry.from_rows(_products(), ["i"]))[1:] == (  # type: ignore[list-item]
        "instrument",
        "i",
        "must be an Instrument",
    )
    twin = Product(H100, "OTHER", T0)
    assert _refusal(lambda: SymbolRegistry.from_rows((*_products(), twin), []))[1:] == (
        "product_id",
        1001,
        "listed twice",
    )
    renamed = Product(ProductId(1005), "H100", T0)
    assert _refusal(lambda: SymbolRegistry.from_rows((*_products(), renamed), []))[1:] == (
        "product_name",
        "H100",
        "listed twice",
    )
    again = Instrument("H-PERP", ContractId.perp(A100))
    assert _refusal(lambda: SymbolRegistry.from_rows(_products(), [perp, again]))[1:] == (
        "symbol",
        "H-PERP",
        "listed twice",
    )
    alias = Instrument("ALIAS", ContractId.perp(H100))
    assert _refusal(lambda: SymbolRegistry.from_rows(_products(), [perp, alias]))[1:] == (
        "symbol",
        "ALIAS",
        f"its contract {ContractId.perp(H100)} is already 'H-PERP'",
    )
    orphan = Instrument("X-PERP", ContractId.perp(ProductId(1007)))
    assert _refusal(lambda: SymbolRegistry.from_rows(_products(), [orphan]))[1:] == (
        "symbol",
        "X-PERP",
        "product 1007 is unknown",
    )


def test_registry_views_and_lookups() -> None:
    perp = Instrument("H-PERP", ContractId.perp(H100))
    dated = Instrument("H-JAN", DATED, T0)
    other = Instrument("A-PERP", ContractId.perp(A100))
    registry = SymbolRegistry.from_rows(_products(), [dated, perp, other])
    assert len(registry) == 3
    assert "H-JAN" in registry and "NOPE" not in registry
    assert registry.items() == (
        ("A-PERP", ContractId.perp(A100)),
        ("H-JAN", DATED),
        ("H-PERP", ContractId.perp(H100)),
    )
    assert registry.as_mapping() == dict(registry.items())
    assert registry.contracts_of(H100) == (ContractId.perp(H100), DATED)
    assert (registry.find_contract("H-JAN"), registry.find_contract("NOPE")) == (DATED, None)
    assert (registry.find_symbol(DATED), registry.find_symbol(ContractId.usd())) == ("H-JAN", None)
    assert (registry.contract_for("H-PERP"), registry.symbol_for(DATED)) == (
        ContractId.perp(H100),
        "H-JAN",
    )
    assert (registry.product_name(A100), registry.find_product_name(ProductId(1009))) == (
        "A100",
        None,
    )
    assert _refusal(lambda: registry.contract_for("NOPE"))[1:] == (
        "symbol",
        "NOPE",
        "no such instrument",
    )
    assert _refusal(lambda: registry.symbol_for(ContractId.usd()))[1:] == (
        "contract",
        1,
        "no instrument",
    )
    assert _refusal(lambda: registry.product_name(ProductId(1009)))[1:] == (
        "product_id",
        1009,
        "unknown",
    )
    assert _refusal(lambda: registry.symbol_for("raw"))[2] == "raw"  # type: ignore[arg-type]
    assert _refusal(lambda: registry.product_name("raw"))[2] == "raw"  # type: ignore[arg-type]


def test_seed_table_duplicates_name_their_column() -> None:
    row = SEED_PERPETUALS[0]
    same_id = SeedPerpetual("OTHER-PERP", row.product_id, "OTHER")
    same_name = SeedPerpetual("OTHER-PERP", ProductId(2001), row.product_name)
    assert _refusal(lambda: validate_seed_table([row, same_id]))[1:] == (
        "product_id",
        row.product_id.value,
        "appears twice in the seed table",
    )
    assert _refusal(lambda: validate_seed_table([row, same_name]))[1:] == (
        "product_name",
        row.product_name,
        "appears twice in the seed table",
    )
    assert _refusal(lambda: seed_rows(T0, [row, row]))[1] == "symbol"
    products, instruments = seed_rows(T0, [row])
    assert products == (Product(row.product_id, row.product_name, T0),)
    assert instruments == (Instrument(row.symbol, ContractId.perp(row.product_id)),)
    assert row.contract == ContractId.perp(row.product_id)


def test_seed_mismatch_lists_every_symbol_with_its_problem() -> None:
    seed = [
        SeedPerpetual("B-PERP", ProductId(2003), "B"),
        SeedPerpetual("A-PERP", ProductId(2001), "A"),
        SeedPerpetual("C-PERP", ProductId(2005), "C"),
    ]
    products = (
        Product(ProductId(2001), "A", T0),
        Product(ProductId(2003), "B", T0),
        Product(ProductId(2005), "C2", T0),
    )
    instruments = (
        Instrument("B-PERP", ContractId.perp(ProductId(2001))),
        Instrument("C-PERP", ContractId.perp(ProductId(2005))),
    )
    with pytest.raises(SeedMismatch) as raised:
        check_against_seed(SymbolRegistry.from_rows(products, instruments), seed)
    error = raised.value
    assert (error.field, error.value, error.symbols) == (
        "symbol",
        "A-PERP",
        ("A-PERP", "B-PERP", "C-PERP"),
    )
    assert error.problem == (
        "A-PERP: missing from the registry; "
        "B-PERP: registry maps it to 2001@0, the seed to 2003@0; "
        "C-PERP: product 2005 is named 'C2' in the registry, 'C' in the seed"
    )
    good = (Instrument("A-PERP", ContractId.perp(ProductId(2001))),)
    check_against_seed(SymbolRegistry.from_rows(products[:1], good), seed[1:2])
