"""Risk snapshot and session values, their codec's rejections, and the Redis key shapes."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from axadapters.memory.cache import MemoryRiskSnapshotCache, MemorySessionStore
from axadapters.redis.keys import RedisKeys, RiskKeyParts
from axdomain import AccountId, InvalidValue, UserId
from axdomain.cache import (
    U128_MAX,
    RiskSnapshot,
    Session,
    decode_risk_snapshot,
    decode_session,
    encode_risk_snapshot,
    encode_session,
)

ACCOUNT = AccountId(0x0190_0000_0000_00A0)
USER = UserId(0x0190_0000_0000_0001)
HASH = "ab" * 32


def snap(**changes: Any) -> RiskSnapshot:
    base = RiskSnapshot(
        account_id=ACCOUNT,
        symbol="BTC-PERP",
        equity_micro_usd=10,
        initial_margin_micro_usd=4,
        maintenance_margin_micro_usd=2,
        unrealized_pnl_micro_usd=-3,
        as_of_ns=99,
    )
    return attrs.evolve(base, **changes)


def fields_of(raw: bytes) -> dict[str, object]:
    obj = json.loads(raw)
    assert isinstance(obj, dict)
    return obj


class TestEncoding:
    def test_canonical_bytes_are_fixed(self) -> None:
        assert encode_risk_snapshot(snap()) == (
            b'{"account_id":"01900000000000a0","as_of_ns":"99","equity_micro_usd":"10",'
            b'"initial_margin_micro_usd":"4","maintenance_margin_micro_usd":"2",'
            b'"symbol":"BTC-PERP","unrealized_pnl_micro_usd":"-3"}'
        )

    def test_u128_amount_is_a_decimal_string(self) -> None:
        raw = encode_risk_snapshot(snap(initial_margin_micro_usd=U128_MAX))
        assert fields_of(raw)["initial_margin_micro_usd"] == str(U128_MAX)
        assert decode_risk_snapshot(raw).initial_margin_micro_usd == U128_MAX

    def test_legacy_user_id_is_accepted_only_when_asked(self) -> None:
        obj = fields_of(encode_risk_snapshot(snap()))
        obj["user_id"] = str(USER)
        legacy = json.dumps(obj)
        assert decode_risk_snapshot(legacy, allow_legacy_user_id=True) == snap()
        with pytest.raises(InvalidValue) as caught:
            decode_risk_snapshot(legacy)
        assert caught.value.field == "risk_snapshot"
        assert "user_id" in caught.value.problem

    def test_session_round_trip(self) -> None:
        session = Session(HASH, USER, 1_700_000_000_000_000_000)
        assert decode_session(encode_session(session)) == session


def with_field(name: str, value: object) -> bytes:
    obj = fields_of(encode_risk_snapshot(snap()))
    obj[name] = value
    return json.dumps(obj).encode()


@pytest.mark.parametrize(
    ("raw", "field", "value"),
    [
        (with_field("equity_micro_usd", 10), "equity_micro_usd", 10),
        (with_field("equity_micro_usd", "010"), "equity_micro_usd", "010"),
        (with_field("equity_micro_usd", "-0"), "equity_micro_usd", "-0"),
        (with_field("equity_micro_usd", "+1"), "equity_micro_usd", "+1"),
        (with_field("equity_micro_usd", "1e3"), "equity_micro_usd", "1e3"),
        (with_field("initial_margin_micro_usd", "-1"), "initial_margin_micro_usd", -1),
        (
            with_field("maintenance_margin_micro_usd", str(U128_MAX + 1)),
            "maintenance_margin_micro_usd",
            U128_MAX + 1,
        ),
        (with_field("as_of_ns", str(1 << 63)), "as_of_ns", 1 << 63),
        (with_field("account_id", "01900000000000A0"), "account_id", "01900000000000A0"),
        (with_field("account_id", 5), "account_id", 5),
        (with_field("symbol", "BTC:PERP"), "symbol", "BTC:PERP"),
        (with_field("symbol", ""), "symbol", ""),
        (with_field("unrealized_pnl_micro_usd", 1.5), "json", "1.5"),
        (b'{"account_id": NaN}', "json", "NaN"),
    ],
)
def test_bad_snapshot_field_names_field_and_value(raw: bytes, field: str, value: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        decode_risk_snapshot(raw)
    assert (caught.value.field, caught.value.value) == (field, value)


@pytest.mark.parametrize(
    "raw",
    [b"", b"\xff\xfe", b"[]", b'"x"', b"{}", b'{"a":1,"a":2}', 42, b"x" * 5000],
)
def test_malformed_payload_is_invalid(raw: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        decode_risk_snapshot(raw)
    assert caught.value.field in ("risk_snapshot", "json")


def test_unknown_field_is_named() -> None:
    with pytest.raises(InvalidValue) as caught:
        decode_risk_snapshot(with_field("margin_ratio", "1"))
    assert caught.value.field == "risk_snapshot"
    assert "margin_ratio" in caught.value.problem


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"account_id": USER}, "account_id"),
        ({"equity_micro_usd": 1.0}, "equity_micro_usd"),
        ({"equity_micro_usd": True}, "equity_micro_usd"),
        ({"as_of_ns": -1}, "as_of_ns"),
        ({"symbol": "a b"}, "symbol"),
    ],
)
def test_snapshot_constructor_rejects(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        snap(**changes)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("AB" * 32, USER, 1), "token_hash"),
        ((HASH, ACCOUNT, 1), "user_id"),
        ((HASH, USER, 0), "expires_at_ns"),
    ],
)
def test_session_constructor_rejects(args: tuple[object, object, object], field: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        Session(*args)  # type: ignore[arg-type]
    assert caught.value.field == field


class TestRedisKeys:
    def test_key_shapes(self) -> None:
        keys = RedisKeys()
        # The account is the Redis Cluster hash tag: all of its keys share one slot.
        assert keys.risk_account(ACCOUNT) == "risk:{01900000000000a0}"
        assert keys.risk_symbol(ACCOUNT, "BTC-PERP") == "risk:{01900000000000a0}:BTC-PERP"
        assert keys.session_token(HASH) == f"session:token:{HASH}"
        assert keys.session_user(USER) == "session:user:0190000000000001"
        assert keys.channel() == "risk_snapshot_updated"
        assert keys.risk_match() == "risk:*"

    def test_namespace_prefixes_keys_and_channel(self) -> None:
        keys = RedisKeys("t1:")
        assert keys.risk_account(ACCOUNT) == "t1:risk:{01900000000000a0}"
        assert keys.channel() == "t1:risk_snapshot_updated"
        assert keys.risk_match() == "t1:risk:*"

    @pytest.mark.parametrize("namespace", ["a*", "a b", "[x]", "x?", "n" * 65, 3])
    def test_bad_namespace(self, namespace: object) -> None:
        with pytest.raises(InvalidValue) as caught:
            RedisKeys(namespace)  # type: ignore[arg-type]
        assert (caught.value.field, caught.value.value) == ("namespace", namespace)

    def test_parse_round_trips(self) -> None:
        keys = RedisKeys("t1:")
        assert keys.parse_risk_key(keys.risk_account(ACCOUNT)) == RiskKeyParts(str(ACCOUNT), None)
        assert keys.parse_risk_key(keys.risk_symbol(ACCOUNT, "ETH-PERP")) == RiskKeyParts(
            str(ACCOUNT), "ETH-PERP"
        )

    def test_parse_reads_the_untagged_shape_the_rekey_moves(self) -> None:
        keys = RedisKeys("t1:")
        assert keys.parse_risk_key(f"t1:risk:{ACCOUNT}") == RiskKeyParts(str(ACCOUNT), None, False)
        assert keys.parse_risk_key(f"t1:risk:{ACCOUNT}:ETH-PERP") == RiskKeyParts(
            str(ACCOUNT), "ETH-PERP", False
        )

    @pytest.mark.parametrize(
        "key",
        [
            "t2:risk:01900000000000a0",
            "t1:risk:12345",
            "t1:risk:01900000000000A0",
            "t1:risk:",
            "t1:risk:01900000000000a0:",
            "t1:risk:01900000000000a0:a:b",
            "t1:risk:{01900000000000a0",
            "t1:risk:{01900000000000a0}x",
            "t1:risk:{01900000000000a0}:",
            "t1:risk:{}",
            "t1:risk:{{01900000000000a0}}",
        ],
    )
    def test_parse_rejects(self, key: str) -> None:
        with pytest.raises(InvalidValue) as caught:
            RedisKeys("t1:").parse_risk_key(key)
        assert (caught.value.field, caught.value.value) == ("key", key)


class FakeClock:
    def __init__(self) -> None:
        self.ns = 1_000_000_000

    def now_ns(self) -> int:
        return self.ns


class TestMemoryExpiryOnInjectedClock:
    def test_snapshot_lives_exactly_ttl(self) -> None:
        clock = FakeClock()
        cache = MemoryRiskSnapshotCache(clock)
        cache.put(snap(symbol=None), 10)
        clock.ns += 10 * 1_000_000 - 1
        assert cache.get_account(ACCOUNT) == snap(symbol=None)
        clock.ns += 1
        assert cache.get_account(ACCOUNT) is None

    def test_session_ends_at_expiry(self) -> None:
        clock = FakeClock()
        store = MemorySessionStore(clock)
        session = Session(HASH, USER, clock.ns + 5)
        store.create(session)
        clock.ns += 4
        assert store.list_for_user(USER) == [session]
        clock.ns += 1
        assert store.get(HASH) is None
        assert store.list_for_user(USER) == []
