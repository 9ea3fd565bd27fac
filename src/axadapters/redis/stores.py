"""redis-py risk-snapshot cache and session store, on one server or a Redis Cluster.

Expiry is Redis's own (``PX`` / ``PXAT``), so no local clock is consulted and every process
sharing the server agrees on what is live. Every transaction names keys of one slot: a risk
key is one key, and a session's token key and its user's index live on different slots, so
they are written one after the other in the order that keeps the index a superset of the
live sessions. redis-py's command methods are typed as "value or awaitable"; the narrow
``cast`` calls below state the synchronous client's real result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from axadapters.redis._typed import RedisClient
from axadapters.redis.keys import RedisKeys
from axdomain.cache import (
    RiskSnapshot,
    Session,
    decode_risk_snapshot,
    decode_session,
    encode_risk_snapshot,
    encode_session,
    validate_ttl_ms,
)
from axdomain.errors import Conflict
from axdomain.ids import AccountId, UserId

_NS_PER_MS = 1_000_000
# A user with more live sessions than this is abuse, not a use case; the index read is bounded.
MAX_SESSIONS_PER_USER = 1_000


class RedisRiskSnapshotCache:
    def __init__(self, client: RedisClient, namespace: str = "") -> None:
        self._client = client
        self._keys = RedisKeys(namespace)

    def put(self, snapshot: RiskSnapshot, ttl_ms: int) -> None:
        key = self._keys.risk(snapshot.account_id, snapshot.symbol)
        self._client.set(key, encode_risk_snapshot(snapshot), px=validate_ttl_ms(ttl_ms))

    def get_account(self, account_id: AccountId) -> RiskSnapshot | None:
        return self._read(self._keys.risk_account(account_id), account_id, None)

    def get_symbol(self, account_id: AccountId, symbol: str) -> RiskSnapshot | None:
        return self._read(self._keys.risk_symbol(account_id, symbol), account_id, symbol)

    def _read(self, key: str, account_id: AccountId, symbol: str | None) -> RiskSnapshot | None:
        raw = cast(bytes | None, self._client.get(key))
        if raw is None:
            return None
        # Until the rekey has run, a key may still hold a pre-cutover value (with user_id).
        snapshot = decode_risk_snapshot(raw, allow_legacy_user_id=True)
        if (snapshot.account_id, snapshot.symbol) != (account_id, symbol):
            # A user-keyed legacy value whose account differs from the key: returning it
            # would hand one account's risk to another. Refuse loudly; the rekey moves it.
            raise Conflict(
                "risk_key",
                key,
                f"holds the snapshot of account {snapshot.account_id}; run the risk rekey",
            )
        return snapshot


class RedisSessionStore:
    """Token key ``session:token:<hash>`` plus the per-user set ``session:user:<user_id>``.

    Each token key expires on its own (``PXAT``); the user set expires no earlier than its
    last session and is pruned of expired hashes whenever it is listed, so it never lists a
    dead session and never grows without bound.

    The two keys hash to different cluster slots, so no step writes both atomically. The
    index entry is written first and removed last: a crash in between leaves an index entry
    without a live session (pruned when listed), never a live session its user cannot list
    and revoke.
    """

    def __init__(self, client: RedisClient, namespace: str = "") -> None:
        self._client = client
        self._keys = RedisKeys(namespace)

    def create(self, session: Session) -> None:
        token_key = self._keys.session_token(session.token_hash)
        index_key = self._keys.session_user(session.user_id)
        expires_at_ms = _ceil_ms(session.expires_at_ns)
        with self._client.pipeline(transaction=True) as pipe:
            pipe.sadd(index_key, session.token_hash)
            # NX sets a fresh set's expiry; GT extends it when this session outlives the others.
            pipe.pexpireat(index_key, expires_at_ms, nx=True)
            pipe.pexpireat(index_key, expires_at_ms, gt=True)
            added, _, _ = pipe.execute()
        # SET NX makes "absent, then written" one atomic step on the token's own slot.
        if self._client.set(token_key, encode_session(session), pxat=expires_at_ms, nx=True):
            return
        if added:
            # The hash is someone's live session: our entry would only point at it.
            self._client.srem(index_key, session.token_hash)
        raise Conflict("token_hash", session.token_hash, "session already exists")

    def get(self, token_hash: str) -> Session | None:
        raw = cast(bytes | None, self._client.get(self._keys.session_token(token_hash)))
        return None if raw is None else decode_session(raw)

    def list_for_user(self, user_id: UserId) -> Sequence[Session]:
        index_key = self._keys.session_user(user_id)
        members = cast(
            list[bytes],
            self._client.srandmember(index_key, MAX_SESSIONS_PER_USER),
        )
        hashes = sorted(m.decode() for m in members)
        if not hashes:
            return []
        # One GET per token in one round trip per node (the tokens span slots, so no MGET).
        with self._client.pipeline(transaction=False) as pipe:
            for token_hash in hashes:
                pipe.get(self._keys.session_token(token_hash))
            raws = cast(list[bytes | None], pipe.execute())
        live: list[Session] = []
        dead: list[str] = []
        for token_hash, raw in zip(hashes, raws, strict=True):
            if raw is None:
                dead.append(token_hash)
                continue
            session = decode_session(raw)
            if session.user_id != user_id:
                # Only after this user's session expired and the hash was reissued to someone
                # else: the stale index entry is pruned, never followed.
                dead.append(token_hash)
                continue
            live.append(session)
        if dead:
            self._client.srem(index_key, *dead)
        return sorted(live, key=lambda s: (s.expires_at_ns, s.token_hash))

    def delete(self, token_hash: str) -> bool:
        token_key = self._keys.session_token(token_hash)
        raw = cast(bytes | None, self._client.get(token_key))
        if raw is None:
            return False
        session = decode_session(raw)
        deleted = bool(self._client.delete(token_key))
        self._client.srem(self._keys.session_user(session.user_id), token_hash)
        return deleted


def _ceil_ms(at_ns: int) -> int:
    """Redis times are ms; rounding up never ends a session before its stated instant."""
    return -(-at_ns // _NS_PER_MS)
