"""Product and instrument rows: inclusive time bounds, exact refusals, derived properties."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from axdomain import ContractDate, ContractId, Instrument, InvalidValue, Product, ProductId

I64_MAX = (1 << 63) - 1
H100 = ProductId(1001)
PERP = ContractId.perp(H100)
DATED = ContractId.new(H100, ContractDate(20260130))
RANGE = f"must be in [0, {I64_MAX}]"


def _refusal(call: Callable[[], object]) -> tuple[str, object, str]:
    with pytest.raises(InvalidValue) as raised:
        call()
    return raised.value.field, raised.value.value, raised.value.problem


@pytest.mark.parametrize("at_ns", [0, I64_MAX])
def test_times_are_inclusive_at_both_ends(at_ns: int) -> None:
    assert Product(H100, "H100", at_ns).created_at_ns == at_ns
    dated = Instrument("H-JAN", DATED, at_ns, at_ns)
    assert (dated.expiration_ns, dated.delisted_at_ns) == (at_ns, at_ns)
    assert Instrument("H-PERP", PERP, None, at_ns).delisted_at_ns == at_ns


@pytest.mark.parametrize("at_ns", [-1, I64_MAX + 1])
def test_times_outside_the_range_are_refused(at_ns: int) -> None:
    assert _refusal(lambda: Product(H100, "H100", at_ns)) == ("created_at_ns", at_ns, RANGE)
    assert _refusal(lambda: Instrument("H-JAN", DATED, at_ns)) == ("expiration_ns", at_ns, RANGE)
    assert _refusal(lambda: Instrument("H-JAN", DATED, None, at_ns)) == (
        "delisted_at_ns",
        at_ns,
        RANGE,
    )


def test_refusals_name_field_value_and_problem() -> None:
    assert _refusal(lambda: Product(1001, "H100", 0)) == (  # type: ignore[arg-type]
        "product_id",
        1001,
        "must be a ProductId",
    )
    assert _refusal(lambda: Product(H100, "", 0))[0] == "name"
    assert _refusal(lambda: Instrument("X", 1001)) == (  # type: ignore[arg-type]
        "contract",
        1001,
        "must be a ContractId",
    )
    assert _refusal(lambda: Instrument("X", ContractId.usd())) == (
        "contract",
        1,
        "the USD asset is not tradable",
    )
    assert _refusal(lambda: Instrument("X", PERP, 0)) == (
        "expiration_ns",
        0,
        "a perpetual never expires",
    )
    assert _refusal(lambda: Instrument("x" * 65, PERP))[0] == "symbol"
    assert Instrument("x" * 64, PERP).symbol == "x" * 64


def test_instrument_properties_and_new_expiry() -> None:
    dated = Instrument("H-JAN", DATED, 5)
    assert (dated.product, dated.contract_date, dated.is_perp) == (H100, DATED.date, False)
    assert Instrument("H-PERP", PERP).is_perp
    moved = dated.with_expiration(9)
    assert moved == Instrument("H-JAN", DATED, 9)
    assert dated.with_expiration(None).expiration_ns is None
