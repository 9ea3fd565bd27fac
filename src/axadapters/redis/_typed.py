"""Typed doors to the redis-py methods that ship without annotations, and the one client
type the adapters accept: a single server (``redis.Redis``) or a cluster (``RedisCluster``).

Casting the bound method (rather than silencing the call) keeps every other line of the
adapters checked under ``mypy --strict``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias, cast

import redis
import redis.client
from redis.cluster import ClusterNode, ClusterPipeline, RedisCluster

# Every command the adapters send through this type names keys of one slot (or one key),
# which is what lets the same code run on both.
RedisClient: TypeAlias = redis.Redis | RedisCluster
RedisPipeline: TypeAlias = redis.client.Pipeline | ClusterPipeline


def watch(pipe: RedisPipeline, *keys: str) -> None:
    """Put the pipeline in immediate mode, watching ``keys`` for the following MULTI."""
    cast(Callable[..., object], pipe.watch)(*keys)


def open_pubsub(client: RedisClient) -> redis.client.PubSub:
    return cast(Callable[[], redis.client.PubSub], client.pubsub)()


def scan_nodes(client: RedisClient) -> list[redis.Redis]:
    """One client per node a ``SCAN`` must visit: the server itself, or every cluster
    primary in a stable order (by ``host:port``), since a cluster SCAN is per node."""
    if isinstance(client, RedisCluster):
        nodes = cast(Callable[[], list[ClusterNode]], client.get_primaries)()
        primaries = sorted(nodes, key=lambda node: str(node.name))
        return [client.get_redis_connection(node) for node in primaries]
    return [client]
