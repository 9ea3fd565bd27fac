"""Venue credentials of an account: the plaintext value and the non-secret reference.

A credential belongs to ``(account, venue, subaccount index)``. Its non-secret part
(``CredentialRef``: exchange account id, active flag) is what decisions and listings use;
the secrets (API key, API secret, named extras) travel only inside ``VenueCredential`` as
``SecretText`` and are stored only as one authenticated ciphertext whose associated data is
``CredentialKey.associated_data()``: a ciphertext copied to another key fails to open.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import attrs

from axdomain._checks import require_range
from axdomain.errors import DomainError, InvalidValue
from axdomain.ids import AccountId
from axdomain.venues.names import VenueId
from axdomain.venues.secret_text import REDACTED, SecretText

MAX_SUBACCOUNT_INDEX = (1 << 31) - 1  # stored as SQL INTEGER
MAX_EXCHANGE_ACCOUNT_ID_LEN = 128
MAX_EXTRA_SECRETS = 16
AD_PREFIX = b"ax.venue-credential.v1"
PAYLOAD_VERSION = 1
_EXTRA_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")

Extras = tuple[tuple[str, SecretText], ...]


class CredentialUnreadable(DomainError):
    """A stored credential failed to open: tampered, moved to another key, or its key id is
    not configured. Names the credential key, never any ciphertext or secret."""


def _account(_: object, attribute: attrs.Attribute[AccountId], value: object) -> None:
    if not isinstance(value, AccountId):
        raise InvalidValue(attribute.name, value, "must be an AccountId")


def _venue(_: object, attribute: attrs.Attribute[VenueId], value: object) -> None:
    if not isinstance(value, VenueId):
        raise InvalidValue(attribute.name, value, "must be a VenueId")


def _subaccount(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    require_range(attribute.name, value, 0, MAX_SUBACCOUNT_INDEX)


@attrs.frozen(order=True)
class CredentialKey:
    """Where a credential belongs; also the associated data that binds its ciphertext."""

    account_id: AccountId = attrs.field(validator=_account)
    venue: VenueId = attrs.field(validator=_venue)
    subaccount_index: int = attrs.field(default=0, validator=_subaccount)

    def associated_data(self) -> bytes:
        parts = (str(self.account_id), self.venue.name, str(self.subaccount_index))
        return AD_PREFIX + b"".join(b"\x00" + part.encode() for part in parts)

    def __str__(self) -> str:
        return f"{self.account_id}/{self.venue}/{self.subaccount_index}"


def _exchange_account_id(_: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_EXCHANGE_ACCOUNT_ID_LEN:
        raise InvalidValue(attribute.name, value, f"must be 1..{MAX_EXCHANGE_ACCOUNT_ID_LEN}")


def _flag(_: object, attribute: attrs.Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidValue(attribute.name, value, "must be a bool")


@attrs.frozen
class CredentialRef:
    """The non-secret facts of a stored credential."""

    key: CredentialKey
    exchange_account_id: str | None = attrs.field(default=None, validator=_exchange_account_id)
    is_active: bool = attrs.field(default=True, validator=_flag)


def _secret(_: object, attribute: attrs.Attribute[SecretText], value: object) -> None:
    if not isinstance(value, SecretText):
        raise InvalidValue(attribute.name, REDACTED, "must be a SecretText")


def _extras(_: object, attribute: attrs.Attribute[Extras], value: object) -> None:
    if not isinstance(value, tuple) or len(value) > MAX_EXTRA_SECRETS:
        raise InvalidValue(attribute.name, REDACTED, f"must be a tuple of <= {MAX_EXTRA_SECRETS}")
    names = [pair[0] if isinstance(pair, tuple) and len(pair) == 2 else None for pair in value]
    for pair, name in zip(value, names, strict=True):
        if not isinstance(name, str) or _EXTRA_NAME.fullmatch(name) is None:
            raise InvalidValue(attribute.name, name, "extra names are a-z 0-9 _ (1..32)")
        if not isinstance(pair[1], SecretText):
            raise InvalidValue(attribute.name, name, "extra values must be SecretText")
    if names != sorted(set(names)):  # type: ignore[type-var]
        raise InvalidValue(attribute.name, names, "extra names must be unique and sorted")


def _sorted_extras(value: Mapping[str, SecretText] | Extras) -> Extras:
    items = value.items() if isinstance(value, Mapping) else value
    try:
        return tuple(sorted(items, key=lambda pair: pair[0]))
    except (TypeError, IndexError):
        return value  # type: ignore[return-value]  # the validator reports the problem


@attrs.frozen
class VenueCredential:
    """The plaintext credential; its repr shows ``***`` for every secret."""

    ref: CredentialRef
    api_key: SecretText = attrs.field(validator=_secret)
    api_secret: SecretText = attrs.field(validator=_secret)
    extras: Extras = attrs.field(default=(), converter=_sorted_extras, validator=_extras)

    @property
    def key(self) -> CredentialKey:
        return self.ref.key

    def secrets(self) -> tuple[SecretText, ...]:
        return (self.api_key, self.api_secret, *(value for _, value in self.extras))

    def payload(self) -> bytes:
        """The plaintext that gets encrypted: the secrets only (the ref is stored in clear)."""
        document = {
            "v": PAYLOAD_VERSION,
            "api_key": self.api_key.reveal(),
            "api_secret": self.api_secret.reveal(),
            "extras": {name: value.reveal() for name, value in self.extras},
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_payload(cls, ref: CredentialRef, payload: bytes) -> VenueCredential:
        """Inverse of ``payload``; a malformed payload names the key, never the content."""
        try:
            document = json.loads(payload.decode())
            if document.get("v") != PAYLOAD_VERSION:
                raise ValueError("version")
            extras = {str(k): SecretText(v) for k, v in dict(document["extras"]).items()}
            return cls(
                ref=ref,
                api_key=SecretText(document["api_key"]),
                api_secret=SecretText(document["api_secret"]),
                extras=extras,
            )
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
            raise CredentialUnreadable(
                "credential", str(ref.key), "decrypted payload is malformed"
            ) from None
