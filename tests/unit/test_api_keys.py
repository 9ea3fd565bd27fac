from __future__ import annotations

import pytest

from axdomain import (
    AccountId,
    Grant,
    InvalidValue,
    KeyScopeError,
    Permissions,
    UserId,
    mint_api_key,
    parse_token,
    verify_secret,
)
from axdomain.api_keys import ApiKey, hash_secret

ALICE = UserId(0x0190_0000_0000_0001)
DESK = AccountId(0x0190_0000_0000_00D0)
PEPPER = b"p" * 32
SECRET = bytes(range(32))


def mint(scope: Permissions, grant: Grant | None) -> tuple[ApiKey, str]:
    return mint_api_key(
        key_id=7,
        user_id=ALICE,
        account_id=DESK,
        scope=scope,
        grant=grant,
        secret=SECRET,
        pepper=PEPPER,
        now_ns=99,
    )


def test_minted_key_stores_only_a_keyed_hash_and_the_token_verifies() -> None:
    key, token = mint(Permissions.READ_ONLY, Grant(ALICE, DESK, Permissions.TRADER))
    assert key.secret_hash == hash_secret(SECRET, PEPPER)
    assert SECRET not in key.secret_hash and SECRET.hex() not in repr(key)
    parsed = parse_token(token)
    assert (parsed.key_id, parsed.secret) == (7, SECRET)
    assert verify_secret(key, parsed.secret, PEPPER)
    assert not verify_secret(key, b"x" * 32, PEPPER)
    assert not verify_secret(key, SECRET, b"q" * 32)


def test_scope_wider_than_grant_is_a_typed_error_naming_the_extra_flags() -> None:
    with pytest.raises(KeyScopeError) as error:
        mint(Permissions.FULL_ACCESS, Grant(ALICE, DESK, Permissions.TRADER))
    assert error.value.field == "scope"
    assert "can_set_limits" in str(error.value)


def test_no_grant_means_no_key() -> None:
    with pytest.raises(KeyScopeError):
        mint(Permissions.READ_ONLY, None)
    with pytest.raises(KeyScopeError):
        mint(
            Permissions.READ_ONLY,
            Grant(ALICE, AccountId(0x0190_0000_0000_00E0), Permissions.TRADER),
        )


def test_empty_scope_and_short_secret_are_rejected() -> None:
    with pytest.raises(KeyScopeError):
        mint(Permissions.NONE, Grant(ALICE, DESK, Permissions.TRADER))
    with pytest.raises(InvalidValue) as error:
        mint_api_key(
            key_id=7,
            user_id=ALICE,
            account_id=DESK,
            scope=Permissions.READ_ONLY,
            grant=Grant(ALICE, DESK, Permissions.TRADER),
            secret=b"short",
            pepper=PEPPER,
            now_ns=1,
        )
    assert error.value.field == "secret"


def test_revoked_key_never_verifies() -> None:
    key, _ = mint(Permissions.READ_ONLY, Grant(ALICE, DESK, Permissions.TRADER))
    revoked = ApiKey(key.key_id, key.user_id, key.account_id, key.scope, key.secret_hash, 1, 2)
    assert not verify_secret(revoked, SECRET, PEPPER)


@pytest.mark.parametrize(
    "token",
    ["", "axk_7_00", "axk_0000000000000007_" + "0" * 63, "xyz_0000000000000007_" + "0" * 64],
)
def test_malformed_tokens_are_rejected_without_echoing_them(token: str) -> None:
    with pytest.raises(InvalidValue) as error:
        parse_token(token)
    assert error.value.field == "api_key"
    assert error.value.value == "<redacted>"


def test_legacy_key_acts_on_its_users_default_account() -> None:
    legacy = ApiKey(8, ALICE, None, Permissions.FULL_ACCESS, b"h" * 32, 0)
    principal = legacy.principal()
    assert principal.account_id == ALICE.as_default_account_id()
    assert principal.user_id == ALICE
