"""Publish and receive risk snapshots on the ``risk_snapshot_updated`` channel.

The channel is global (one channel, not one per account or user); the payload is the
canonical snapshot encoding, so it always carries ``account_id`` and a consumer can act
without a second read. Filtering to chosen accounts happens in the subscriber, one account
set per subscription, never by expanding a user's permissions server-side.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any, Self, cast

from axadapters.redis._typed import RedisClient, open_pubsub
from axadapters.redis.keys import RedisKeys
from axdomain.cache import (
    RiskSnapshot,
    decode_risk_snapshot,
    encode_risk_snapshot,
    validate_timeout_ms,
)
from axdomain.errors import DomainError, InvalidValue
from axdomain.ids import AccountId

# Waiting for the server to confirm SUBSCRIBE: only then is a later PUBLISH guaranteed to
# reach us, which is what makes "subscribe, then publish" deterministic for callers.
SUBSCRIBE_CONFIRM_TIMEOUT_MS = 5_000


class RedisRiskSnapshotPublisher:
    def __init__(self, client: RedisClient, namespace: str = "") -> None:
        self._client = client
        self._channel = RedisKeys(namespace).channel()

    def publish(self, snapshot: RiskSnapshot) -> None:
        self._client.publish(self._channel, encode_risk_snapshot(snapshot))

    def subscribe(
        self, account_ids: Collection[AccountId] | None = None
    ) -> RedisRiskSnapshotSubscription:
        return RedisRiskSnapshotSubscription(self._client, self._channel, account_ids)


class RedisRiskSnapshotSubscription:
    """One pub/sub connection; ``next_update`` decodes, filters and waits a bounded time.

    A payload that does not decode is counted in ``rejected_count`` and skipped: one bad
    producer must not stop the risk monitor, but the count makes it visible.
    """

    def __init__(
        self,
        client: RedisClient,
        channel: str,
        account_ids: Collection[AccountId] | None,
    ) -> None:
        self._accounts = None if account_ids is None else frozenset(account_ids)
        self._rejected = 0
        self._pubsub = open_pubsub(client)
        self._pubsub.subscribe(channel)
        confirmation = self._pubsub.get_message(timeout=SUBSCRIBE_CONFIRM_TIMEOUT_MS / 1000)
        if confirmation is None or confirmation.get("type") != "subscribe":
            self._pubsub.close()
            raise InvalidValue("channel", channel, "the server did not confirm SUBSCRIBE")

    @property
    def rejected_count(self) -> int:
        return self._rejected

    def next_update(self, timeout_ms: int) -> RiskSnapshot | None:
        deadline_ns = time.monotonic_ns() + validate_timeout_ms(timeout_ms) * 1_000_000
        while True:
            remaining_s = max(deadline_ns - time.monotonic_ns(), 0) / 1e9
            message = cast(
                dict[str, Any] | None,
                self._pubsub.get_message(ignore_subscribe_messages=True, timeout=remaining_s),
            )
            if message is not None and message.get("type") == "message":
                snapshot = self._decode(message.get("data"))
                if snapshot is not None and self._wanted(snapshot):
                    return snapshot
            if time.monotonic_ns() >= deadline_ns:
                return None

    def _decode(self, data: object) -> RiskSnapshot | None:
        try:
            return decode_risk_snapshot(data)
        except DomainError:
            self._rejected += 1
            return None

    def _wanted(self, snapshot: RiskSnapshot) -> bool:
        return self._accounts is None or snapshot.account_id in self._accounts

    def close(self) -> None:
        self._pubsub.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
