"""The cache-port contract suites, the rekey and the ``ax rekey-redis`` command on a real
three-master Redis Cluster, and the hash-tag rule: one account's keys share one slot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from axadapters.redis import RedisStores, open_redis, rekey_risk_keys
from axadapters.redis.stores import RedisRiskSnapshotCache
from axapp.cli import main
from axapp.config import Config
from axapp.runtime import open_runtime
from axdomain import AccountId, InvalidValue
from axdomain.cache import encode_risk_snapshot
from tests.contract import test_cache_redis as single
from tests.contract import test_rekey_redis as rekey
from tests.contract.redis_cluster_support import ClusterNamespaces
from tests.contract.suite_cache import ACCOUNT_A, ACCOUNT_B, LONG_TTL_MS, snapshot

pytestmark = pytest.mark.redis

SYMBOLS = ("BTC-PERP", "ETH-PERP", "SOL-PERP", "XRP-PERP", "DOGE-PERP")


class TestClusterRiskSnapshotCache(ClusterNamespaces, single.TestRedisRiskSnapshotCache):
    pass


class TestClusterSessionStore(ClusterNamespaces, single.TestRedisSessionStore):
    pass


class TestClusterRiskSnapshotPubSub(ClusterNamespaces, single.TestRedisRiskSnapshotPubSub):
    pass


class TestClusterOpenRedis(ClusterNamespaces, single.TestOpenRedis):
    def open_stores(self, namespace: str) -> RedisStores:
        return open_redis(self.nodes.url, namespace, cluster=True)


class TestClusterRekey(ClusterNamespaces, rekey.TestRekeyRedis):
    def test_a_bounded_run_resumes_across_primaries(self) -> None:
        client = self.redis_client()
        namespace = self.namespace()
        # Untagged keys hash whole (namespace included): add accounts until every primary
        # holds some, so each must be visited for the run to finish.
        accounts: list[AccountId] = []
        owners: set[str] = set()
        while len(owners) < len(client.get_primaries()) or len(accounts) < 6:
            account = AccountId(0x0190_0000_0005_0000 + len(accounts))
            key = f"{namespace}risk:{account}"
            client.set(key, encode_risk_snapshot(snapshot(account)))
            owners.add(client.get_node_from_key(key).name)
            accounts.append(account)
        cursors = [0]
        moved = 0
        while True:
            report = rekey_risk_keys(client, namespace=namespace, max_keys=1, cursor=cursors[-1])
            moved += report.rekeyed
            if report.complete:
                break
            cursors.append(report.next_cursor)
            assert len(cursors) < 1_000
        assert moved == len(accounts)
        # The cursor names the primary being scanned: the run went through all three.
        assert {cursor >> 64 for cursor in cursors} == {0, 1, 2}
        cache = RedisRiskSnapshotCache(client, namespace)
        assert all(cache.get_account(a) == snapshot(a) for a in accounts)

    def test_a_cursor_past_the_last_primary_is_refused(self) -> None:
        with pytest.raises(InvalidValue) as caught:
            rekey_risk_keys(self.redis_client(), namespace=self.namespace(), cursor=3 << 64)
        assert (caught.value.field, caught.value.value) == ("cursor", 3 << 64)


class TestOneAccountOneSlot(ClusterNamespaces):
    def test_every_key_written_for_one_account_hashes_to_one_slot(self) -> None:
        namespace = self.namespace()
        client = self.redis_client()
        cache = RedisRiskSnapshotCache(client, namespace)
        for account in (ACCOUNT_A, ACCOUNT_B):
            cache.put(snapshot(account), LONG_TTL_MS)
            for symbol in SYMBOLS:
                cache.put(snapshot(account, symbol), LONG_TTL_MS)
        slots: dict[str, set[int]] = {}
        for raw_key in client.scan_iter(match=f"{namespace}risk:*"):
            key = raw_key.decode()
            account_text = key.split("{", 1)[1].split("}", 1)[0]
            # The server's own hash of the key, not the client's copy of the algorithm.
            slot = int(client.cluster_keyslot(key))
            slots.setdefault(account_text, set()).add(slot)
        assert sorted(slots) == sorted([str(ACCOUNT_A), str(ACCOUNT_B)])
        assert all(len(account_slots) == 1 for account_slots in slots.values()), slots
        # The two accounts are spread by their own tags (these two land on different slots).
        assert slots[str(ACCOUNT_A)] != slots[str(ACCOUNT_B)]
        # One account's keys therefore take a single-slot transaction, which a cluster
        # refuses for keys of different slots.
        keys = _account_keys(namespace, ACCOUNT_A)
        with client.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.pttl(key)
            assert all(int(ttl) > 0 for ttl in pipe.execute())


def _account_keys(namespace: str, account: AccountId) -> list[str]:
    tag = f"{namespace}risk:{{{account}}}"
    return [tag, *(f"{tag}:{symbol}" for symbol in SYMBOLS)]


class TestRekeyCommandOnCluster(ClusterNamespaces):
    def test_ax_rekey_redis_moves_untagged_keys_on_every_node(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        client = self.redis_client()
        accounts = [AccountId(0x0190_0000_0003_0000 + n) for n in range(12)]
        untagged = [f"risk:{account}" for account in accounts]
        nodes = {client.get_node_from_key(key).name for key in untagged}
        assert len(nodes) > 1  # the SCAN must visit more than one primary
        for account, key in zip(accounts, untagged, strict=True):
            client.set(key, encode_risk_snapshot(snapshot(account)), px=LONG_TTL_MS)
        monkeypatch.setenv("AX_REDIS_URL", self.nodes.url)
        monkeypatch.setenv("AX_REDIS_CLUSTER", "1")
        try:
            assert main(["rekey-redis"]) == 0
            report = json.loads(capsys.readouterr().out.splitlines()[-1])
            assert (report["scanned"], report["rekeyed"], report["complete"]) == (12, 12, True)
            cache = RedisRiskSnapshotCache(client)
            for account, key in zip(accounts, untagged, strict=True):
                assert client.get(key) is None
                assert cache.get_account(account) == snapshot(account)
        finally:
            client.delete(*untagged, *(f"risk:{{{account}}}" for account in accounts))


class TestRuntimeOnCluster(ClusterNamespaces):
    def test_ax_redis_cluster_opens_the_cluster_client(self, tmp_path: Path) -> None:
        config = Config.from_env(
            {
                "AX_DATA_DIR": str(tmp_path),
                "AX_REDIS_URL": self.nodes.url,
                "AX_REDIS_CLUSTER": "1",
            }
        )
        account = AccountId(0x0190_0000_0004_0000)
        with open_runtime(config) as runtime:
            runtime.risk_cache.put(snapshot(account), LONG_TTL_MS)
            assert runtime.risk_cache.get_account(account) == snapshot(account)
        client = self.redis_client()
        try:
            # Written through the cluster client: found on the node that owns its slot.
            key = f"risk:{{{account}}}"
            owner = client.get_node_from_key(key)
            assert client.get_redis_connection(owner).get(key) == encode_risk_snapshot(
                snapshot(account)
            )
        finally:
            client.delete(f"risk:{{{account}}}")
