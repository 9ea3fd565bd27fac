"""The cache codec's refusals, field, value and problem each, and its exact bounds.

``_ranged(low, high)`` builds validators when the value classes are defined, so it is also
called here directly: a class-level test alone never sees a change inside the factory.
"""

from __future__ import annotations

import json

import attrs
import pytest

from axdomain import AccountId, InvalidValue, UserId
from axdomain.cache import (
    MAX_ENCODED_SNAPSHOT_BYTES,
    MAX_TTL_MS,
    MAX_WAIT_MS,
    RiskSnapshot,
    Session,
    _ranged,
    decode_risk_snapshot,
    decode_session,
    encode_risk_snapshot,
    encode_session,
    validate_symbol,
    validate_timeout_ms,
    validate_token_hash,
    validate_ttl_ms,
)

ACCOUNT = AccountId(0x0190_0000_0000_00A0)
USER = UserId(0x0190_0000_0000_0001)
HASH = "ab" * 32
SNAPSHOT = RiskSnapshot(ACCOUNT, None, -5, 4, 2, -3, 99)
SYMBOL_PROBLEM = "must be 1..64 of [A-Za-z0-9._/-], starting alnum"


def _refusal(call: object) -> tuple[str, object, str]:
    assert callable(call)
    with pytest.raises(InvalidValue) as raised:
        call()
    return raised.value.field, raised.value.value, raised.value.problem


def _snapshot_json(**changes: object) -> bytes:
    obj = json.loads(encode_risk_snapshot(SNAPSHOT))
    obj.update(changes)
    return json.dumps(obj).encode()


def test_ranged_factory_checks_its_own_bounds() -> None:
    check = _ranged(-2, 3)
    equity = attrs.fields(RiskSnapshot).equity_micro_usd
    check(None, equity, -2)
    check(None, equity, 3)
    assert _refusal(lambda: check(None, equity, 4)) == (
        "equity_micro_usd",
        4,
        "must be in [-2, 3]",
    )
    assert _refusal(lambda: check(None, equity, -3))[1] == -3


def test_ttl_and_timeout_bounds_are_inclusive() -> None:
    assert (validate_ttl_ms(1), validate_ttl_ms(MAX_TTL_MS)) == (1, MAX_TTL_MS)
    assert _refusal(lambda: validate_ttl_ms(0)) == ("ttl_ms", 0, f"must be in [1, {MAX_TTL_MS}]")
    assert _refusal(lambda: validate_ttl_ms(MAX_TTL_MS + 1))[1] == MAX_TTL_MS + 1
    assert (validate_timeout_ms(0), validate_timeout_ms(MAX_WAIT_MS)) == (0, MAX_WAIT_MS)
    assert _refusal(lambda: validate_timeout_ms(MAX_WAIT_MS + 1)) == (
        "timeout_ms",
        MAX_WAIT_MS + 1,
        f"must be in [0, {MAX_WAIT_MS}]",
    )
    assert _refusal(lambda: validate_timeout_ms(-1))[1] == -1


def test_symbol_and_token_hash_refusals() -> None:
    assert validate_symbol("s", "A" * 64) == "A" * 64
    assert validate_symbol("s", "a1._/-") == "a1._/-"
    assert _refusal(lambda: validate_symbol("s", "A" * 65)) == ("s", "A" * 65, SYMBOL_PROBLEM)
    assert _refusal(lambda: validate_symbol("s", 7)) == ("s", 7, SYMBOL_PROBLEM)
    assert validate_token_hash("t", HASH) == HASH
    assert _refusal(lambda: validate_token_hash("t", None)) == (
        "t",
        None,
        "must be 64 lower-case hex digits (SHA-256)",
    )
    snapshot = attrs.evolve(SNAPSHOT, symbol="BTC-PERP")
    assert _refusal(lambda: attrs.evolve(snapshot, symbol="-x"))[:2] == ("symbol", "-x")


def test_value_constructors_name_field_value_and_problem() -> None:
    assert _refusal(lambda: attrs.evolve(SNAPSHOT, account_id=USER)) == (
        "account_id",
        USER,
        "must be an AccountId",
    )
    assert _refusal(lambda: Session(HASH, ACCOUNT, 1)) == (  # type: ignore[arg-type]
        "user_id",
        ACCOUNT,
        "must be a UserId",
    )
    assert _refusal(lambda: Session("AB" * 32, USER, 1))[0] == "token_hash"
    assert Session(HASH, USER, 1).expires_at_ns == 1


def test_snapshot_decoding_refusals() -> None:
    assert decode_risk_snapshot(encode_risk_snapshot(SNAPSHOT).decode()) == SNAPSHOT
    assert _refusal(lambda: decode_risk_snapshot(5)) == (
        "risk_snapshot",
        5,
        "must be bytes or str",
    )
    assert decode_risk_snapshot(bytearray(encode_risk_snapshot(SNAPSHOT))) == SNAPSHOT
    padded = encode_risk_snapshot(SNAPSHOT).ljust(MAX_ENCODED_SNAPSHOT_BYTES)
    assert decode_risk_snapshot(padded) == SNAPSHOT
    too_long = padded + b" "
    assert _refusal(lambda: decode_risk_snapshot(too_long)) == (
        "risk_snapshot",
        too_long[:64],
        f"longer than {MAX_ENCODED_SNAPSHOT_BYTES} bytes",
    )
    field, value, problem = _refusal(lambda: decode_risk_snapshot(b"{nope"))
    assert (field, value) == ("risk_snapshot", b"{nope")
    assert problem.startswith("is not JSON: ")
    assert _refusal(lambda: decode_risk_snapshot(b"x" * 100))[1] == b"x" * 64
    assert _refusal(lambda: decode_risk_snapshot(b"[1]")) == (
        "risk_snapshot",
        [1],
        "must be a JSON object",
    )
    assert _refusal(lambda: decode_risk_snapshot(b'{"a":"1","a":"2"}')) == (
        "json",
        ["a", "a"],
        "duplicate object keys",
    )
    assert _refusal(lambda: decode_risk_snapshot(b'{"a":1.5}')) == (
        "json",
        "1.5",
        "floats never carry money or ids",
    )
    assert _refusal(lambda: decode_risk_snapshot(_snapshot_json(equity_micro_usd="01"))) == (
        "equity_micro_usd",
        "01",
        "must be a canonical decimal integer string",
    )
    assert decode_risk_snapshot(_snapshot_json(equity_micro_usd="0")).equity_micro_usd == 0
    big = "9" * 40
    assert decode_risk_snapshot(_snapshot_json(unrealized_pnl_micro_usd="-1")) == attrs.evolve(
        SNAPSHOT, unrealized_pnl_micro_usd=-1
    )
    assert _refusal(lambda: decode_risk_snapshot(_snapshot_json(equity_micro_usd=big)))[0] == (
        "equity_micro_usd"
    )
    assert _refusal(lambda: decode_risk_snapshot(_snapshot_json(equity_micro_usd=big + "9")))[
        2
    ] == ("must be a canonical decimal integer string")


def test_snapshot_field_set_errors_list_missing_and_extra() -> None:
    obj = json.loads(encode_risk_snapshot(SNAPSHOT))
    del obj["as_of_ns"]
    obj["zeta"] = "1"
    keys = sorted(obj)
    assert _refusal(lambda: decode_risk_snapshot(json.dumps(obj))) == (
        "risk_snapshot",
        keys,
        "missing ['as_of_ns'], unexpected ['zeta']",
    )
    legacy = _snapshot_json(user_id=str(USER))
    assert decode_risk_snapshot(legacy, allow_legacy_user_id=True) == SNAPSHOT
    bad_legacy = _snapshot_json(user_id="nope")
    assert _refusal(lambda: decode_risk_snapshot(bad_legacy, allow_legacy_user_id=True))[0] == (
        "user_id"
    )
    assert decode_risk_snapshot(encode_risk_snapshot(SNAPSHOT), allow_legacy_user_id=True) == (
        SNAPSHOT
    )


def test_session_decoding_refusals() -> None:
    session = Session(HASH, USER, 7)
    raw = encode_session(session)
    assert (
        raw
        == b'{"expires_at_ns":"7","token_hash":"'
        + HASH.encode()
        + b'","user_id":"0190000000000001"}'
    )
    assert decode_session(raw.ljust(1024)) == session
    assert _refusal(lambda: decode_session(raw.ljust(1025)))[:2] == ("session", raw[:64])
    assert _refusal(lambda: decode_session(b'{"token_hash":"x"}')) == (
        "session",
        ["token_hash"],
        "must have exactly ['expires_at_ns', 'token_hash', 'user_id']",
    )
    obj = json.loads(raw)
    obj["expires_at_ns"] = 7
    assert _refusal(lambda: decode_session(json.dumps(obj))) == (
        "expires_at_ns",
        7,
        "must be a canonical decimal integer string",
    )
    obj = json.loads(raw)
    obj["token_hash"] = "AB" * 32
    assert _refusal(lambda: decode_session(json.dumps(obj)))[:2] == ("token_hash", "AB" * 32)
