"""Venue credentials vault adapters: AES-GCM sealing (``keyring``), memory and SQL rows."""

from axadapters.vault.keyring import CredentialKeyring, SealedSecret
from axadapters.vault.memory import MemoryCredentialVault

__all__ = ["CredentialKeyring", "MemoryCredentialVault", "SealedSecret"]
