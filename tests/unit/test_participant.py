"""The account-keyed venue participant seam: names, paths and strict parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axdomain import (
    DEFAULT_PARTICIPANT_PREFIX,
    AccountId,
    InvalidValue,
    UserId,
    generate_participant,
    parse_participant,
    participant_path,
)
from axdomain.ulid import CROCKFORD_ALPHABET, ulid_to_text

U64_MAX = (1 << 64) - 1
USER = UserId(0x0190_F1B2_C3D4_E5F6)
ULID_OF_USER = "01J3RV5GYMWQV0000000000000"  # USER << 64 in Crockford base32
FIRM = "axfirm"


def test_default_prefix_is_documented_value() -> None:
    assert DEFAULT_PARTICIPANT_PREFIX == "ax"


def test_default_account_name_is_byte_identical_to_the_user_derived_name() -> None:
    assert USER.ulid_text() == ULID_OF_USER
    old_user_derived = f"{DEFAULT_PARTICIPANT_PREFIX}.{USER.ulid_text()}"
    name = generate_participant(USER.as_default_account_id())
    assert name == old_user_derived
    assert name.encode() == b"ax.01J3RV5GYMWQV0000000000000"


def test_generate_with_a_configured_prefix() -> None:
    account = AccountId(0x0190_0000_0000_0001)
    assert generate_participant(account, "axsandbox") == f"axsandbox.{account.ulid_text()}"
    assert participant_path(FIRM, account, "axsandbox") == (
        f"firms/{FIRM}/users/axsandbox.{account.ulid_text()}"
    )


def test_parse_returns_the_account() -> None:
    account = USER.as_default_account_id()
    path = f"firms/{FIRM}/users/ax.{ULID_OF_USER}"
    assert parse_participant(path) == account
    assert parse_participant(participant_path("Firm-2.io", account, "b2"), prefix="b2") == account


def test_system_account_round_trips() -> None:
    pnl = AccountId(1)
    assert parse_participant(participant_path(FIRM, pnl)) == pnl


@pytest.mark.parametrize(
    ("path", "problem_part"),
    [
        (f"firms/{FIRM}/users", "shape"),
        (f"firm/{FIRM}/users/ax.{ULID_OF_USER}", "shape"),
        (f"firms/{FIRM}/user/ax.{ULID_OF_USER}", "shape"),
        (f"firms/{FIRM}/users/ax.{ULID_OF_USER}/", "shape"),
        (f"/firms/{FIRM}/users/ax.{ULID_OF_USER}", "shape"),
        (f"firms/{FIRM}/accounts/ax.{ULID_OF_USER}", "shape"),
        (f"firms//users/ax.{ULID_OF_USER}", "firm"),
        (f"firms/a b/users/ax.{ULID_OF_USER}", "firm"),
        ("", "shape"),
        (f"firms/{FIRM}/users/bx.{ULID_OF_USER}", "ax."),  # wrong prefix
        (f"firms/{FIRM}/users/{ULID_OF_USER}", "ax."),  # no prefix
        (f"firms/{FIRM}/users/AX.{ULID_OF_USER}", "ax."),  # prefix is case-sensitive
        (f"firms/{FIRM}/users/ax-{ULID_OF_USER}", "ax."),
        (f"firms/{FIRM}/users/ax.{ULID_OF_USER.lower()}", "Crockford"),  # canonical only
        (f"firms/{FIRM}/users/ax.{ULID_OF_USER[:-1]}I", "Crockford"),  # I is no digit
        (f"firms/{FIRM}/users/ax.{ULID_OF_USER[:-1]}U", "Crockford"),
        (f"firms/{FIRM}/users/ax.{ULID_OF_USER}0", "26"),  # too long
        (f"firms/{FIRM}/users/ax.{ULID_OF_USER[:-1]}", "26"),  # too short
        (f"firms/{FIRM}/users/ax.8{'0' * 25}", "overflow"),  # over 128 bits
        (f"firms/{FIRM}/users/ax.{'Z' * 26}", "overflow"),
        (f"firms/{FIRM}/users/ax.{ULID_OF_USER[:-1]}1", "low 64"),  # a real ULID, not an id
        (f"firms/{FIRM}/users/ax.{ulid_to_text((1 << 64) | (1 << 63))}", "low 64"),
        (f"firms/{FIRM}/users/ax.{'0' * 26}", "zero"),
    ],
)
def test_parse_rejects_with_a_typed_error_naming_the_path(path: str, problem_part: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_participant(path)
    assert (caught.value.field, caught.value.value) == ("participant", path)
    assert problem_part in caught.value.problem


def test_parse_rejects_non_text() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_participant(42)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.value) == ("participant", 42)


@pytest.mark.parametrize("prefix", ["", "Ax", "a.b", "a/b", "1ax", "a" * 33, " ax"])
def test_bad_prefixes_are_rejected_on_both_sides(prefix: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        generate_participant(USER.as_default_account_id(), prefix)
    assert (caught.value.field, caught.value.value) == ("participant_prefix", prefix)
    with pytest.raises(InvalidValue) as caught:
        parse_participant(f"firms/{FIRM}/users/ax.{ULID_OF_USER}", prefix)
    assert (caught.value.field, caught.value.value) == ("participant_prefix", prefix)


def test_generate_rejects_a_user_id() -> None:
    """The seam is account-keyed: a UserId is not accepted in place of an AccountId."""
    with pytest.raises(InvalidValue) as caught:
        generate_participant(USER)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.value) == ("account_id", USER)


def test_path_rejects_a_bad_firm() -> None:
    with pytest.raises(InvalidValue) as caught:
        participant_path("a/b", AccountId(7))
    assert (caught.value.field, caught.value.value) == ("firm", "a/b")


prefixes = st.from_regex(r"[a-z][a-z0-9-]{0,31}", fullmatch=True)
firms = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", fullmatch=True)
accounts = st.integers(1, U64_MAX).map(AccountId)


@given(accounts, firms, prefixes)
def test_round_trip_for_every_account(account: AccountId, firm: str, prefix: str) -> None:
    name = generate_participant(account, prefix)
    assert name == f"{prefix}.{account.ulid_text()}"
    assert parse_participant(f"firms/{firm}/users/{name}", prefix) == account


@given(st.integers(1 << 16, U64_MAX))
def test_default_account_name_equals_user_name_for_every_user(value: int) -> None:
    user = UserId(value)
    account_name = generate_participant(user.as_default_account_id())
    assert account_name == f"ax.{user.ulid_text()}"
    assert account_name[3:].endswith("0" * 12)  # low 64 bits: 12 zero chars + 4 zero bits
    assert set(account_name[3:]) <= set(CROCKFORD_ALPHABET)


@given(accounts, st.integers(1, U64_MAX))
def test_nonzero_low_bits_are_always_rejected(account: AccountId, low: int) -> None:
    path = f"firms/{FIRM}/users/ax.{ulid_to_text(account.to_ulid() | low)}"
    with pytest.raises(InvalidValue) as caught:
        parse_participant(path)
    assert caught.value.value == path
