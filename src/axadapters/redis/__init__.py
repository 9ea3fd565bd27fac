"""Redis adapters: risk-snapshot cache, session store, snapshot pub/sub, and the rekey tool.

``open_redis`` is the one entry point configuration needs (``AX_REDIS_URL``); it bundles the
three adapters over one client so they share a namespace and a connection pool.
"""

from __future__ import annotations

import attrs
import redis

from axadapters.redis.keys import RedisKeys, validate_namespace
from axadapters.redis.pubsub import RedisRiskSnapshotPublisher, RedisRiskSnapshotSubscription
from axadapters.redis.rekey import RekeyReport, rekey_risk_keys
from axadapters.redis.stores import RedisRiskSnapshotCache, RedisSessionStore

# Socket timeouts keep a dead server from hanging a request; pub/sub waits are bounded
# separately by ``next_update(timeout_ms)``.
CONNECT_TIMEOUT_MS = 2_000


@attrs.frozen
class RedisStores:
    client: redis.Redis
    namespace: str
    risk_cache: RedisRiskSnapshotCache
    sessions: RedisSessionStore
    snapshots: RedisRiskSnapshotPublisher  # publisher and subscriber

    def rekey(self, *, dry_run: bool = False) -> RekeyReport:
        return rekey_risk_keys(self.client, namespace=self.namespace, dry_run=dry_run)

    def close(self) -> None:
        self.client.close()


def open_redis(url: str, namespace: str = "") -> RedisStores:
    """Connect to ``url`` (``redis://host:port/db``) and check the server answers."""
    validate_namespace(namespace)
    client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_MS / 1000)
    client.ping()
    return RedisStores(
        client=client,
        namespace=namespace,
        risk_cache=RedisRiskSnapshotCache(client, namespace),
        sessions=RedisSessionStore(client, namespace),
        snapshots=RedisRiskSnapshotPublisher(client, namespace),
    )


__all__ = [
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
