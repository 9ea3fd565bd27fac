"""The cache-port contract suites against real Redis, each test in its own key namespace."""

from __future__ import annotations

import json

import pytest

from axadapters.redis import RedisRiskSnapshotPublisher, RedisStores, open_redis
from axadapters.redis.keys import RedisKeys
from axadapters.redis.stores import RedisRiskSnapshotCache, RedisSessionStore
from axdomain import Conflict
from axdomain.cache import Session, encode_risk_snapshot
from tests.contract.redis_support import RedisNamespaces, redis_url
from tests.contract.suite_cache import (
    ACCOUNT_A,
    ACCOUNT_B,
    ALICE,
    LONG_TTL_MS,
    WAIT_MS,
    RiskSnapshotCacheContract,
    RiskSnapshotPubSubContract,
    SessionStoreContract,
    in_ms,
    snapshot,
    token,
)

pytestmark = pytest.mark.redis


class TestRedisRiskSnapshotCache(RedisNamespaces, RiskSnapshotCacheContract):
    def make_risk_cache(self) -> RedisRiskSnapshotCache:
        return RedisRiskSnapshotCache(self.redis_client(), self.namespace())

    def test_keys_are_account_keyed_with_ttl(self) -> None:
        namespace = self.namespace()
        cache = RedisRiskSnapshotCache(self.redis_client(), namespace)
        cache.put(snapshot(symbol="BTC-PERP"), LONG_TTL_MS)
        cache.put(snapshot(), LONG_TTL_MS)
        client = self.redis_client()
        keys = sorted(k.decode() for k in client.scan_iter(match=f"{namespace}*"))
        assert keys == [
            f"{namespace}risk:{{{ACCOUNT_A}}}",
            f"{namespace}risk:{{{ACCOUNT_A}}}:BTC-PERP",
        ]
        assert 0 < int(client.pttl(keys[0])) <= LONG_TTL_MS + 1  # rounded up to whole ms
        assert client.get(keys[0]) == encode_risk_snapshot(snapshot())

    def test_misfiled_legacy_value_is_refused_not_served(self) -> None:
        namespace = self.namespace()
        client = self.redis_client()
        # A user-keyed legacy value at what is also account A's key, holding account B's risk.
        legacy = json.loads(encode_risk_snapshot(snapshot(ACCOUNT_B)))
        legacy["user_id"] = str(ALICE)
        client.set(RedisKeys(namespace).risk_account(ACCOUNT_A), json.dumps(legacy))
        cache = RedisRiskSnapshotCache(client, namespace)
        with pytest.raises(Conflict) as caught:
            cache.get_account(ACCOUNT_A)
        assert caught.value.field == "risk_key"
        assert caught.value.value == f"{namespace}risk:{{{ACCOUNT_A}}}"


class TestRedisSessionStore(RedisNamespaces, SessionStoreContract):
    def make_session_store(self) -> RedisSessionStore:
        return RedisSessionStore(self.redis_client(), self.namespace())

    def test_user_index_is_a_set_of_hashes_that_outlives_no_session(self) -> None:
        namespace = self.namespace()
        client = self.redis_client()
        store = RedisSessionStore(client, namespace)
        store.create(Session(token(1), ALICE, in_ms(LONG_TTL_MS)))
        store.create(Session(token(2), ALICE, in_ms(2 * LONG_TTL_MS)))
        index = f"{namespace}session:user:{ALICE}"
        assert client.smembers(index) == {token(1).encode(), token(2).encode()}
        # Expiry instants are rounded up to the next ms, and Redis reads its own clock in
        # whole ms, so a PTTL can exceed the nominal TTL by one millisecond.
        assert LONG_TTL_MS < int(client.pttl(index)) <= 2 * LONG_TTL_MS + 1
        assert 0 < int(client.pttl(f"{namespace}session:token:{token(1)}")) <= LONG_TTL_MS + 1
        store.delete(token(1))
        assert client.smembers(index) == {token(2).encode()}


class TestRedisRiskSnapshotPubSub(RedisNamespaces, RiskSnapshotPubSubContract):
    def make_snapshot_bus(self) -> RedisRiskSnapshotPublisher:
        return RedisRiskSnapshotPublisher(self.redis_client(), self.namespace())

    def test_payload_names_the_account_and_bad_payloads_are_counted(self) -> None:
        namespace = self.namespace()
        client = self.redis_client()
        bus = RedisRiskSnapshotPublisher(client, namespace)
        channel = f"{namespace}risk_snapshot_updated"
        with bus.subscribe() as subscription:
            client.publish(channel, b"not json")
            client.publish(channel, b'{"account_id": 1.5}')
            bus.publish(snapshot())
            assert subscription.next_update(WAIT_MS) == snapshot()
            assert subscription.rejected_count == 2
        payload = json.loads(encode_risk_snapshot(snapshot()))
        assert payload["account_id"] == str(ACCOUNT_A)


class TestOpenRedis(RedisNamespaces):
    def open_stores(self, namespace: str) -> RedisStores:
        return open_redis(redis_url(), namespace)

    def test_bundle_shares_one_namespace(self) -> None:
        self.redis_client()  # skips loudly (or fails in CI) when Redis is down
        namespace = self.namespace()
        stores = self.open_stores(namespace)
        try:
            stores.risk_cache.put(snapshot(), LONG_TTL_MS)
            stores.sessions.create(Session(token(1), ALICE, in_ms(LONG_TTL_MS)))
            assert stores.risk_cache.get_account(ACCOUNT_A) == snapshot()
            assert stores.sessions.list_for_user(ALICE)[0].token_hash == token(1)
            report = stores.rekey(dry_run=True)
            assert (report.scanned, report.already_correct, report.complete) == (1, 1, True)
        finally:
            stores.close()
