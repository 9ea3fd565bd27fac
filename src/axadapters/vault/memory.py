"""Memory vault for tests and the demo: still stores only sealed blobs, never plaintext."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from axadapters.vault.keyring import CredentialKeyring, SealedSecret
from axdomain._checks import require_range
from axdomain.ids import AccountId
from axdomain.venues.credentials import CredentialKey, CredentialRef, VenueCredential
from axdomain.venues.names import VenueId
from axdomain.venues.ports import MAX_ROTATION_BATCH
from axdomain.venues.sharing import CredentialShare


class MemoryCredentialVault:
    def __init__(self, keyring: CredentialKeyring) -> None:
        self._keyring = keyring
        self._rows: dict[CredentialKey, tuple[CredentialRef, SealedSecret]] = {}
        self._shares: dict[tuple[AccountId, VenueId], CredentialShare] = {}
        self._lock = threading.Lock()

    def with_keyring(self, keyring: CredentialKeyring) -> MemoryCredentialVault:
        """The same rows under another key list (what a restart with new keys sees)."""
        other = MemoryCredentialVault(keyring)
        other._rows, other._shares, other._lock = self._rows, self._shares, self._lock
        return other

    def put_credential(self, credential: VenueCredential) -> None:
        sealed = self._keyring.seal(credential.key, credential.payload())
        with self._lock:
            self._rows[credential.key] = (credential.ref, sealed)

    def get_credential(self, key: CredentialKey) -> VenueCredential | None:
        with self._lock:
            row = self._rows.get(key)
        if row is None:
            return None
        ref, sealed = row
        return VenueCredential.from_payload(ref, self._keyring.open(key, sealed))

    def get_ref(self, key: CredentialKey) -> CredentialRef | None:
        with self._lock:
            row = self._rows.get(key)
        return None if row is None else row[0]

    def refs_for_account(self, account_id: AccountId) -> Sequence[CredentialRef]:
        with self._lock:
            keys = sorted(k for k in self._rows if k.account_id == account_id)
            return [self._rows[k][0] for k in keys]

    def delete_credential(self, key: CredentialKey) -> bool:
        with self._lock:
            return self._rows.pop(key, None) is not None

    def put_share(self, share: CredentialShare) -> None:
        with self._lock:
            self._shares[(share.primary_account, share.venue)] = share

    def get_share(self, primary_account: AccountId, venue: VenueId) -> CredentialShare | None:
        with self._lock:
            return self._shares.get((primary_account, venue))

    def revoke_share(self, primary_account: AccountId, venue: VenueId) -> bool:
        with self._lock:
            return self._shares.pop((primary_account, venue), None) is not None

    def shares_of_holder(self, shared_account: AccountId) -> Sequence[CredentialShare]:
        with self._lock:
            found = [s for s in self._shares.values() if s.shared_account == shared_account]
        return sorted(found, key=lambda s: (s.primary_account, s.venue))

    def key_usage(self) -> Mapping[str, int]:
        usage: dict[str, int] = {}
        with self._lock:
            for _, sealed in self._rows.values():
                usage[sealed.key_id] = usage.get(sealed.key_id, 0) + 1
        return dict(sorted(usage.items()))

    def rotate_batch(self, limit: int) -> int:
        require_range("limit", limit, 1, MAX_ROTATION_BATCH)
        current = self._keyring.current_key_id
        with self._lock:
            stale = [k for k, (_, s) in sorted(self._rows.items()) if s.key_id != current][:limit]
            for key in stale:
                ref, sealed = self._rows[key]
                self._rows[key] = (ref, self._keyring.seal(key, self._keyring.open(key, sealed)))
        return len(stale)

    # Raw row access for the contract suite's tampering tests (not part of the port).
    def raw_sealed(self, key: CredentialKey) -> SealedSecret:
        return self._rows[key][1]

    def raw_store(self, ref: CredentialRef, sealed: SealedSecret) -> None:
        self._rows[ref.key] = (ref, sealed)
