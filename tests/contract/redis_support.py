"""Real-Redis fixtures: one connection, one fresh key namespace per test, cleanup by SCAN.

An unreachable server goes through ``unavailable_service``: a failure in CI, a loud skip
elsewhere, never a silent pass.
"""

from __future__ import annotations

import os
import uuid

import redis

from axadapters.redis import RedisClient
from tests.conftest import unavailable_service

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
CLEANUP_SCAN_COUNT = 500


def redis_url() -> str:
    return os.environ.get("AX_REDIS_URL") or DEFAULT_REDIS_URL


def connect_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(redis_url(), socket_connect_timeout=2, socket_timeout=10)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        unavailable_service("Redis", f"{redis_url()}: {exc}")
    return client


def new_namespace() -> str:
    return f"axtest:{uuid.uuid4().hex[:16]}:"


def delete_namespace(client: RedisClient, namespace: str) -> int:
    """Delete every key under ``namespace`` (on a cluster: on every node); returns how many
    went."""
    assert namespace.startswith("axtest:"), namespace  # never a bare or shared prefix
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=f"{namespace}*", count=CLEANUP_SCAN_COUNT):
        batch.append(key)
        if len(batch) >= CLEANUP_SCAN_COUNT:
            deleted += int(client.delete(*batch))
            batch.clear()
    if batch:
        deleted += int(client.delete(*batch))
    return deleted


class RedisNamespaces:
    """Mixin for a contract subclass: each ``namespace()`` call is fresh and cleaned up."""

    _client: RedisClient | None = None
    _namespaces: list[str]

    def redis_client(self) -> RedisClient:
        if self._client is None:
            self._client = connect_or_skip()
        return self._client

    def namespace(self) -> str:
        self.redis_client()
        if not hasattr(self, "_namespaces"):
            self._namespaces = []
        namespace = new_namespace()
        self._namespaces.append(namespace)
        return namespace

    def teardown_method(self) -> None:
        client = self._client
        if client is None:
            return
        for namespace in getattr(self, "_namespaces", []):
            delete_namespace(client, namespace)
            assert not list(client.scan_iter(match=f"{namespace}*", count=CLEANUP_SCAN_COUNT))
        self._namespaces = []
        client.close()
        self._client = None
