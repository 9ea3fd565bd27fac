"""The snapshot and session codecs are exact inverses over the whole value range."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from axdomain import AccountId, UserId
from axdomain.cache import (
    I64_MAX,
    I128_MAX,
    I128_MIN,
    U128_MAX,
    RiskSnapshot,
    Session,
    decode_risk_snapshot,
    decode_session,
    encode_risk_snapshot,
    encode_session,
)

U64_MAX = (1 << 64) - 1
INT_FIELDS = (
    "equity_micro_usd",
    "initial_margin_micro_usd",
    "maintenance_margin_micro_usd",
    "unrealized_pnl_micro_usd",
    "as_of_ns",
)
symbols = st.none() | st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}", fullmatch=True)
signed = st.integers(I128_MIN, I128_MAX)
unsigned = st.integers(0, U128_MAX)

snapshots = st.builds(
    RiskSnapshot,
    account_id=st.builds(AccountId, st.integers(1, U64_MAX)),
    symbol=symbols,
    equity_micro_usd=signed,
    initial_margin_micro_usd=unsigned,
    maintenance_margin_micro_usd=unsigned,
    unrealized_pnl_micro_usd=signed,
    as_of_ns=st.integers(0, I64_MAX),
)


@given(snapshots)
def test_snapshot_round_trip(snapshot: RiskSnapshot) -> None:
    raw = encode_risk_snapshot(snapshot)
    decoded = decode_risk_snapshot(raw)
    assert decoded == snapshot
    assert encode_risk_snapshot(decoded) == raw  # canonical: one byte form per value
    obj = json.loads(raw)
    # Every integer travels as a string, so no JSON reader can round it through a double.
    assert all(isinstance(obj[name], str) for name in INT_FIELDS)
    assert int(obj["equity_micro_usd"]) == snapshot.equity_micro_usd


@given(
    st.builds(
        Session,
        token_hash=st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
        user_id=st.builds(UserId, st.integers(1 << 16, U64_MAX)),
        expires_at_ns=st.integers(1, I64_MAX),
    )
)
def test_session_round_trip(session: Session) -> None:
    raw = encode_session(session)
    assert decode_session(raw) == session
    assert encode_session(decode_session(raw)) == raw
