"""Venue accounts: credentials at external venues, sharing them between accounts, and the
values of per-account execution lanes (SPEC §14). Pure like the rest of ``axdomain``."""

from axdomain.venues.credentials import (
    CredentialKey,
    CredentialRef,
    CredentialUnreadable,
    VenueCredential,
)
from axdomain.venues.decision import CredentialDecision, CredentialReason, may_use_credential
from axdomain.venues.idempotency import TradeDecision
from axdomain.venues.lanes import (
    KillSwitchEvent,
    LaneEvent,
    LaneEventKind,
    LaneHealth,
    LaneState,
    OperatorRef,
    backoff_ms,
    cursor_source,
)
from axdomain.venues.names import VenueId, require_label
from axdomain.venues.ports import CredentialVault, LaneStateStore
from axdomain.venues.secret_text import SecretText, redact
from axdomain.venues.sharing import CredentialPurpose, CredentialShare, ShareLevel

__all__ = [
    "CredentialDecision",
    "CredentialKey",
    "CredentialPurpose",
    "CredentialReason",
    "CredentialRef",
    "CredentialShare",
    "CredentialUnreadable",
    "CredentialVault",
    "KillSwitchEvent",
    "LaneEvent",
    "LaneEventKind",
    "LaneHealth",
    "LaneState",
    "LaneStateStore",
    "OperatorRef",
    "SecretText",
    "ShareLevel",
    "TradeDecision",
    "VenueCredential",
    "VenueId",
    "backoff_ms",
    "cursor_source",
    "may_use_credential",
    "redact",
    "require_label",
]
