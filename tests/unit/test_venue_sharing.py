"""Credential sharing levels and the pure ``may_use_credential`` decision."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axdomain import AccountId, InvalidValue
from axdomain.venues import (
    CredentialKey,
    CredentialPurpose,
    CredentialReason,
    CredentialRef,
    CredentialShare,
    ShareLevel,
    VenueId,
    may_use_credential,
)

ALPHA = AccountId(0x0190_0000_0000_0A01)
BETA = AccountId(0x0190_0000_0000_0B02)
FAKE = VenueId("fake")
OTHER = VenueId("backpack")
TRADE = CredentialPurpose.TRADE
READ = CredentialPurpose.READ
POSITIONS = CredentialPurpose.POSITIONS
NO_CREDENTIAL = CredentialReason.NO_CREDENTIAL


def ref(account: AccountId, venue: VenueId = FAKE, *, active: bool = True) -> CredentialRef:
    return CredentialRef(CredentialKey(account, venue), "ex-1", active)


@pytest.mark.parametrize(
    ("level", "allowed"),
    [
        (ShareLevel.FULL, {TRADE, READ, POSITIONS}),
        (ShareLevel.READ_ONLY, {READ, POSITIONS}),
        (ShareLevel.POSITIONS_ONLY, {POSITIONS}),
    ],
)
def test_levels_map_to_purposes(level: ShareLevel, allowed: set[CredentialPurpose]) -> None:
    assert {p for p in CredentialPurpose if level.allows(p)} == allowed


def test_an_account_never_shares_with_itself() -> None:
    with pytest.raises(InvalidValue, match="never shared with itself"):
        CredentialShare(ALPHA, ALPHA, FAKE, ShareLevel.FULL)


def test_own_credential_wins_with_every_right() -> None:
    share = CredentialShare(BETA, ALPHA, FAKE, ShareLevel.POSITIONS_ONLY)
    decision = may_use_credential(BETA, FAKE, TRADE, own=ref(BETA), share=share, shared=ref(ALPHA))
    assert decision.allowed and decision.credential == CredentialKey(BETA, FAKE)
    assert decision.level is ShareLevel.FULL and decision.share is None


def test_an_inactive_own_credential_denies_without_falling_back_to_a_share() -> None:
    share = CredentialShare(BETA, ALPHA, FAKE, ShareLevel.FULL)
    decision = may_use_credential(
        BETA, FAKE, READ, own=ref(BETA, active=False), share=share, shared=ref(ALPHA)
    )
    assert decision.reason is CredentialReason.CREDENTIAL_INACTIVE


def test_a_share_routes_to_the_holders_credential() -> None:
    share = CredentialShare(BETA, ALPHA, FAKE, ShareLevel.READ_ONLY)
    read = may_use_credential(BETA, FAKE, READ, own=None, share=share, shared=ref(ALPHA))
    assert read.allowed and read.credential == CredentialKey(ALPHA, FAKE)
    assert read.level is ShareLevel.READ_ONLY and read.share == share
    trade = may_use_credential(BETA, FAKE, TRADE, own=None, share=share, shared=ref(ALPHA))
    assert trade.reason is CredentialReason.LEVEL_TOO_LOW and trade.credential is None


@pytest.mark.parametrize(
    ("share", "shared", "reason"),
    [
        (None, None, CredentialReason.NO_CREDENTIAL),
        (CredentialShare(ALPHA, BETA, FAKE, ShareLevel.FULL), None, NO_CREDENTIAL),
        (CredentialShare(BETA, ALPHA, OTHER, ShareLevel.FULL), None, NO_CREDENTIAL),
        (
            CredentialShare(BETA, ALPHA, FAKE, ShareLevel.FULL),
            None,
            CredentialReason.HOLDER_HAS_NO_CREDENTIAL,
        ),
        (
            CredentialShare(BETA, ALPHA, FAKE, ShareLevel.FULL),
            CredentialRef(CredentialKey(AccountId(0x0190_0000_0000_0D04), FAKE)),
            CredentialReason.HOLDER_HAS_NO_CREDENTIAL,
        ),
        (
            CredentialShare(BETA, ALPHA, FAKE, ShareLevel.FULL),
            ref(ALPHA, active=False),
            CredentialReason.CREDENTIAL_INACTIVE,
        ),
    ],
)
def test_denials_name_the_first_failing_rule(
    share: CredentialShare | None, shared: CredentialRef | None, reason: CredentialReason
) -> None:
    decision = may_use_credential(BETA, FAKE, TRADE, own=None, share=share, shared=shared)
    assert decision.allowed is False and decision.reason is reason


def test_an_own_ref_for_another_account_or_venue_counts_as_none() -> None:
    for wrong in (ref(ALPHA), ref(BETA, OTHER)):
        decision = may_use_credential(BETA, FAKE, READ, own=wrong, share=None, shared=None)
        assert decision.reason is CredentialReason.NO_CREDENTIAL


accounts = st.integers(min_value=1, max_value=4).map(lambda n: AccountId(0x0190_0000_0000_0000 + n))
venues = st.sampled_from([FAKE, OTHER])
refs = st.builds(
    lambda account, venue, active: CredentialRef(CredentialKey(account, venue), None, active),
    accounts,
    venues,
    st.booleans(),
)


@st.composite
def share_or_none(draw: st.DrawFn) -> CredentialShare | None:
    primary, holder = draw(accounts), draw(accounts)
    if primary == holder:
        return None
    return CredentialShare(primary, holder, draw(venues), draw(st.sampled_from(ShareLevel)))


@given(
    st.tuples(accounts, venues, st.sampled_from(CredentialPurpose)),
    st.none() | refs,
    share_or_none(),
    st.none() | refs,
)
def test_a_restricted_share_never_allows_trade_and_decisions_are_consistent(
    request: tuple[AccountId, VenueId, CredentialPurpose],
    own: CredentialRef | None,
    share: CredentialShare | None,
    shared: CredentialRef | None,
) -> None:
    account, venue, purpose = request
    decision = may_use_credential(account, venue, purpose, own=own, share=share, shared=shared)
    if not decision.allowed:
        return
    assert decision.credential is not None and decision.credential.venue == venue
    if decision.credential.account_id == account:
        assert own is not None and own.is_active and decision.level is ShareLevel.FULL
        return
    # Borrowed: only through the one share of (account, venue), never to oneself.
    assert share is not None and share.primary_account == account and share.venue == venue
    assert decision.credential.account_id == share.shared_account != account
    assert share.level.allows(purpose)
    if purpose is CredentialPurpose.TRADE:
        assert share.level is ShareLevel.FULL


@given(accounts, venues, st.sampled_from(ShareLevel))
def test_no_self_share_can_be_built(account: AccountId, venue: VenueId, level: ShareLevel) -> None:
    with pytest.raises(InvalidValue):
        CredentialShare(account, account, venue, level)


@given(
    st.sampled_from([ShareLevel.READ_ONLY, ShareLevel.POSITIONS_ONLY]),
    st.none() | refs,
)
def test_read_only_and_positions_only_never_allow_trade(
    level: ShareLevel, shared: CredentialRef | None
) -> None:
    share = CredentialShare(BETA, ALPHA, FAKE, level)
    decision = may_use_credential(BETA, FAKE, TRADE, own=None, share=share, shared=shared)
    assert decision.allowed is False
