"""The vault contract suite against the memory adapter."""

from __future__ import annotations

from axadapters.vault import CredentialKeyring, MemoryCredentialVault, SealedSecret
from axdomain.venues import CredentialKey, CredentialRef, CredentialVault
from tests.contract.suite_vault import VaultContract


def _memory(vault: CredentialVault) -> MemoryCredentialVault:
    assert isinstance(vault, MemoryCredentialVault)
    return vault


class TestMemoryVault(VaultContract):
    def make_vault(self, keyring: CredentialKeyring) -> CredentialVault:
        return MemoryCredentialVault(keyring)

    def reopen(self, vault: CredentialVault, keyring: CredentialKeyring) -> CredentialVault:
        return _memory(vault).with_keyring(keyring)

    def raw_sealed(self, vault: CredentialVault, key: CredentialKey) -> SealedSecret:
        return _memory(vault).raw_sealed(key)

    def raw_store(self, vault: CredentialVault, ref: CredentialRef, sealed: SealedSecret) -> None:
        _memory(vault).raw_store(ref, sealed)
