"""Ports of the venue world: the credentials vault and the lanes' durable state.

The vault stores secrets only as authenticated ciphertext; its adapters own the keys. The
lane state store holds what must survive a restart or be read by another process
(``ax lanes status``): cursors, the last health of each lane and the kill-switch log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from axdomain.ids import AccountId
from axdomain.venues.credentials import CredentialKey, CredentialRef, VenueCredential
from axdomain.venues.lanes import KillSwitchEvent, LaneHealth
from axdomain.venues.names import VenueId
from axdomain.venues.sharing import CredentialShare

MAX_ROTATION_BATCH = 1_000


class CredentialVault(Protocol):
    def put_credential(self, credential: VenueCredential) -> None:
        """Encrypt under the current key and insert or replace the row of its key."""

    def get_credential(self, key: CredentialKey) -> VenueCredential | None:
        """Decrypt; ``CredentialUnreadable`` if the row fails authentication or its key id
        is not configured. None when there is no row."""

    def get_ref(self, key: CredentialKey) -> CredentialRef | None:
        """The non-secret part, without decrypting."""

    def refs_for_account(self, account_id: AccountId) -> Sequence[CredentialRef]:
        """Ordered by venue, then subaccount index."""

    def delete_credential(self, key: CredentialKey) -> bool: ...

    def put_share(self, share: CredentialShare) -> None:
        """Insert or replace the one share of ``(primary_account, venue)``."""

    def get_share(self, primary_account: AccountId, venue: VenueId) -> CredentialShare | None: ...

    def revoke_share(self, primary_account: AccountId, venue: VenueId) -> bool: ...

    def shares_of_holder(self, shared_account: AccountId) -> Sequence[CredentialShare]:
        """Every share lending ``shared_account``'s credentials, by borrower then venue."""

    def key_usage(self) -> Mapping[str, int]:
        """Number of stored rows per key id."""

    def rotate_batch(self, limit: int) -> int:
        """Re-encrypt up to ``limit`` rows not under the current key; return how many.

        Each batch commits on its own, so a rotation killed at any point leaves every row
        readable (old or new key) and running it again continues where it stopped."""


class LaneStateStore(Protocol):
    def get_cursor(self, source: str) -> str | None: ...

    def put_cursor(self, source: str, cursor: str, at_ns: int) -> None: ...

    def put_health(self, health: LaneHealth) -> None:
        """Replace the last health of ``health.label``."""

    def get_health(self, label: str) -> LaneHealth | None: ...

    def all_health(self) -> Sequence[LaneHealth]:
        """Ordered by label."""

    def append_kill_switch(self, event: KillSwitchEvent) -> None: ...

    def kill_switch(self, label: str) -> KillSwitchEvent | None:
        """The latest event of the lane: its switch is engaged iff that event engaged it."""

    def kill_switch_history(self, label: str) -> Sequence[KillSwitchEvent]:
        """In append order."""
