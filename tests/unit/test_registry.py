"""Product registry rules: the id sequence, SymbolRegistry and the seed-table startup check."""

from __future__ import annotations

import attrs
import pytest

from axadapters.memory.products import MemoryProducts
from axdomain import (
    SEED_PERPETUALS,
    Conflict,
    ContractDate,
    ContractId,
    DomainError,
    Instrument,
    InvalidValue,
    NotFound,
    Product,
    ProductId,
    ProductIdSequence,
    SeedMismatch,
    SeedPerpetual,
    SymbolRegistry,
    check_against_seed,
    load_symbol_registry,
)
from axdomain.contracts import PRODUCT_ID_MAX
from axdomain.registry import PRODUCT_ID_EXHAUSTED, seed_rows, validate_seed_table

T0 = 1_750_000_000_000_000_000
H100 = ProductId(1001)
A100 = ProductId(1003)
JAN_2026 = ContractDate(20260130)


def seeded_registry() -> SymbolRegistry:
    products, instruments = seed_rows(T0)
    return SymbolRegistry.from_rows(products, instruments)


# --- ProductIdSequence --------------------------------------------------------------------


def test_sequence_issues_odd_ids_from_1001_step_2() -> None:
    sequence = ProductIdSequence()
    issued = []
    for _ in range(4):
        product_id, sequence = sequence.issue()
        issued.append(product_id.value)
    assert issued == [1001, 1003, 1005, 1007]
    assert sequence.next_value == 1009
    assert sequence.peek() == ProductId(1009)


def test_sequence_moves_above_a_seeded_id_and_never_back() -> None:
    sequence = ProductIdSequence().after_seed(ProductId(1021))
    assert sequence.peek() == ProductId(1023)
    assert sequence.after_seed(ProductId(1005)) == sequence  # never moves back
    product_id, sequence = sequence.issue()
    assert product_id == ProductId(1023)


def test_sequence_exhaustion_is_a_typed_error_not_a_wraparound() -> None:
    sequence = ProductIdSequence(PRODUCT_ID_MAX)
    last, sequence = sequence.issue()
    assert last == ProductId(PRODUCT_ID_MAX)
    assert sequence.is_exhausted
    with pytest.raises(Conflict) as caught:
        sequence.issue()
    assert (caught.value.field, caught.value.value) == ("product_id_seq", PRODUCT_ID_EXHAUSTED)


@pytest.mark.parametrize("value", [1000, 999, 1, 0, -1001, PRODUCT_ID_EXHAUSTED + 2, True])
def test_sequence_rejects_impossible_positions(value: int) -> None:
    with pytest.raises(InvalidValue) as caught:
        ProductIdSequence(value)
    assert (caught.value.field, caught.value.value) == ("product_id_seq", value)


# --- SymbolRegistry -------------------------------------------------------------------------


def test_registry_resolves_both_directions() -> None:
    registry = seeded_registry()
    assert len(registry) == len(SEED_PERPETUALS)
    assert registry.contract_for("COMPUTEDESK-H100-PERP") == ContractId.perp(H100)
    assert registry.symbol_for(ContractId.perp(H100)) == "COMPUTEDESK-H100-PERP"
    assert registry.product_name(H100) == "COMPUTEDESK-H100"
    assert "COMPUTEDESK-H100-PERP" in registry
    assert "NOPE" not in registry
    assert registry.find_contract("NOPE") is None
    assert registry.find_symbol(ContractId.new(H100, JAN_2026)) is None
    symbols = [symbol for symbol, _ in registry.items()]
    assert symbols == sorted(row.symbol for row in SEED_PERPETUALS)
    assert registry.as_mapping() == {row.symbol: row.contract for row in SEED_PERPETUALS}


def test_registry_lists_a_products_contracts_in_term_order() -> None:
    products, instruments = seed_rows(T0)
    dated = (
        Instrument("COMPUTEDESK-H100-FEB-2026", ContractId.new(H100, ContractDate(20260227)), T0),
        Instrument("COMPUTEDESK-H100-JAN-2026", ContractId.new(H100, JAN_2026), T0),
    )
    registry = SymbolRegistry.from_rows(products, instruments + dated)
    assert registry.contracts_of(H100) == (
        ContractId.perp(H100),
        ContractId.new(H100, JAN_2026),
        ContractId.new(H100, ContractDate(20260227)),
    )
    assert registry.contracts_of(A100) == (ContractId.perp(A100),)


def test_registry_lookups_of_unknown_keys_raise_not_found() -> None:
    registry = seeded_registry()
    with pytest.raises(NotFound) as caught:
        registry.contract_for("COMPUTEDESK-H100-JAN-2026")
    assert (caught.value.field, caught.value.value) == ("symbol", "COMPUTEDESK-H100-JAN-2026")
    dated = ContractId.new(H100, JAN_2026)
    with pytest.raises(NotFound) as caught:
        registry.symbol_for(dated)
    assert (caught.value.field, caught.value.value) == ("contract", dated.value)
    with pytest.raises(NotFound) as caught:
        registry.product_name(ProductId(4001))
    assert (caught.value.field, caught.value.value) == ("product_id", 4001)


def test_registry_rejects_a_duplicate_symbol() -> None:
    products, instruments = seed_rows(T0)
    clash = Instrument("COMPUTEDESK-H100-PERP", ContractId.new(H100, JAN_2026), T0)
    with pytest.raises(Conflict) as caught:
        SymbolRegistry.from_rows(products, (*instruments, clash))
    assert (caught.value.field, caught.value.value) == ("symbol", "COMPUTEDESK-H100-PERP")


def test_registry_rejects_two_symbols_for_one_contract() -> None:
    products, instruments = seed_rows(T0)
    alias = Instrument("H100-PERP", ContractId.perp(H100))
    with pytest.raises(Conflict) as caught:
        SymbolRegistry.from_rows(products, (*instruments, alias))
    assert (caught.value.field, caught.value.value) == ("symbol", "H100-PERP")
    assert "COMPUTEDESK-H100-PERP" in caught.value.problem


def test_registry_rejects_duplicate_products_and_unknown_products() -> None:
    product = Product(H100, "COMPUTEDESK-H100", T0)
    with pytest.raises(Conflict) as caught:
        SymbolRegistry.from_rows([product, Product(H100, "OTHER", T0)], [])
    assert (caught.value.field, caught.value.value) == ("product_id", 1001)
    with pytest.raises(Conflict) as caught:
        SymbolRegistry.from_rows([product, Product(A100, "COMPUTEDESK-H100", T0)], [])
    assert (caught.value.field, caught.value.value) == ("product_name", "COMPUTEDESK-H100")
    orphan = Instrument("COMPUTEDESK-A100-PERP", ContractId.perp(A100))
    with pytest.raises(NotFound) as missing:
        SymbolRegistry.from_rows([product], [orphan])
    assert (missing.value.field, missing.value.value) == ("symbol", "COMPUTEDESK-A100-PERP")


def test_empty_registry() -> None:
    registry = SymbolRegistry.from_rows([], [])
    assert len(registry) == 0
    assert registry.items() == ()


# --- instrument rows ----------------------------------------------------------------------


def test_instrument_exposes_product_and_date_and_keeps_identity_on_expiry_change() -> None:
    instrument = Instrument("COMPUTEDESK-H100-JAN-2026", ContractId.new(H100, JAN_2026), T0)
    assert (instrument.product, instrument.contract_date) == (H100, JAN_2026)
    assert not instrument.is_perp
    moved = instrument.with_expiration(T0 + 86_400_000_000_000)
    assert moved.contract == instrument.contract
    assert moved.symbol == instrument.symbol
    assert moved.expiration_ns == T0 + 86_400_000_000_000


def test_instrument_rejects_usd_negative_expiry_and_an_expiring_perpetual() -> None:
    with pytest.raises(InvalidValue) as caught:
        Instrument("USD", ContractId.usd())
    assert (caught.value.field, caught.value.value) == ("contract", 1)
    with pytest.raises(InvalidValue) as caught:
        Instrument("COMPUTEDESK-H100-JAN-2026", ContractId.new(H100, JAN_2026), -1)
    assert (caught.value.field, caught.value.value) == ("expiration_ns", -1)
    with pytest.raises(InvalidValue) as caught:
        Instrument("COMPUTEDESK-H100-PERP", ContractId.perp(H100), T0)
    assert (caught.value.field, caught.value.value) == ("expiration_ns", T0)
    with pytest.raises(InvalidValue) as caught:
        Instrument(" PADDED", ContractId.perp(H100))
    assert (caught.value.field, caught.value.value) == ("symbol", " PADDED")


def test_product_row_rejects_untyped_id_and_bad_name() -> None:
    with pytest.raises(InvalidValue) as caught:
        Product(1001, "COMPUTEDESK-H100", T0)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.value) == ("product_id", 1001)
    with pytest.raises(InvalidValue) as caught:
        Product(H100, "", T0)
    assert (caught.value.field, caught.value.value) == ("name", "")
    with pytest.raises(InvalidValue) as caught:
        Product(H100, "COMPUTEDESK-H100", -5)
    assert (caught.value.field, caught.value.value) == ("created_at_ns", -5)


# --- the seed table and the startup check --------------------------------------------------


def test_seed_table_is_perpetuals_with_odd_historic_ids() -> None:
    validate_seed_table(SEED_PERPETUALS)
    ids = [row.product_id.value for row in SEED_PERPETUALS]
    assert ids == sorted(ids)
    assert ids[0] == 1001
    assert all(row.contract.is_perp for row in SEED_PERPETUALS)
    assert all(row.symbol == f"{row.product_name}-PERP" for row in SEED_PERPETUALS)


def test_seed_table_with_a_duplicate_is_rejected() -> None:
    row = SEED_PERPETUALS[0]
    twin = attrs.evolve(SEED_PERPETUALS[1], symbol=row.symbol)
    with pytest.raises(Conflict) as caught:
        validate_seed_table([row, twin])
    assert (caught.value.field, caught.value.value) == ("symbol", row.symbol)


def test_check_passes_on_the_seeded_registry_with_later_listings() -> None:
    products, instruments = seed_rows(T0)
    later = Product(ProductId(1013), "COMPUTEDESK-GH200", T0)
    dated = Instrument("COMPUTEDESK-H100-JAN-2026", ContractId.new(H100, JAN_2026), T0)
    new_perp = Instrument("COMPUTEDESK-GH200-PERP", ContractId.perp(later.product_id))
    registry = SymbolRegistry.from_rows((*products, later), (*instruments, dated, new_perp))
    check_against_seed(registry)  # must not raise


def expect_mismatch(registry: SymbolRegistry, symbol: str, problem_part: str) -> SeedMismatch:
    with pytest.raises(SeedMismatch) as caught:
        check_against_seed(registry)
    error = caught.value
    assert isinstance(error, DomainError)
    assert (error.field, error.value) == ("symbol", symbol)
    assert symbol in error.symbols
    assert problem_part in error.problem
    return error


def test_check_fails_naming_a_missing_symbol() -> None:
    products, instruments = seed_rows(T0)
    kept = [i for i in instruments if i.symbol != "COMPUTEDESK-H200-PERP"]
    registry = SymbolRegistry.from_rows(products, kept)
    error = expect_mismatch(registry, "COMPUTEDESK-H200-PERP", "missing")
    assert error.symbols == ("COMPUTEDESK-H200-PERP",)


def test_check_fails_naming_a_symbol_mapped_to_another_contract() -> None:
    products, instruments = seed_rows(T0)
    swapped = [
        Instrument("COMPUTEDESK-A100-PERP", ContractId.perp(H100))
        if i.symbol == "COMPUTEDESK-A100-PERP"
        else Instrument("COMPUTEDESK-H100-PERP", ContractId.perp(A100))
        if i.symbol == "COMPUTEDESK-H100-PERP"
        else i
        for i in instruments
    ]
    registry = SymbolRegistry.from_rows(products, swapped)
    error = expect_mismatch(registry, "COMPUTEDESK-A100-PERP", "registry maps it to 1001@0")
    assert error.symbols == ("COMPUTEDESK-A100-PERP", "COMPUTEDESK-H100-PERP")


def test_check_fails_when_a_seed_symbol_became_a_dated_contract() -> None:
    products, instruments = seed_rows(T0)
    dated = [
        Instrument(i.symbol, ContractId.new(H100, JAN_2026), T0)
        if i.symbol == "COMPUTEDESK-H100-PERP"
        else i
        for i in instruments
    ]
    registry = SymbolRegistry.from_rows(products, dated)
    expect_mismatch(registry, "COMPUTEDESK-H100-PERP", "1001@20260130")


def test_check_fails_naming_the_symbol_of_a_renamed_product() -> None:
    products, instruments = seed_rows(T0)
    renamed = [
        attrs.evolve(p, name="COMPUTEDESK-H100-SXM") if p.product_id == H100 else p
        for p in products
    ]
    registry = SymbolRegistry.from_rows(renamed, instruments)
    expect_mismatch(registry, "COMPUTEDESK-H100-PERP", "COMPUTEDESK-H100-SXM")


def test_check_against_a_custom_seed() -> None:
    seed = [SeedPerpetual("X-PERP", ProductId(2001), "X")]
    with pytest.raises(SeedMismatch):
        check_against_seed(seeded_registry(), seed)
    products, instruments = seed_rows(T0, seed)
    check_against_seed(SymbolRegistry.from_rows(products, instruments), seed)


def test_load_symbol_registry_builds_from_the_store_and_checks_the_seed() -> None:
    store = MemoryProducts()
    products, instruments = seed_rows(T0)
    for product in products:
        store.seed_product(product)
    for instrument in instruments:
        store.add_instrument(instrument)
    registry = load_symbol_registry(store)
    assert registry.items() == seeded_registry().items()
    with pytest.raises(SeedMismatch) as caught:
        load_symbol_registry(MemoryProducts())
    assert caught.value.symbols == tuple(sorted(row.symbol for row in SEED_PERPETUALS))
