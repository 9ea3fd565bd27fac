"""Memory risk-snapshot cache, session store and snapshot bus.

Expiry is judged against an injected clock so tests can move time instead of sleeping;
entries are dropped lazily when read, as Redis does for a key nobody touches.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Collection, Sequence
from typing import Self

from axdomain.cache import (
    RiskSnapshot,
    Session,
    validate_symbol,
    validate_timeout_ms,
    validate_token_hash,
    validate_ttl_ms,
)
from axdomain.errors import Conflict
from axdomain.ids import AccountId, UserId
from axdomain.ports import Clock

_NS_PER_MS = 1_000_000
MAX_QUEUED_UPDATES = 10_000


class MemoryRiskSnapshotCache:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._entries: dict[tuple[AccountId, str | None], tuple[RiskSnapshot, int]] = {}

    def put(self, snapshot: RiskSnapshot, ttl_ms: int) -> None:
        expires_at_ns = self._clock.now_ns() + validate_ttl_ms(ttl_ms) * _NS_PER_MS
        self._entries[(snapshot.account_id, snapshot.symbol)] = (snapshot, expires_at_ns)

    def get_account(self, account_id: AccountId) -> RiskSnapshot | None:
        return self._live((account_id, None))

    def get_symbol(self, account_id: AccountId, symbol: str) -> RiskSnapshot | None:
        return self._live((account_id, validate_symbol("symbol", symbol)))

    def _live(self, key: tuple[AccountId, str | None]) -> RiskSnapshot | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        snapshot, expires_at_ns = entry
        if self._clock.now_ns() >= expires_at_ns:
            del self._entries[key]
            return None
        return snapshot


class MemorySessionStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._by_hash: dict[str, Session] = {}
        self._by_user: dict[UserId, set[str]] = {}  # token hashes, pruned with ``_by_hash``

    def create(self, session: Session) -> None:
        if self.get(session.token_hash) is not None:
            raise Conflict("token_hash", session.token_hash, "session already exists")
        self._by_hash[session.token_hash] = session
        self._by_user.setdefault(session.user_id, set()).add(session.token_hash)

    def _drop(self, token_hash: str) -> Session | None:
        session = self._by_hash.pop(token_hash, None)
        if session is not None:
            self._by_user[session.user_id].discard(token_hash)
        return session

    def get(self, token_hash: str) -> Session | None:
        session = self._by_hash.get(validate_token_hash("token_hash", token_hash))
        if session is None:
            return None
        if self._clock.now_ns() >= session.expires_at_ns:
            self._drop(token_hash)
            return None
        return session

    def list_for_user(self, user_id: UserId) -> Sequence[Session]:
        now_ns = self._clock.now_ns()
        mine = (self._by_hash[h] for h in self._by_user.get(user_id, ()))
        live = [s for s in mine if now_ns < s.expires_at_ns]
        return sorted(live, key=lambda s: (s.expires_at_ns, s.token_hash))

    def delete(self, token_hash: str) -> bool:
        return self._drop(validate_token_hash("token_hash", token_hash)) is not None


class MemoryRiskSnapshotBus:
    """Publisher and subscriber in one object: what one in-process Redis channel would be."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: list[MemoryRiskSnapshotSubscription] = []

    def publish(self, snapshot: RiskSnapshot) -> None:
        with self._lock:
            targets = list(self._subscriptions)
        for subscription in targets:
            subscription.deliver(snapshot)

    def subscribe(
        self, account_ids: Collection[AccountId] | None = None
    ) -> MemoryRiskSnapshotSubscription:
        subscription = MemoryRiskSnapshotSubscription(self, account_ids)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def _remove(self, subscription: MemoryRiskSnapshotSubscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)


class MemoryRiskSnapshotSubscription:
    def __init__(
        self, bus: MemoryRiskSnapshotBus, account_ids: Collection[AccountId] | None
    ) -> None:
        self._bus = bus
        self._accounts = None if account_ids is None else frozenset(account_ids)
        self._queue: queue.Queue[RiskSnapshot] = queue.Queue(maxsize=MAX_QUEUED_UPDATES)

    @property
    def rejected_count(self) -> int:
        # Values are passed as typed objects, so nothing can fail to decode here.
        return 0

    def deliver(self, snapshot: RiskSnapshot) -> None:
        if self._accounts is None or snapshot.account_id in self._accounts:
            self._queue.put_nowait(snapshot)

    def next_update(self, timeout_ms: int) -> RiskSnapshot | None:
        try:
            return self._queue.get(timeout=validate_timeout_ms(timeout_ms) / 1000)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._bus._remove(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
