from __future__ import annotations

import pytest

from axdomain import SYSTEM_ACCOUNTS, AccountId, DomainError, InvalidValue, UserId
from axdomain.ids import RESERVED_ID_LIMIT, U64_MAX


def test_canonical_text_is_16_lower_hex_digits() -> None:
    assert str(UserId(0x0190ABCDEF000001)) == "0190abcdef000001"
    assert str(AccountId(1)) == "0000000000000001"
    assert repr(AccountId(1)) == "AccountId(0x0000000000000001)"


@pytest.mark.parametrize(
    "text", ["0190ABCDEF000001", "190abcdef000001", "0x90abcdef000001", " 0190abcdef00000", "", 5]
)
def test_from_hex_is_strict(text: object) -> None:
    with pytest.raises(InvalidValue) as error:
        AccountId.from_hex(text)
    assert error.value.field == "account_id"
    assert error.value.value == text


@pytest.mark.parametrize("value", [-1, 0, U64_MAX + 1, True, 1.0, "12"])
def test_account_id_rejects_out_of_range_and_non_int(value: object) -> None:
    with pytest.raises(DomainError) as error:
        AccountId(value)  # type: ignore[arg-type]
    assert error.value.field == "account_id"
    assert isinstance(error.value, ValueError)


def test_user_ids_never_fall_in_the_reserved_system_range() -> None:
    with pytest.raises(InvalidValue) as error:
        UserId(RESERVED_ID_LIMIT - 1)
    assert error.value.field == "user_id"
    assert UserId(RESERVED_ID_LIMIT).value == RESERVED_ID_LIMIT


def test_user_and_account_ids_never_compare_equal() -> None:
    user = UserId(0x0190_0000_0000_0001)
    account = AccountId(0x0190_0000_0000_0001)
    assert user != account  # type: ignore[comparison-overlap]
    assert user.as_default_account_id() == account
    assert len({user, account}) == 2


def test_default_account_is_the_same_bit_pattern() -> None:
    user = UserId(0x0123_4567_89AB_CDEF)
    assert user.as_default_account_id().value == user.value
    assert user.as_default_account_id().ulid_text() == user.ulid_text()


def test_ulid_forms() -> None:
    account = AccountId(0x0190_0000_0000_0001)
    assert account.to_ulid() == 0x0190_0000_0000_0001 << 64
    text = account.ulid_text()
    assert len(text) == 26
    assert text == "01J0000000000G000000000000"  # chunked 5-bit reference
    assert AccountId.from_ulid_text(text) == account


def test_ulid_text_with_low_bits_set_is_rejected() -> None:
    with pytest.raises(InvalidValue, match="low 64 bits"):
        AccountId.from_ulid_text("01J0000000000G000000000001")


@pytest.mark.parametrize(
    "text",
    [
        "01j0000000000g000000000000",
        "01J0000000000G00000000000",
        "8" * 26,
        "01J0000000000G00000000000I",
    ],
)
def test_ulid_text_parse_is_strict(text: str) -> None:
    with pytest.raises(InvalidValue):
        AccountId.from_ulid_text(text)


def test_system_accounts_are_reserved_and_named() -> None:
    assert SYSTEM_ACCOUNTS.by_name() == {
        "AX_PNL": AccountId(1),
        "AX_FEES": AccountId(2),
        "AX_SETTLEMENT": AccountId(3),
        "AX_CUSTODY": AccountId(4),
        "AX_FUNDING": AccountId(5),
        "AX_LENDING": AccountId(6),
    }
    assert all(account.is_reserved for account in SYSTEM_ACCOUNTS)
    assert not UserId(RESERVED_ID_LIMIT).as_default_account_id().is_reserved
