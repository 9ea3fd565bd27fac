"""Sharing one account's venue credential with another account, at a level.

Direction follows the source design's table: ``primary_account`` is the account that uses
the credential, ``shared_account`` is the account that holds it. An account borrows a
venue's credential from at most one other account (one share per ``(primary, venue)``),
while one holder may lend to many (several bots on one KYC'd venue account). An account
never shares with itself.
"""

from __future__ import annotations

import enum

import attrs

from axdomain.errors import InvalidValue
from axdomain.ids import AccountId
from axdomain.venues.names import VenueId


class CredentialPurpose(enum.Enum):
    """What a lane wants to do with a credential."""

    TRADE = "trade"
    READ = "read"
    POSITIONS = "positions"


class ShareLevel(enum.Enum):
    FULL = "full"
    READ_ONLY = "read_only"
    POSITIONS_ONLY = "positions_only"

    def allows(self, purpose: CredentialPurpose) -> bool:
        return purpose in _ALLOWED[self]


_ALLOWED: dict[ShareLevel, frozenset[CredentialPurpose]] = {
    ShareLevel.FULL: frozenset(CredentialPurpose),
    ShareLevel.READ_ONLY: frozenset({CredentialPurpose.READ, CredentialPurpose.POSITIONS}),
    ShareLevel.POSITIONS_ONLY: frozenset({CredentialPurpose.POSITIONS}),
}


def _account(_: object, attribute: attrs.Attribute[AccountId], value: object) -> None:
    if not isinstance(value, AccountId):
        raise InvalidValue(attribute.name, value, "must be an AccountId")


@attrs.frozen
class CredentialShare:
    primary_account: AccountId = attrs.field(validator=_account)
    shared_account: AccountId = attrs.field(validator=_account)
    venue: VenueId
    level: ShareLevel

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.venue, VenueId):
            raise InvalidValue("venue", self.venue, "must be a VenueId")
        if not isinstance(self.level, ShareLevel):
            raise InvalidValue("level", self.level, "must be a ShareLevel")
        if self.primary_account == self.shared_account:
            raise InvalidValue("shared_account", self.shared_account, "never shared with itself")

    @property
    def borrower(self) -> AccountId:
        return self.primary_account

    @property
    def holder(self) -> AccountId:
        return self.shared_account
