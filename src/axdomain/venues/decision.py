"""The one decision on whether an account may use a venue credential for a purpose.

Pure, in the style of ``authorize``: the caller makes exactly three keyed reads — the
account's own credential at the venue, the one share keyed ``(account, venue)``, and the
holder's credential named by that share — and hands them in. Deny is the default and the
first failing rule names the reason. An account that holds its own credential at a venue
always uses it (with every right); a share is consulted only when it holds none.
"""

from __future__ import annotations

import enum

import attrs

from axdomain.ids import AccountId
from axdomain.venues.credentials import CredentialKey, CredentialRef
from axdomain.venues.names import VenueId
from axdomain.venues.sharing import CredentialPurpose, CredentialShare, ShareLevel


class CredentialReason(enum.Enum):
    ALLOWED = "allowed"
    NO_CREDENTIAL = "no_credential"
    CREDENTIAL_INACTIVE = "credential_inactive"
    LEVEL_TOO_LOW = "level_too_low"
    HOLDER_HAS_NO_CREDENTIAL = "holder_has_no_credential"


@attrs.frozen
class CredentialDecision:
    allowed: bool
    reason: CredentialReason
    credential: CredentialKey | None = None
    level: ShareLevel | None = None
    share: CredentialShare | None = None

    def __attrs_post_init__(self) -> None:
        if self.allowed != (self.reason is CredentialReason.ALLOWED):
            raise ValueError(f"inconsistent decision {self.reason}")
        if self.allowed and (self.credential is None or self.level is None):
            raise ValueError("an allowed decision names the credential and its level")


def _matches(ref: CredentialRef | None, account: AccountId, venue: VenueId) -> bool:
    return ref is not None and ref.key.account_id == account and ref.key.venue == venue


def may_use_credential(
    account: AccountId,
    venue: VenueId,
    purpose: CredentialPurpose,
    *,
    own: CredentialRef | None,
    share: CredentialShare | None,
    shared: CredentialRef | None,
) -> CredentialDecision:
    if own is not None and _matches(own, account, venue):
        if not own.is_active:
            return CredentialDecision(False, CredentialReason.CREDENTIAL_INACTIVE, own.key)
        return CredentialDecision(True, CredentialReason.ALLOWED, own.key, ShareLevel.FULL)
    if share is None or share.primary_account != account or share.venue != venue:
        return CredentialDecision(False, CredentialReason.NO_CREDENTIAL)
    if not share.level.allows(purpose):
        return CredentialDecision(
            False, CredentialReason.LEVEL_TOO_LOW, level=share.level, share=share
        )
    if shared is None or not _matches(shared, share.shared_account, venue):
        return CredentialDecision(
            False, CredentialReason.HOLDER_HAS_NO_CREDENTIAL, level=share.level, share=share
        )
    if not shared.is_active:
        return CredentialDecision(
            False, CredentialReason.CREDENTIAL_INACTIVE, shared.key, share.level, share
        )
    return CredentialDecision(True, CredentialReason.ALLOWED, shared.key, share.level, share)
