"""Credential values and the AES-GCM keyring: codecs, redaction, key parsing."""

from __future__ import annotations

import base64
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axadapters.vault import CredentialKeyring, SealedSecret
from axdomain import AccountId, InvalidValue, Side
from axdomain.venues import (
    CredentialKey,
    CredentialRef,
    CredentialUnreadable,
    SecretText,
    TradeDecision,
    VenueCredential,
    VenueId,
    redact,
)

ALPHA = AccountId(0x0190_0000_0000_0A01)
BETA = AccountId(0x0190_0000_0000_0B02)
FAKE = VenueId("fake")
KEY = CredentialKey(ALPHA, FAKE, 2)
RAW_KEY = bytes(range(32))


def test_secret_text_never_renders_its_value() -> None:
    secret = SecretText("hunter2-credential")
    rendered = [repr(secret), str(secret), f"{secret}", f"{secret!r}", ", ".join([str(secret)])]
    assert all("hunter2" not in text for text in rendered)
    assert secret.reveal() == "hunter2-credential"
    assert secret == SecretText("hunter2-credential") and secret != SecretText("other")
    with pytest.raises(TypeError):
        hash(secret)
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    with pytest.raises(InvalidValue) as err:
        SecretText("")
    assert err.value.value == "***"
    assert redact("auth failed for hunter2-credential", [secret]) == "auth failed for ***"


def test_a_credential_repr_shows_no_secret() -> None:
    credential = VenueCredential(
        CredentialRef(KEY, "ex-9"),
        api_key=SecretText("pk-visible-no"),
        api_secret=SecretText("sk-visible-no"),
        extras={"passphrase": SecretText("pp-visible-no")},
    )
    assert "visible-no" not in repr(credential)
    assert "ex-9" in repr(credential)


def test_associated_data_differs_for_every_part_of_the_key() -> None:
    variants = {
        KEY.associated_data(),
        CredentialKey(BETA, FAKE, 2).associated_data(),
        CredentialKey(ALPHA, VenueId("fakf"), 2).associated_data(),
        CredentialKey(ALPHA, FAKE, 3).associated_data(),
    }
    assert len(variants) == 4


texts = st.text(min_size=1, max_size=64)


@given(
    texts,
    texts,
    st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), texts, max_size=4),
)
def test_payload_round_trips_through_the_keyring(
    api_key: str, api_secret: str, extras: dict[str, str]
) -> None:
    credential = VenueCredential(
        CredentialRef(KEY),
        api_key=SecretText(api_key),
        api_secret=SecretText(api_secret),
        extras={name: SecretText(value) for name, value in extras.items()},
    )
    keyring = CredentialKeyring([("k1", RAW_KEY)])
    sealed = keyring.seal(KEY, credential.payload())
    assert VenueCredential.from_payload(credential.ref, keyring.open(KEY, sealed)) == credential
    with pytest.raises(CredentialUnreadable):
        keyring.open(CredentialKey(BETA, FAKE, 2), sealed)


def test_a_malformed_payload_is_unreadable_not_a_crash() -> None:
    with pytest.raises(CredentialUnreadable, match="malformed"):
        VenueCredential.from_payload(CredentialRef(KEY), b'{"v": 1}')


def test_keyring_parsing() -> None:
    standard = base64.b64encode(RAW_KEY).decode()
    urlsafe = base64.urlsafe_b64encode(bytes(range(1, 33))).decode().rstrip("=")
    keyring = CredentialKeyring.parse(f"new:{urlsafe}, old:{standard}")
    assert keyring.key_ids == ("new", "old") and keyring.current_key_id == "new"
    assert standard not in repr(keyring) and "new" in repr(keyring)
    generated = CredentialKeyring.parse(CredentialKeyring.generate_entry("fresh"))
    assert generated.current_key_id == "fresh"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "id:base64key"),
        ("nokey", "id:base64key"),
        ("k1:", "id:base64key"),
        ("bad id:" + base64.b64encode(RAW_KEY).decode(), "key id"),
        ("k1:" + base64.b64encode(b"short").decode(), "32 bytes"),
        ("k1:!!!notbase64!!!", "base64"),
        ("k1:{k},k1:{k}", "twice"),
    ],
)
def test_keyring_errors_never_echo_key_material(text: str, problem: str) -> None:
    material = base64.b64encode(RAW_KEY).decode()
    with pytest.raises(InvalidValue, match=problem) as err:
        CredentialKeyring.parse(text.replace("{k}", material))
    assert err.value.field == "AX_CREDENTIAL_KEYS"
    assert material not in str(err.value) and "notbase64" not in str(err.value)


def test_decision_hash_and_client_order_id_include_the_account() -> None:
    def decision(account: AccountId) -> TradeDecision:
        return TradeDecision(account, FAKE, "BTC-PERP", Side.BUY, 1, 50_000_000_000, "BTC-PERP@7")

    alpha, beta = decision(ALPHA), decision(BETA)
    assert alpha.decision_hash() != beta.decision_hash()
    assert alpha.decision_hash() == decision(ALPHA).decision_hash()
    assert alpha.client_order_id().startswith("0190000000000a01-")
    assert len(alpha.client_order_id()) == 64
    assert alpha.client_order_id() != beta.client_order_id()


@given(st.binary(min_size=1, max_size=256), st.data())
def test_any_single_bit_flip_fails_authentication(plaintext: bytes, data: st.DataObject) -> None:
    keyring = CredentialKeyring([("k1", RAW_KEY)])
    sealed = keyring.seal(KEY, plaintext)
    position = data.draw(st.integers(0, len(sealed.blob) - 1))
    bit = data.draw(st.integers(0, 7))
    blob = bytearray(sealed.blob)
    blob[position] ^= 1 << bit
    with pytest.raises(CredentialUnreadable):
        keyring.open(KEY, SealedSecret("k1", bytes(blob)))
    assert keyring.open(KEY, sealed) == plaintext
