"""Contract suites for the cache ports: risk snapshots, sessions, snapshot pub/sub.

Every adapter (memory, real Redis) runs the same tests. Expiry is checked with short real
TTLs, so the memory leg runs on the system clock here; the fake-clock behaviour of the memory
adapters is covered by unit tests.
"""

from __future__ import annotations

import time
from typing import Protocol

import attrs
import pytest

from axdomain import AccountId, Conflict, InvalidValue, UserId
from axdomain.cache import (
    I128_MAX,
    I128_MIN,
    U128_MAX,
    RiskSnapshot,
    RiskSnapshotCache,
    RiskSnapshotPublisher,
    RiskSnapshotSubscriber,
    Session,
    SessionStore,
)

ALICE = UserId(0x0190_0000_0000_0001)
BOB = UserId(0x0190_0000_0000_0002)
ACCOUNT_A = AccountId(0x0190_0000_0000_00A0)
ACCOUNT_B = AccountId(0x0190_0000_0000_00B0)
LONG_TTL_MS = 60_000
SHORT_TTL_MS = 60
PAST_SHORT_TTL_S = 0.25


def snapshot(
    account: AccountId = ACCOUNT_A, symbol: str | None = None, equity: int = 1_000_000
) -> RiskSnapshot:
    return RiskSnapshot(
        account_id=account,
        symbol=symbol,
        equity_micro_usd=equity,
        initial_margin_micro_usd=250_000,
        maintenance_margin_micro_usd=125_000,
        unrealized_pnl_micro_usd=-42,
        as_of_ns=1_700_000_000_000_000_000,
    )


def token(n: int) -> str:
    return f"{n:064x}"


def in_ms(ms: int) -> int:
    return time.time_ns() + ms * 1_000_000


class RiskSnapshotCacheContract:
    def make_risk_cache(self) -> RiskSnapshotCache:
        raise NotImplementedError

    def test_put_then_get_account(self) -> None:
        cache = self.make_risk_cache()
        assert cache.get_account(ACCOUNT_A) is None
        cache.put(snapshot(), LONG_TTL_MS)
        assert cache.get_account(ACCOUNT_A) == snapshot()
        assert cache.get_account(ACCOUNT_B) is None

    def test_symbol_slice_is_separate_from_account_entry(self) -> None:
        cache = self.make_risk_cache()
        cache.put(snapshot(symbol="BTC-PERP", equity=7), LONG_TTL_MS)
        assert cache.get_account(ACCOUNT_A) is None
        assert cache.get_symbol(ACCOUNT_A, "BTC-PERP") == snapshot(symbol="BTC-PERP", equity=7)
        assert cache.get_symbol(ACCOUNT_A, "ETH-PERP") is None
        assert cache.get_symbol(ACCOUNT_B, "BTC-PERP") is None
        cache.put(snapshot(equity=9), LONG_TTL_MS)
        assert cache.get_account(ACCOUNT_A) == snapshot(equity=9)
        assert cache.get_symbol(ACCOUNT_A, "BTC-PERP") == snapshot(symbol="BTC-PERP", equity=7)

    def test_put_replaces(self) -> None:
        cache = self.make_risk_cache()
        cache.put(snapshot(equity=1), LONG_TTL_MS)
        cache.put(snapshot(equity=2), LONG_TTL_MS)
        assert cache.get_account(ACCOUNT_A) == snapshot(equity=2)

    def test_extreme_amounts_survive_exactly(self) -> None:
        cache = self.make_risk_cache()
        big = attrs.evolve(
            snapshot(),
            equity_micro_usd=I128_MIN,
            initial_margin_micro_usd=U128_MAX,
            maintenance_margin_micro_usd=U128_MAX - 1,
            unrealized_pnl_micro_usd=I128_MAX,
        )
        cache.put(big, LONG_TTL_MS)
        got = cache.get_account(ACCOUNT_A)
        assert got == big
        assert got is not None and got.initial_margin_micro_usd == U128_MAX

    def test_entry_expires_after_ttl(self) -> None:
        cache = self.make_risk_cache()
        cache.put(snapshot(), SHORT_TTL_MS)
        cache.put(snapshot(symbol="BTC-PERP"), SHORT_TTL_MS)
        cache.put(snapshot(ACCOUNT_B), LONG_TTL_MS)
        assert cache.get_account(ACCOUNT_A) == snapshot()
        time.sleep(PAST_SHORT_TTL_S)
        assert cache.get_account(ACCOUNT_A) is None
        assert cache.get_symbol(ACCOUNT_A, "BTC-PERP") is None
        assert cache.get_account(ACCOUNT_B) == snapshot(ACCOUNT_B)

    @pytest.mark.parametrize("ttl_ms", [0, -1, 31 * 24 * 3600 * 1000, True])
    def test_bad_ttl_is_rejected(self, ttl_ms: int) -> None:
        cache = self.make_risk_cache()
        with pytest.raises(InvalidValue) as caught:
            cache.put(snapshot(), ttl_ms)
        assert caught.value.field == "ttl_ms"
        assert caught.value.value == ttl_ms
        assert cache.get_account(ACCOUNT_A) is None

    @pytest.mark.parametrize("symbol", ["", "BTC:PERP", "BTC PERP", "BTC*", "-X"])
    def test_bad_symbol_is_rejected(self, symbol: str) -> None:
        cache = self.make_risk_cache()
        with pytest.raises(InvalidValue) as caught:
            cache.get_symbol(ACCOUNT_A, symbol)
        assert caught.value.field == "symbol"
        assert caught.value.value == symbol


class SessionStoreContract:
    def make_session_store(self) -> SessionStore:
        raise NotImplementedError

    def test_create_then_get(self) -> None:
        store = self.make_session_store()
        session = Session(token(1), ALICE, in_ms(LONG_TTL_MS))
        assert store.get(token(1)) is None
        store.create(session)
        assert store.get(token(1)) == session
        assert store.get(token(2)) is None

    def test_duplicate_token_is_a_conflict_and_changes_nothing(self) -> None:
        store = self.make_session_store()
        original = Session(token(1), ALICE, in_ms(LONG_TTL_MS))
        store.create(original)
        with pytest.raises(Conflict) as caught:
            store.create(Session(token(1), BOB, in_ms(2 * LONG_TTL_MS)))
        assert caught.value.field == "token_hash"
        assert caught.value.value == token(1)
        assert store.get(token(1)) == original
        assert store.list_for_user(BOB) == []
        assert store.list_for_user(ALICE) == [original]

    def test_list_is_per_user_and_ordered_by_expiry(self) -> None:
        store = self.make_session_store()
        late = Session(token(1), ALICE, in_ms(3 * LONG_TTL_MS))
        early = Session(token(2), ALICE, in_ms(LONG_TTL_MS))
        bobs = Session(token(3), BOB, in_ms(LONG_TTL_MS))
        for session in (late, early, bobs):
            store.create(session)
        assert store.list_for_user(ALICE) == [early, late]
        assert store.list_for_user(BOB) == [bobs]
        assert store.list_for_user(UserId(0x0190_0000_0000_0009)) == []

    def test_delete_removes_session_and_index_entry(self) -> None:
        store = self.make_session_store()
        keep = Session(token(1), ALICE, in_ms(LONG_TTL_MS))
        drop = Session(token(2), ALICE, in_ms(LONG_TTL_MS))
        store.create(keep)
        store.create(drop)
        assert store.delete(token(2)) is True
        assert store.delete(token(2)) is False
        assert store.get(token(2)) is None
        assert store.list_for_user(ALICE) == [keep]

    def test_session_expires(self) -> None:
        store = self.make_session_store()
        short = Session(token(1), ALICE, in_ms(SHORT_TTL_MS))
        long = Session(token(2), ALICE, in_ms(LONG_TTL_MS))
        store.create(short)
        store.create(long)
        assert store.list_for_user(ALICE) == [short, long]
        time.sleep(PAST_SHORT_TTL_S)
        assert store.get(token(1)) is None
        assert store.list_for_user(ALICE) == [long]
        # An expired hash is free again, for whoever presents it.
        again = Session(token(1), BOB, in_ms(LONG_TTL_MS))
        store.create(again)
        assert store.get(token(1)) == again
        assert store.list_for_user(ALICE) == [long]

    def test_already_expired_session_is_never_returned(self) -> None:
        store = self.make_session_store()
        live = Session(token(1), ALICE, in_ms(LONG_TTL_MS))
        store.create(live)
        store.create(Session(token(2), ALICE, time.time_ns() - 1_000_000_000))
        assert store.get(token(2)) is None
        assert store.list_for_user(ALICE) == [live]

    @pytest.mark.parametrize("bad", ["", "ABC", token(0xABC).upper(), token(1)[:-1], "g" * 64])
    def test_bad_token_hash_is_rejected(self, bad: str) -> None:
        store = self.make_session_store()
        with pytest.raises(InvalidValue) as caught:
            store.get(bad)
        assert caught.value.field == "token_hash"
        assert caught.value.value == bad


class PublisherAndSubscriber(RiskSnapshotPublisher, RiskSnapshotSubscriber, Protocol):
    """What ``make_snapshot_bus`` returns: one object that both publishes and subscribes."""


WAIT_MS = 2_000
QUIET_MS = 150


class RiskSnapshotPubSubContract:
    def make_snapshot_bus(self) -> PublisherAndSubscriber:
        raise NotImplementedError

    def test_published_snapshot_reaches_subscriber(self) -> None:
        bus = self.make_snapshot_bus()
        with bus.subscribe() as subscription:
            bus.publish(snapshot())
            bus.publish(snapshot(ACCOUNT_B, symbol="BTC-PERP"))
            assert subscription.next_update(WAIT_MS) == snapshot()
            assert subscription.next_update(WAIT_MS) == snapshot(ACCOUNT_B, symbol="BTC-PERP")
            assert subscription.rejected_count == 0

    def test_subscription_filters_to_chosen_accounts(self) -> None:
        bus = self.make_snapshot_bus()
        with bus.subscribe([ACCOUNT_B]) as only_b, bus.subscribe() as everything:
            bus.publish(snapshot(ACCOUNT_A))
            bus.publish(snapshot(ACCOUNT_B))
            assert only_b.next_update(WAIT_MS) == snapshot(ACCOUNT_B)
            assert everything.next_update(WAIT_MS) == snapshot(ACCOUNT_A)
            assert everything.next_update(WAIT_MS) == snapshot(ACCOUNT_B)
            assert only_b.next_update(QUIET_MS) is None

    def test_wait_is_bounded_when_nothing_arrives(self) -> None:
        bus = self.make_snapshot_bus()
        with bus.subscribe() as subscription:
            started = time.monotonic()
            assert subscription.next_update(QUIET_MS) is None
            elapsed_ms = (time.monotonic() - started) * 1000
            assert QUIET_MS * 0.8 <= elapsed_ms < QUIET_MS + 1_000

    def test_updates_before_subscribing_are_not_delivered(self) -> None:
        bus = self.make_snapshot_bus()
        bus.publish(snapshot(equity=1))
        with bus.subscribe() as subscription:
            bus.publish(snapshot(equity=2))
            assert subscription.next_update(WAIT_MS) == snapshot(equity=2)

    @pytest.mark.parametrize("timeout_ms", [-1, 60_001])
    def test_bad_timeout_is_rejected(self, timeout_ms: int) -> None:
        bus = self.make_snapshot_bus()
        with bus.subscribe() as subscription, pytest.raises(InvalidValue) as caught:
            subscription.next_update(timeout_ms)
        assert caught.value.field == "timeout_ms"
        assert caught.value.value == timeout_ms
