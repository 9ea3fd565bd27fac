"""Move risk snapshots to their account's hash-tagged key ``risk:{<account_id>}[:<symbol>]``.

Input is every ``risk:*`` key: today's untagged ``risk:<id>`` keys (user-keyed legacy values
or account-keyed ones) and tagged keys holding a legacy value. The target account is read
from the snapshot's own ``account_id`` field, never derived from the key: in the 1:1 era a
user's default account has the user's bit pattern, so the key text cannot say whether it
names a user or an account, and deriving "the account of this user" would be the reverse
mapping the design forbids. A tagged key whose value names the key's own account is already
correct.

Guarantees: SCAN only (never KEYS); at most ``max_keys`` keys per run, with ``complete``
saying whether the scan finished; TTLs carried over (``PTTL`` -> ``SET PX``); the old key is
deleted only after the new value has been written and read back, and only if it still holds
the bytes that were moved. A crash between the write and the delete leaves both keys; the
next run sees the identical target value and finishes the delete. Running it twice changes
nothing the second time.

On a Redis Cluster the SCAN visits every primary in turn (a cluster SCAN is per node) and
every read and write goes through the cluster client. The old key and its target hash to
different slots, so each transaction watches one of them; the target write therefore checks
the old value just before rather than inside its transaction, and a value rewritten in that
gap is kept (the delete still compares bytes) and moved by the next run, newest ``as_of_ns``
winning. The resumable cursor is ``node_index << 64 | node_cursor``; on one server that is
the plain SCAN cursor. After a cluster topology change, resume from 0 (re-running is safe).
"""

from __future__ import annotations

from typing import cast

import attrs
import redis

from axadapters.redis._typed import RedisClient, scan_nodes, watch
from axadapters.redis.keys import RedisKeys
from axdomain.cache import RiskSnapshot, decode_risk_snapshot, encode_risk_snapshot
from axdomain.errors import DomainError, InvalidValue

DEFAULT_SCAN_COUNT = 500
DEFAULT_MAX_KEYS = 1_000_000
MAX_REPORTED_INVALID_KEYS = 20
# A key rewritten under our feet is retried this many times, then left for the next run.
MAX_ATTEMPTS_PER_KEY = 3
_PTTL_NO_EXPIRY = -1
_PTTL_MISSING = -2
_NODE_CURSOR_BITS = 64
_NODE_CURSOR_MASK = (1 << _NODE_CURSOR_BITS) - 1


@attrs.define
class RekeyReport:
    """What a run did (or, with ``dry_run``, would do). Every scanned key lands in exactly
    one outcome count."""

    dry_run: bool
    scanned: int = 0
    rekeyed: int = 0
    normalized: int = 0
    already_correct: int = 0
    superseded: int = 0
    vanished: int = 0
    contended: int = 0
    skipped_invalid: int = 0
    complete: bool = False
    next_cursor: int = 0
    invalid_keys: list[str] = attrs.field(factory=list)

    @property
    def outcomes(self) -> int:
        return (
            self.rekeyed
            + self.normalized
            + self.already_correct
            + self.superseded
            + self.vanished
            + self.contended
            + self.skipped_invalid
        )

    def as_dict(self) -> dict[str, object]:
        return attrs.asdict(self)


@attrs.frozen
class _Legacy:
    key: str
    raw: bytes
    snapshot: RiskSnapshot


def rekey_risk_keys(
    client: RedisClient,
    *,
    namespace: str = "",
    dry_run: bool = False,
    scan_count: int = DEFAULT_SCAN_COUNT,
    max_keys: int = DEFAULT_MAX_KEYS,
    cursor: int = 0,
) -> RekeyReport:
    """Re-key every ``{namespace}risk:*`` key to its snapshot's account; see the module doc.

    A run stops at the first SCAN batch boundary after ``max_keys`` keys; then
    ``complete`` is False and ``next_cursor`` resumes the scan in the next call.
    """
    if not 1 <= scan_count <= 10_000:
        raise InvalidValue("scan_count", scan_count, "must be in [1, 10000]")
    if not 1 <= max_keys <= 100_000_000:
        raise InvalidValue("max_keys", max_keys, "must be in [1, 100000000]")
    nodes = scan_nodes(client)
    if (
        isinstance(cursor, bool)
        or not isinstance(cursor, int)
        or not 0 <= cursor < len(nodes) << _NODE_CURSOR_BITS
    ):
        raise InvalidValue(
            "cursor", cursor, f"must be a rekey cursor (int in [0, {len(nodes)} << 64))"
        )
    keys = RedisKeys(namespace)
    report = RekeyReport(dry_run=dry_run)
    # Targets written by this run show up later in the same SCAN; they are not input.
    written: set[str] = set()
    node_index, node_cursor = cursor >> _NODE_CURSOR_BITS, cursor & _NODE_CURSOR_MASK
    while True:
        node_cursor, batch = cast(
            tuple[int, list[bytes]],
            nodes[node_index].scan(cursor=node_cursor, match=keys.risk_match(), count=scan_count),
        )
        for raw_key in batch:
            key = raw_key.decode()
            if key in written:
                continue
            report.scanned += 1
            _rekey_one(client, keys, key, report, written)
        assert report.outcomes == report.scanned, report
        if node_cursor == 0:
            node_index += 1
            if node_index == len(nodes):
                report.complete = True
                return report
        if report.scanned >= max_keys:
            report.next_cursor = node_index << _NODE_CURSOR_BITS | node_cursor
            return report


def _rekey_one(
    client: RedisClient, keys: RedisKeys, key: str, report: RekeyReport, written: set[str]
) -> None:
    for _ in range(MAX_ATTEMPTS_PER_KEY):
        try:
            outcome = _attempt(client, keys, key, report.dry_run, written)
        except redis.WatchError:
            continue
        except _Invalid:
            report.skipped_invalid += 1
            if len(report.invalid_keys) < MAX_REPORTED_INVALID_KEYS:
                report.invalid_keys.append(key)
            return
        setattr(report, outcome, getattr(report, outcome) + 1)
        return
    report.contended += 1


class _Invalid(Exception):
    """A key or value the tool will not interpret; it is reported and left untouched."""


def _attempt(
    client: RedisClient, keys: RedisKeys, key: str, dry_run: bool, written: set[str]
) -> str:
    legacy = _read_legacy(client, keys, key)
    if legacy is None:
        return "vanished"
    snapshot = legacy.snapshot
    target = keys.risk(snapshot.account_id, snapshot.symbol)
    canonical = encode_risk_snapshot(snapshot)
    if target == key:
        if legacy.raw == canonical:
            return "already_correct"
        if not dry_run:
            _normalize_in_place(client, legacy, canonical)
        return "normalized"
    if dry_run:
        existing = cast(bytes | None, client.get(target))
        return _settled_outcome(existing, legacy.snapshot, canonical) or "rekeyed"
    outcome, wrote = _write_target(client, legacy, target, canonical)
    if wrote:
        written.add(target)
    _delete_if_unchanged(client, legacy)
    return outcome


def _read_legacy(client: RedisClient, keys: RedisKeys, key: str) -> _Legacy | None:
    try:
        parts = keys.parse_risk_key(key)
        raw = cast(bytes | None, client.get(key))
    except (InvalidValue, redis.ResponseError):  # malformed key, or not a string value
        raise _Invalid from None
    if raw is None:
        return None
    try:
        snapshot = decode_risk_snapshot(raw, allow_legacy_user_id=True)
    except DomainError:
        raise _Invalid from None
    if snapshot.symbol != parts.symbol:
        raise _Invalid
    return _Legacy(key, raw, snapshot)


def _normalize_in_place(client: RedisClient, legacy: _Legacy, canonical: bytes) -> None:
    """Drop the legacy ``user_id`` from a value that is already at its account key."""
    with client.pipeline(transaction=True) as pipe:
        watch(pipe, legacy.key)
        if pipe.get(legacy.key) != legacy.raw:
            raise redis.WatchError(legacy.key)
        pipe.multi()
        pipe.set(legacy.key, canonical, xx=True, keepttl=True)
        pipe.execute()


def _write_target(
    client: RedisClient, legacy: _Legacy, target: str, canonical: bytes
) -> tuple[str, bool]:
    """Write (or find already written) the account-keyed value; never touches the old key.

    Returns the outcome and whether this call wrote the target: a target that existed
    before the run is ordinary input to the scan, one written by the run is not.
    """
    if client.get(legacy.key) != legacy.raw:
        raise redis.WatchError(legacy.key)
    pttl_ms = client.pttl(legacy.key)
    if pttl_ms == _PTTL_MISSING:
        raise redis.WatchError(legacy.key)
    with client.pipeline(transaction=True) as pipe:
        watch(pipe, target)
        existing = cast(bytes | None, pipe.get(target))
        settled = _settled_outcome(existing, legacy.snapshot, canonical)
        if settled is not None:
            return settled, False
        pipe.multi()
        if pttl_ms == _PTTL_NO_EXPIRY:
            pipe.set(target, canonical)
        else:
            assert pttl_ms > 0, pttl_ms
            pipe.set(target, canonical, px=pttl_ms)
        pipe.execute()
    if client.get(target) != canonical:
        # Overwritten between EXEC and the read-back: leave the old key for the next run.
        raise redis.WatchError(target)
    return "rekeyed", True


def _settled_outcome(
    existing: bytes | None, snapshot: RiskSnapshot, canonical: bytes
) -> str | None:
    """The outcome when the target needs no write, else None."""
    if existing == canonical:
        # A previous run wrote it and stopped before the delete: finish that run.
        return "rekeyed"
    if existing is not None and _is_newer_or_same(existing, snapshot):
        # The new producer already wrote fresher risk for this account: keep it.
        return "superseded"
    return None


def _is_newer_or_same(existing: bytes, snapshot: RiskSnapshot) -> bool:
    try:
        current = decode_risk_snapshot(existing, allow_legacy_user_id=True)
    except DomainError:
        return False  # an unreadable target is replaced by the readable legacy value
    return current.as_of_ns >= snapshot.as_of_ns


def _delete_if_unchanged(client: RedisClient, legacy: _Legacy) -> None:
    """Delete the old key only if it still holds exactly the bytes that were moved."""
    with client.pipeline(transaction=True) as pipe:
        watch(pipe, legacy.key)
        if pipe.get(legacy.key) != legacy.raw:
            return
        pipe.multi()
        pipe.delete(legacy.key)
        pipe.execute()
