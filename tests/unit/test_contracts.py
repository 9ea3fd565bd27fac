"""ContractId and ledger account ids: RFC 004 worked example and every bad-input class."""

from __future__ import annotations

import pytest

from axdomain import (
    USD_ASSET_ID,
    AccountId,
    ContractDate,
    ContractId,
    DomainError,
    InvalidValue,
    ProductId,
    TbAccountRef,
    UserId,
    decode_tb_account_id,
    derive_tb_account_id,
    derive_tb_basis_account_id,
    derive_tb_usd_account_id,
)
from axdomain.contracts import DATE_MASK, DATE_SHIFT, PRODUCT_ID_MAX, PRODUCT_MASK, SCHEME_TAG_BIT

H100 = ProductId(1001)  # COMPUTEDESK-H100 in the seed table
JAN_2026 = ContractDate(20260130)  # the nominal date of COMPUTEDESK-H100-JAN-2026
ACCOUNT = AccountId(0x0190_F1B2_C3D4_E5F6)


def assert_rejects(error: DomainError, field: str, value: object) -> None:
    assert isinstance(error, DomainError)
    assert isinstance(error, ValueError)
    assert error.field == field
    assert error.value == value
    assert repr(value) in str(error)


# --- the RFC's worked example -------------------------------------------------------------


def test_rfc_worked_example_monthly_contract_packs_date_above_product() -> None:
    contract = ContractId.new(H100, JAN_2026)
    assert contract.value == (20260130 << 32) | 1001
    assert contract.value == 0x0135_2522_0000_03E9  # 20260130 = 0x01352522, 1001 = 0x3E9
    assert contract.product == H100
    assert contract.date == JAN_2026
    assert not contract.is_perp
    assert not contract.is_usd
    assert contract.qty_ledger == 1001
    assert ContractId(contract.value) == contract
    assert str(contract) == "1001@20260130"


def test_rfc_worked_example_ledger_ids_of_a_dated_contract() -> None:
    contract = ContractId.new(H100, JAN_2026)
    qty_id = derive_tb_account_id(ACCOUNT, contract)
    assert qty_id == (ACCOUNT.value << 64) | (20260130 << 32) | 1001
    assert qty_id >> 64 == ACCOUNT.value
    assert (qty_id >> 32) & DATE_MASK == 20260130
    assert qty_id & PRODUCT_MASK == 1001
    basis_id = derive_tb_basis_account_id(ACCOUNT, contract)
    assert basis_id == qty_id + 1
    assert basis_id & PRODUCT_MASK == 1002  # the basis ledger
    assert decode_tb_account_id(qty_id) == TbAccountRef(ACCOUNT, contract, is_basis=False)
    ref = decode_tb_account_id(basis_id)
    assert ref == TbAccountRef(ACCOUNT, contract, is_basis=True)
    assert ref.ledger == 1002
    assert ref.user_data_32 == 20260130
    assert ref.tb_id == basis_id


def test_perpetual_is_the_bare_product_and_its_ledger_ids_are_unchanged() -> None:
    perp = ContractId.perp(H100)
    assert perp.value == 1001
    assert perp == ContractId.new(H100, ContractDate.perpetual())
    assert perp.is_perp
    assert perp.date.is_perpetual
    user = UserId(ACCOUNT.value)
    # the id an account had when ledgers were per instrument: user ULID | instrument id
    assert derive_tb_account_id(user.as_default_account_id(), perp) == user.to_ulid() | 1001
    assert decode_tb_account_id(user.to_ulid() | 1001).user_data_32 == 0


def test_usd_contract_and_account() -> None:
    usd = ContractId.usd()
    assert usd.value == USD_ASSET_ID == 1
    assert usd.is_usd
    assert not usd.is_perp
    assert usd.date == ContractDate(0)
    assert usd.qty_ledger == 1
    assert str(usd) == "USD"
    usd_id = derive_tb_usd_account_id(ACCOUNT)
    assert usd_id == (ACCOUNT.value << 64) | 1
    ref = decode_tb_account_id(usd_id)
    assert ref == TbAccountRef(ACCOUNT, usd)
    assert ref.is_usd and not ref.is_basis and ref.ledger == 1


def test_ordering_is_date_then_product() -> None:
    later_product = ProductId(1003)
    ordered = [
        ContractId.perp(H100),
        ContractId.perp(later_product),
        ContractId.new(later_product, ContractDate(20251231)),
        ContractId.new(H100, JAN_2026),
        ContractId.new(later_product, JAN_2026),
        ContractId.new(H100, ContractDate(20260227)),
    ]
    shuffled = [ordered[i] for i in (3, 0, 5, 2, 4, 1)]
    assert sorted(shuffled) == ordered


def test_leap_day_is_a_date_only_in_leap_years() -> None:
    assert ContractDate(20240229).day == 29
    assert ContractDate(20000229).month == 2
    with pytest.raises(InvalidValue):
        ContractDate(19000229)
    assert (JAN_2026.year, JAN_2026.month, JAN_2026.day) == (2026, 1, 30)


def test_product_id_ledgers_and_bounds() -> None:
    assert (H100.qty_ledger, H100.basis_ledger) == (1001, 1002)
    top = ProductId(PRODUCT_ID_MAX)
    assert top.basis_ledger == (1 << 32) - 2
    assert ContractId.perp(top).value == PRODUCT_ID_MAX


# --- bad input: each class raises a typed error naming field and value --------------------


@pytest.mark.parametrize(
    "value",
    [20260230, 20250229, 20261301, 20260001, 20260100, 20260132, 99999999, 1, 999_1231],
)
def test_impossible_dates_are_rejected(value: int) -> None:
    with pytest.raises(InvalidValue) as caught:
        ContractDate(value)
    assert_rejects(caught.value, "contract_date", value)


@pytest.mark.parametrize("value", [-1, -20260130, 1 << 31, 1 << 40])
def test_dates_out_of_width_or_negative_are_rejected(value: int) -> None:
    with pytest.raises(InvalidValue) as caught:
        ContractDate(value)
    assert_rejects(caught.value, "contract_date", value)


@pytest.mark.parametrize(
    "value", [0, 1, 2, 999, 1000, 1002, 4096, PRODUCT_ID_MAX + 1, PRODUCT_ID_MAX + 2, -1001]
)
def test_even_reserved_or_out_of_range_products_are_rejected(value: int) -> None:
    with pytest.raises(InvalidValue) as caught:
        ProductId(value)
    assert_rejects(caught.value, "product_id", value)


@pytest.mark.parametrize("value", [True, 1001.0, "1001", None])
def test_non_integers_are_rejected_not_coerced(value: object) -> None:
    for make, field in ((ProductId, "product_id"), (ContractDate, "contract_date")):
        with pytest.raises(InvalidValue) as caught:
            make(value)  # type: ignore[arg-type]
        assert_rejects(caught.value, field, value)
    with pytest.raises(InvalidValue) as caught:
        ContractId(value)  # type: ignore[arg-type]
    assert_rejects(caught.value, "contract_id", value)


@pytest.mark.parametrize(
    ("value", "problem_part"),
    [
        ((1 << SCHEME_TAG_BIT) | 1001, "bit 63"),
        ((1 << 64) - 1, "bit 63"),
        (1 << 64, "must be in"),
        (-1, "must be in"),
        (-1001, "must be in"),
        (0, "product_id"),
        (1002, "product_id"),  # even: only ever a basis account, never a contract
        ((20260130 << DATE_SHIFT) | 1002, "product_id"),
        ((20260230 << DATE_SHIFT) | 1001, "contract_date"),
        ((20250229 << DATE_SHIFT) | 1001, "contract_date"),
        ((20261301 << DATE_SHIFT) | 1001, "contract_date"),
        ((20260130 << DATE_SHIFT) | USD_ASSET_ID, "USD"),  # a USD id with a date
        (3, "product_id"),  # reserved range below 1001
        ((1 << 32) - 1, "product_id"),  # product field overflowing past the max
    ],
)
def test_invalid_contract_ids_are_rejected(value: int, problem_part: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        ContractId(value)
    assert_rejects(caught.value, "contract_id", value)
    assert problem_part in caught.value.problem


def test_usd_is_not_a_product() -> None:
    with pytest.raises(InvalidValue) as caught:
        _ = ContractId.usd().product
    assert_rejects(caught.value, "contract_id", 1)


def test_constructors_reject_untyped_parts() -> None:
    with pytest.raises(InvalidValue) as caught:
        ContractId.new(1001, JAN_2026)  # type: ignore[arg-type]
    assert_rejects(caught.value, "product", 1001)
    with pytest.raises(InvalidValue) as caught:
        ContractId.new(H100, 20260130)  # type: ignore[arg-type]
    assert_rejects(caught.value, "contract_date", 20260130)
    with pytest.raises(InvalidValue) as caught:
        ContractId.perp(1001)  # type: ignore[arg-type]
    assert_rejects(caught.value, "product", 1001)
    with pytest.raises(InvalidValue) as caught:
        derive_tb_account_id(ACCOUNT.value, ContractId.perp(H100))  # type: ignore[arg-type]
    assert_rejects(caught.value, "account_id", ACCOUNT.value)
    with pytest.raises(InvalidValue) as caught:
        derive_tb_account_id(ACCOUNT, 1001)  # type: ignore[arg-type]
    assert_rejects(caught.value, "contract", 1001)


def test_usd_has_no_basis_account() -> None:
    with pytest.raises(InvalidValue) as caught:
        derive_tb_basis_account_id(ACCOUNT, ContractId.usd())
    assert_rejects(caught.value, "contract", 1)
    with pytest.raises(InvalidValue) as caught:
        TbAccountRef(ACCOUNT, ContractId.usd(), is_basis=True)
    assert_rejects(caught.value, "contract", 1)


def _tb(low64: int, account: int = ACCOUNT.value) -> int:
    return (account << 64) | low64


@pytest.mark.parametrize(
    ("tb_id", "problem_part"),
    [
        (0, "must be in"),
        (-1, "must be in"),
        (1 << 128, "must be in"),
        (_tb((1 << SCHEME_TAG_BIT) | 1001), "bit 63"),
        (_tb(1001, account=0), "account_id"),  # no account has id 0
        (_tb(0), "product_id"),
        (_tb(2), "product_id"),  # USD has no basis twin
        (_tb(1000), "product_id"),  # basis of 999: reserved range
        (_tb(999), "product_id"),
        (_tb((1 << 32) - 1), "product_id"),  # qty id past the product range
        (_tb((20260130 << DATE_SHIFT) | 1), "USD"),  # USD with a date
        (_tb((20260230 << DATE_SHIFT) | 1001), "contract_date"),
        (_tb((20250229 << DATE_SHIFT) | 1002), "contract_date"),  # basis of an impossible date
        (_tb((20261301 << DATE_SHIFT) | 1001), "contract_date"),
    ],
)
def test_decode_rejects_everything_that_is_not_a_ledger_account_id(
    tb_id: int, problem_part: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        decode_tb_account_id(tb_id)
    assert_rejects(caught.value, "tb_account_id", tb_id)
    assert problem_part in caught.value.problem


def test_decode_rejects_non_integers() -> None:
    for value in (True, "1", 1.0, None):
        with pytest.raises(InvalidValue) as caught:
            decode_tb_account_id(value)
        assert_rejects(caught.value, "tb_account_id", value)


def test_values_are_immutable_and_hashable() -> None:
    contract = ContractId.new(H100, JAN_2026)
    with pytest.raises(AttributeError):
        contract.value = 1  # type: ignore[misc]
    assert len({contract, ContractId(contract.value), ContractId.perp(H100)}) == 2
    assert ContractId.perp(H100) != H100  # type: ignore[comparison-overlap]  # different type
