"""Properties of the ContractId codec and the ledger account id derivation (RFC 004)."""

from __future__ import annotations

import calendar
import datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from axdomain import (
    USD_ASSET_ID,
    AccountId,
    ContractDate,
    ContractId,
    InvalidValue,
    ProductId,
    TbAccountRef,
    decode_tb_account_id,
    derive_tb_account_id,
    derive_tb_basis_account_id,
    derive_tb_usd_account_id,
)
from axdomain.contracts import DATE_SHIFT, PRODUCT_ID_MAX, PRODUCT_ID_MIN, SCHEME_TAG_BIT

U64_MAX = (1 << 64) - 1

product_ids = st.integers(PRODUCT_ID_MIN // 2, PRODUCT_ID_MAX // 2).map(lambda n: 2 * n + 1)
products = product_ids.map(ProductId)
calendar_dates = st.dates(datetime.date(1000, 1, 1), datetime.date(9999, 12, 31)).map(
    lambda d: d.year * 10_000 + d.month * 100 + d.day
)
dates = st.one_of(st.just(0), calendar_dates).map(ContractDate)
contracts = st.builds(ContractId.new, products, dates)
accounts = st.integers(1, U64_MAX).map(AccountId)


def is_calendar_date(yyyymmdd: int) -> bool:
    """Independent oracle (the standard library's calendar) for "a real YYYYMMDD date"."""
    year, month, day = yyyymmdd // 10_000, yyyymmdd // 100 % 100, yyyymmdd % 100
    if not (1000 <= year <= 9999 and 1 <= month <= 12):
        return False
    return 1 <= day <= calendar.monthrange(year, month)[1]


@given(products, dates)
def test_pack_unpack_round_trip(product: ProductId, date: ContractDate) -> None:
    contract = ContractId.new(product, date)
    assert contract.value == (date.value << 32) | product.value
    assert contract.product == product
    assert contract.date == date
    assert contract.is_perp == (date.value == 0)
    assert ContractId(contract.value) == contract
    assert contract.value >> SCHEME_TAG_BIT == 0


@given(products)
def test_perpetual_equals_bare_product(product: ProductId) -> None:
    perp = ContractId.perp(product)
    assert perp.value == product.value
    assert perp == ContractId.new(product, ContractDate(0))
    assert perp.is_perp


@given(contracts, contracts)
def test_ordering_is_date_then_product(a: ContractId, b: ContractId) -> None:
    key_a = (a.date.value, a.product.value)
    key_b = (b.date.value, b.product.value)
    assert (a < b) == (key_a < key_b)
    assert (a == b) == (key_a == key_b)


@given(accounts, contracts)
def test_decode_inverts_qty_and_basis_derivation(account: AccountId, contract: ContractId) -> None:
    qty_id = derive_tb_account_id(account, contract)
    basis_id = derive_tb_basis_account_id(account, contract)
    assert basis_id == qty_id + 1
    qty = decode_tb_account_id(qty_id)
    basis = decode_tb_account_id(basis_id)
    assert qty == TbAccountRef(account, contract, is_basis=False)
    assert basis == TbAccountRef(account, contract, is_basis=True)
    assert (qty.ledger, basis.ledger) == (contract.product.value, contract.product.value + 1)
    assert qty.user_data_32 == basis.user_data_32 == contract.date.value
    assert (qty.tb_id, basis.tb_id) == (qty_id, basis_id)


@given(accounts)
def test_decode_inverts_usd_derivation(account: AccountId) -> None:
    usd_id = derive_tb_usd_account_id(account)
    assert usd_id == derive_tb_account_id(account, ContractId.usd())
    ref = decode_tb_account_id(usd_id)
    assert ref == TbAccountRef(account, ContractId.usd())
    assert ref.ledger == USD_ASSET_ID


@given(st.integers(1, (1 << 128) - 1))
def test_decode_accepts_exactly_the_derived_ids(tb_id: int) -> None:
    """Any u128 either decodes to a ref that re-derives the same id, or is rejected."""
    try:
        ref = decode_tb_account_id(tb_id)
    except InvalidValue as error:
        assert error.field == "tb_account_id"
        assert error.value == tb_id
        return
    assert ref.tb_id == tb_id


# --- invalid classes ------------------------------------------------------------------------


@given(st.integers(0, U64_MAX))
def test_bit_63_set_is_rejected(low63: int) -> None:
    value = (1 << SCHEME_TAG_BIT) | (low63 & ((1 << SCHEME_TAG_BIT) - 1))
    with pytest.raises(InvalidValue) as caught:
        ContractId(value)
    assert (caught.value.field, caught.value.value) == ("contract_id", value)


@given(st.integers(-(1 << 40), 1 << 40))
def test_contract_date_accepts_exactly_zero_and_calendar_dates(value: int) -> None:
    if value == 0 or is_calendar_date(value):
        assert ContractDate(value).value == value
    else:
        with pytest.raises(InvalidValue) as caught:
            ContractDate(value)
        assert (caught.value.field, caught.value.value) == ("contract_date", value)


@given(st.integers(10_000_101, 99_991_231))
def test_eight_digit_numbers_that_are_not_dates_are_rejected(value: int) -> None:
    assume(not is_calendar_date(value))
    with pytest.raises(InvalidValue) as caught:
        ContractDate(value)
    assert caught.value.field == "contract_date"


@given(st.integers(-(1 << 34), 1 << 34))
def test_product_id_accepts_exactly_odd_ids_in_range(value: int) -> None:
    if value % 2 == 1 and PRODUCT_ID_MIN <= value <= PRODUCT_ID_MAX:
        assert ProductId(value).value == value
    else:
        with pytest.raises(InvalidValue) as caught:
            ProductId(value)
        assert (caught.value.field, caught.value.value) == ("product_id", value)


@given(st.integers(0, (1 << 32) - 1), dates)
def test_even_or_reserved_low_bits_are_never_a_contract(low: int, date: ContractDate) -> None:
    assume(low % 2 == 0 or low < PRODUCT_ID_MIN or low > PRODUCT_ID_MAX)
    assume(not (low == USD_ASSET_ID and date.value == 0))
    value = (date.value << DATE_SHIFT) | low
    with pytest.raises(InvalidValue) as caught:
        ContractId(value)
    assert (caught.value.field, caught.value.value) == ("contract_id", value)


@given(calendar_dates)
def test_usd_with_a_date_is_rejected(date: int) -> None:
    value = (date << DATE_SHIFT) | USD_ASSET_ID
    with pytest.raises(InvalidValue) as caught:
        ContractId(value)
    assert caught.value.value == value
    with pytest.raises(InvalidValue) as caught:
        decode_tb_account_id((7 << 64) | value)
    assert caught.value.field == "tb_account_id"


@given(st.one_of(st.integers(max_value=-1), st.integers(min_value=1 << 64)))
def test_values_outside_64_bits_are_rejected(value: int) -> None:
    with pytest.raises(InvalidValue) as caught:
        ContractId(value)
    assert (caught.value.field, caught.value.value) == ("contract_id", value)


@given(st.one_of(st.integers(max_value=0), st.integers(min_value=1 << 128)))
def test_ledger_ids_outside_u128_are_rejected(value: int) -> None:
    with pytest.raises(InvalidValue) as caught:
        decode_tb_account_id(value)
    assert (caught.value.field, caught.value.value) == ("tb_account_id", value)


@given(
    st.one_of(
        st.integers(0, (1 << 128) + 5),
        st.builds(derive_tb_account_id, accounts, contracts),
        st.builds(lambda c: c.value, contracts),  # owner 0: never a ledger account id
    )
)
def test_the_memoized_fast_path_decodes_exactly_like_the_full_check(tb_id: int) -> None:
    """Every decode goes through the full check first and the memo after: same value (or the
    same typed error) both times, and equal to what the full check alone says."""
    from axdomain.ledger_ids import _decode_checked

    outcomes = []
    for decode in (decode_tb_account_id, decode_tb_account_id, _decode_checked):
        try:
            outcomes.append(decode(tb_id))
        except InvalidValue as error:
            outcomes.append(f"{type(error).__name__}: {error}")
    assert outcomes[0] == outcomes[1] == outcomes[2]
    if isinstance(outcomes[0], TbAccountRef):
        assert type(outcomes[1].account_id) is AccountId
        assert outcomes[1].account_id.value == tb_id >> 64
