"""Contract suite for the credentials vault port: sealing, binding, keys, rotation, shares."""

from __future__ import annotations

import pytest

from axadapters.vault.keyring import CredentialKeyring, SealedSecret
from axdomain import AccountId, InvalidValue
from axdomain.venues import (
    CredentialKey,
    CredentialRef,
    CredentialShare,
    CredentialUnreadable,
    CredentialVault,
    SecretText,
    ShareLevel,
    VenueCredential,
    VenueId,
)
from axdomain.venues.ports import MAX_ROTATION_BATCH

ALPHA = AccountId(0x0190_0000_0000_0A01)
BETA = AccountId(0x0190_0000_0000_0B02)
GAMMA = AccountId(0x0190_0000_0000_0C03)
FAKE = VenueId("fake")
BACKPACK = VenueId("backpack")
API_SECRET = "vault-suite-secret-8d1f"  # must never show up outside a SecretText
KEY_ONE = ("k1", bytes(range(32)))
KEY_TWO = ("k2", bytes(range(32, 64)))


def credential(
    account: AccountId = ALPHA,
    venue: VenueId = FAKE,
    subaccount: int = 0,
    secret: str = API_SECRET,
    *,
    active: bool = True,
) -> VenueCredential:
    ref = CredentialRef(CredentialKey(account, venue, subaccount), f"ex-{account}", active)
    return VenueCredential(
        ref,
        api_key=SecretText(f"key-{account}-{venue}-{subaccount}"),
        api_secret=SecretText(secret),
        extras={"passphrase": SecretText(secret + "-pass")},
    )


class VaultContract:
    """Subclasses provide the vault and raw row access (to tamper as an attacker would)."""

    def make_vault(self, keyring: CredentialKeyring) -> CredentialVault:
        raise NotImplementedError

    def reopen(self, vault: CredentialVault, keyring: CredentialKeyring) -> CredentialVault:
        raise NotImplementedError

    def raw_sealed(self, vault: CredentialVault, key: CredentialKey) -> SealedSecret:
        raise NotImplementedError

    def raw_store(self, vault: CredentialVault, ref: CredentialRef, sealed: SealedSecret) -> None:
        raise NotImplementedError

    def vault(self) -> CredentialVault:
        return self.make_vault(CredentialKeyring([KEY_ONE]))

    def test_round_trip_keeps_every_secret_and_the_ref(self) -> None:
        vault = self.vault()
        stored = credential()
        vault.put_credential(stored)
        loaded = vault.get_credential(stored.key)
        assert loaded == stored
        assert loaded is not None and loaded.api_secret.reveal() == API_SECRET
        assert dict(loaded.extras)["passphrase"].reveal() == API_SECRET + "-pass"
        assert vault.get_ref(stored.key) == stored.ref
        assert vault.get_credential(CredentialKey(BETA, FAKE)) is None
        assert vault.get_ref(CredentialKey(ALPHA, FAKE, 1)) is None

    def test_the_stored_row_holds_no_plaintext_and_a_fresh_nonce_per_write(self) -> None:
        vault = self.vault()
        stored = credential()
        vault.put_credential(stored)
        first = self.raw_sealed(vault, stored.key)
        assert API_SECRET.encode() not in first.blob
        assert first.key_id == "k1"
        vault.put_credential(stored)
        assert self.raw_sealed(vault, stored.key).blob != first.blob

    def test_put_replaces_the_row_of_its_key(self) -> None:
        vault = self.vault()
        vault.put_credential(credential())
        vault.put_credential(credential(secret="second-secret", active=False))
        loaded = vault.get_credential(CredentialKey(ALPHA, FAKE))
        assert loaded is not None and loaded.api_secret.reveal() == "second-secret"
        assert loaded.ref.is_active is False

    def test_refs_are_per_account_ordered_by_venue_then_subaccount(self) -> None:
        vault = self.vault()
        for venue, sub in ((FAKE, 2), (BACKPACK, 0), (FAKE, 0)):
            vault.put_credential(credential(ALPHA, venue, sub))
        vault.put_credential(credential(BETA))
        keys = [ref.key for ref in vault.refs_for_account(ALPHA)]
        assert keys == [
            CredentialKey(ALPHA, BACKPACK, 0),
            CredentialKey(ALPHA, FAKE, 0),
            CredentialKey(ALPHA, FAKE, 2),
        ]
        assert [ref.key.account_id for ref in vault.refs_for_account(BETA)] == [BETA]
        assert vault.refs_for_account(GAMMA) == []

    def test_delete(self) -> None:
        vault = self.vault()
        vault.put_credential(credential())
        assert vault.delete_credential(CredentialKey(ALPHA, FAKE)) is True
        assert vault.delete_credential(CredentialKey(ALPHA, FAKE)) is False
        assert vault.get_credential(CredentialKey(ALPHA, FAKE)) is None

    @pytest.mark.parametrize(
        "target",
        [
            CredentialKey(BETA, FAKE, 0),  # another account
            CredentialKey(ALPHA, BACKPACK, 0),  # another venue
            CredentialKey(ALPHA, FAKE, 1),  # another subaccount
        ],
    )
    def test_a_row_copied_to_another_key_fails_to_decrypt(self, target: CredentialKey) -> None:
        vault = self.vault()
        source = credential()
        vault.put_credential(source)
        self.raw_store(vault, CredentialRef(target), self.raw_sealed(vault, source.key))
        with pytest.raises(CredentialUnreadable, match="another account/venue/subaccount") as err:
            vault.get_credential(target)
        assert err.value.value == str(target)
        assert API_SECRET not in str(err.value)

    @pytest.mark.parametrize("position", [0, 11, 12, 20, -1])
    def test_a_tampered_ciphertext_fails_to_decrypt(self, position: int) -> None:
        vault = self.vault()
        stored = credential()
        vault.put_credential(stored)
        sealed = self.raw_sealed(vault, stored.key)
        blob = bytearray(sealed.blob)
        blob[position] ^= 0x01
        self.raw_store(vault, stored.ref, SealedSecret(sealed.key_id, bytes(blob)))
        with pytest.raises(CredentialUnreadable, match="authentication failed"):
            vault.get_credential(stored.key)

    def test_a_truncated_ciphertext_fails_to_decrypt(self) -> None:
        vault = self.vault()
        stored = credential()
        vault.put_credential(stored)
        sealed = self.raw_sealed(vault, stored.key)
        self.raw_store(vault, stored.ref, SealedSecret(sealed.key_id, sealed.blob[:20]))
        with pytest.raises(CredentialUnreadable, match="truncated"):
            vault.get_credential(stored.key)

    def test_an_unknown_key_id_is_named_in_the_error(self) -> None:
        vault = self.vault()
        stored = credential()
        vault.put_credential(stored)
        only_new = self.reopen(vault, CredentialKeyring([KEY_TWO]))
        with pytest.raises(CredentialUnreadable, match="unconfigured key") as err:
            only_new.get_credential(stored.key)
        assert err.value.field == "key_id" and err.value.value == "k1"
        assert only_new.get_ref(stored.key) == stored.ref  # the clear part stays readable

    def test_every_listed_key_decrypts_and_the_first_encrypts(self) -> None:
        vault = self.vault()
        vault.put_credential(credential(ALPHA))
        both = self.reopen(vault, CredentialKeyring([KEY_TWO, KEY_ONE]))
        assert both.get_credential(CredentialKey(ALPHA, FAKE)) == credential(ALPHA)
        both.put_credential(credential(BETA))
        assert dict(both.key_usage()) == {"k1": 1, "k2": 1}
        assert self.raw_sealed(both, CredentialKey(BETA, FAKE)).key_id == "k2"

    def test_rotation_re_encrypts_every_row_in_bounded_batches(self) -> None:
        vault = self.vault()
        stored = [
            credential(account, venue, sub)
            for account in (ALPHA, BETA, GAMMA)
            for venue in (FAKE, BACKPACK)
            for sub in (0, 1)
        ]
        for item in stored:
            vault.put_credential(item)
        rotating = self.reopen(vault, CredentialKeyring([KEY_TWO, KEY_ONE]))
        counts = []
        while (done := rotating.rotate_batch(5)) > 0:
            counts.append(done)
        assert counts == [5, 5, 2]
        assert dict(rotating.key_usage()) == {"k2": len(stored)}
        only_new = self.reopen(vault, CredentialKeyring([KEY_TWO]))
        assert [only_new.get_credential(item.key) for item in stored] == stored
        assert rotating.rotate_batch(5) == 0  # idempotent once done

    @pytest.mark.parametrize("limit", [0, -1, MAX_ROTATION_BATCH + 1])
    def test_rotation_batches_are_bounded(self, limit: int) -> None:
        with pytest.raises(InvalidValue):
            self.vault().rotate_batch(limit)

    def test_a_share_is_one_per_borrower_and_venue(self) -> None:
        vault = self.vault()
        read = CredentialShare(BETA, ALPHA, BACKPACK, ShareLevel.READ_ONLY)
        vault.put_share(read)
        assert vault.get_share(BETA, BACKPACK) == read
        assert vault.get_share(BETA, FAKE) is None
        assert vault.get_share(ALPHA, BACKPACK) is None
        replaced = CredentialShare(BETA, GAMMA, BACKPACK, ShareLevel.FULL)
        vault.put_share(replaced)
        assert vault.get_share(BETA, BACKPACK) == replaced
        assert vault.shares_of_holder(ALPHA) == []
        assert vault.shares_of_holder(GAMMA) == [replaced]

    def test_one_holder_lends_to_many(self) -> None:
        vault = self.vault()
        to_gamma = CredentialShare(GAMMA, ALPHA, BACKPACK, ShareLevel.POSITIONS_ONLY)
        to_beta_fake = CredentialShare(BETA, ALPHA, FAKE, ShareLevel.FULL)
        to_beta = CredentialShare(BETA, ALPHA, BACKPACK, ShareLevel.READ_ONLY)
        for share in (to_gamma, to_beta_fake, to_beta):
            vault.put_share(share)
        assert vault.shares_of_holder(ALPHA) == [to_beta, to_beta_fake, to_gamma]

    def test_revoke_share(self) -> None:
        vault = self.vault()
        vault.put_share(CredentialShare(BETA, ALPHA, FAKE, ShareLevel.FULL))
        assert vault.revoke_share(BETA, FAKE) is True
        assert vault.revoke_share(BETA, FAKE) is False
        assert vault.get_share(BETA, FAKE) is None
