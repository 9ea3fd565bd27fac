"""Redis adapters: risk-snapshot cache, session store, snapshot pub/sub, and the rekey tool.

``open_redis`` is the one entry point configuration needs (``AX_REDIS_URL``, and
``AX_REDIS_CLUSTER=1`` for a Redis Cluster); it bundles the three adapters over one client so
they share a namespace and a connection pool. A cluster URL names any one node: the client
discovers the others from ``CLUSTER SLOTS`` and follows ``MOVED`` redirections.
"""

from __future__ import annotations

import attrs
import redis
from redis.cluster import RedisCluster

from axadapters.redis._typed import RedisClient
from axadapters.redis.keys import RedisKeys, validate_namespace
from axadapters.redis.pubsub import RedisRiskSnapshotPublisher, RedisRiskSnapshotSubscription
from axadapters.redis.rekey import RekeyReport, rekey_risk_keys
from axadapters.redis.stores import RedisRiskSnapshotCache, RedisSessionStore

# Socket timeouts keep a dead server from hanging a request; pub/sub waits are bounded
# separately by ``next_update(timeout_ms)``.
CONNECT_TIMEOUT_MS = 2_000


@attrs.frozen
class RedisStores:
    client: RedisClient
    namespace: str
    risk_cache: RedisRiskSnapshotCache
    sessions: RedisSessionStore
    snapshots: RedisRiskSnapshotPublisher  # publisher and subscriber

    def rekey(self, *, dry_run: bool = False) -> RekeyReport:
        return rekey_risk_keys(self.client, namespace=self.namespace, dry_run=dry_run)

    def close(self) -> None:
        self.client.close()


def open_redis(url: str, namespace: str = "", *, cluster: bool = False) -> RedisStores:
    """Connect to ``url`` (``redis://host:port/db``; with ``cluster``, any node of a Redis
    Cluster) and check the server answers."""
    validate_namespace(namespace)
    timeout_s = CONNECT_TIMEOUT_MS / 1000
    client: RedisClient
    if cluster:
        client = RedisCluster.from_url(url, socket_connect_timeout=timeout_s)
    else:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s)
    client.ping()
    return RedisStores(
        client=client,
        namespace=namespace,
        risk_cache=RedisRiskSnapshotCache(client, namespace),
        sessions=RedisSessionStore(client, namespace),
        snapshots=RedisRiskSnapshotPublisher(client, namespace),
    )


__all__ = [
    "RedisClient",
    "RedisKeys",
    "RedisRiskSnapshotCache",
    "RedisRiskSnapshotPublisher",
    "RedisRiskSnapshotSubscription",
    "RedisSessionStore",
    "RedisStores",
    "RekeyReport",
    "open_redis",
    "rekey_risk_keys",
]
