"""Credential encryption keys and the AES-GCM sealing of credential payloads.

``AX_CREDENTIAL_KEYS`` lists keys as ``id:base64key`` separated by commas; the first encrypts,
every listed key decrypts, so a rotation prepends a new key, runs ``ax credentials rotate``,
then drops the old one. Keys are 256-bit. A sealed blob is ``nonce (12 bytes) || ciphertext
and tag``; the key id is stored next to it and the associated data is the credential's
``(account, venue, subaccount)``, so a blob moved to another row fails authentication.
Nothing here ever prints key material: errors name the entry position and key id only.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Sequence

import attrs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from axdomain.errors import InvalidValue
from axdomain.venues.credentials import CredentialKey, CredentialUnreadable

ENV_VAR = "AX_CREDENTIAL_KEYS"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
MAX_KEYS = 16
MAX_KEY_ID_LEN = 32
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


@attrs.frozen
class SealedSecret:
    """What is stored: the key id and ``nonce || ciphertext``."""

    key_id: str
    blob: bytes = attrs.field(repr=lambda blob: f"<{len(blob)} bytes>")


class CredentialKeyring:
    """The configured keys; the first is current. ``repr`` shows key ids only."""

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not 1 <= len(keys) <= MAX_KEYS:
            raise InvalidValue(ENV_VAR, f"{len(keys)} keys", f"must list 1..{MAX_KEYS} keys")
        seen: set[str] = set()
        for position, (key_id, key) in enumerate(keys, start=1):
            if _KEY_ID.fullmatch(key_id) is None:
                raise InvalidValue(ENV_VAR, f"entry {position}", "key id must be 1..32 A-Za-z0-9_-")
            if key_id in seen:
                raise InvalidValue(ENV_VAR, key_id, "key id listed twice")
            if len(key) != KEY_BYTES:
                raise InvalidValue(ENV_VAR, key_id, f"key must be {KEY_BYTES} bytes (256-bit)")
            seen.add(key_id)
        self._ids = tuple(key_id for key_id, _ in keys)
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys}

    @classmethod
    def parse(cls, text: str) -> CredentialKeyring:
        """``id:base64key[,id:base64key...]`` (standard or URL-safe base64)."""
        keys: list[tuple[str, bytes]] = []
        entries = [entry.strip() for entry in text.split(",")]
        for position, entry in enumerate(entries, start=1):
            key_id, colon, encoded = entry.partition(":")
            if not colon or not key_id or not encoded:
                raise InvalidValue(ENV_VAR, f"entry {position}", "must be id:base64key")
            keys.append((key_id, _decode_key(key_id, encoded)))
        return cls(keys)

    @staticmethod
    def generate_entry(key_id: str) -> str:
        """A fresh ``id:base64key`` entry, for operators and the demo."""
        return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()}"

    @property
    def current_key_id(self) -> str:
        return self._ids[0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        return self._ids

    def seal(self, key: CredentialKey, plaintext: bytes) -> SealedSecret:
        nonce = os.urandom(NONCE_BYTES)
        cipher = self._ciphers[self.current_key_id]
        blob = nonce + cipher.encrypt(nonce, plaintext, key.associated_data())
        return SealedSecret(self.current_key_id, blob)

    def open(self, key: CredentialKey, sealed: SealedSecret) -> bytes:
        cipher = self._ciphers.get(sealed.key_id)
        if cipher is None:
            raise CredentialUnreadable(
                "key_id", sealed.key_id, f"credential {key} is sealed under an unconfigured key"
            )
        if len(sealed.blob) < NONCE_BYTES + TAG_BYTES:
            raise CredentialUnreadable("credential", str(key), "ciphertext is truncated")
        nonce, body = sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:]
        try:
            return cipher.decrypt(nonce, body, key.associated_data())
        except InvalidTag:
            raise CredentialUnreadable(
                "credential",
                str(key),
                "authentication failed: tampered, or bound to another account/venue/subaccount",
            ) from None

    def __repr__(self) -> str:
        return f"CredentialKeyring(key_ids={list(self._ids)!r})"


def _decode_key(key_id: str, encoded: str) -> bytes:
    padded = encoded + "=" * (-len(encoded) % 4)
    try:
        if "-" in padded or "_" in padded:
            return base64.urlsafe_b64decode(padded.encode())
        return base64.b64decode(padded.encode(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidValue(ENV_VAR, key_id, "key is not valid base64") from None
