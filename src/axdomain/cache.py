"""Risk snapshots and login sessions: the values kept in the fast cache, and its ports.

A risk snapshot is money (margin, equity, PnL), so it is keyed by ``AccountId``; a session
is an identity artifact, so it stays keyed by ``UserId``. Keeping both in one module makes
the split visible where the cache is designed. Amounts are integers in micro-USD; the codec
writes every integer as a canonical decimal string so that no JSON consumer (JavaScript
numbers, float-parsing tools) can round a 128-bit amount through a double.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Sequence
from typing import Protocol, Self

import attrs

from axdomain._checks import require_range
from axdomain.errors import InvalidValue
from axdomain.ids import AccountId, UserId

I64_MAX = (1 << 63) - 1
I128_MIN = -(1 << 127)
I128_MAX = (1 << 127) - 1
U128_MAX = (1 << 128) - 1
MAX_SYMBOL_LEN = 64
# Cache entries are short-lived by design; a month is far above any sane snapshot TTL.
MAX_TTL_MS = 30 * 24 * 3600 * 1000
# A subscriber waits at most this long per call, so a stuck consumer notices shutdown.
MAX_WAIT_MS = 60_000
MAX_ENCODED_SNAPSHOT_BYTES = 4096
RISK_SNAPSHOT_CHANNEL = "risk_snapshot_updated"

# Symbols become part of a cache key: no ':' (the key separator), no glob characters,
# no whitespace.
_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
_TOKEN_HASH = re.compile(r"[0-9a-f]{64}")
# Canonical decimal integer text: no '+', no leading zeros, no "-0"; at most 40 digits
# (2**128 has 39), so parsing is cheap and bounded.
_DECIMAL = re.compile(r"0|-?[1-9][0-9]{0,39}")


def validate_symbol(field: str, value: object) -> str:
    if not isinstance(value, str) or _SYMBOL.fullmatch(value) is None:
        raise InvalidValue(
            field, value, f"must be 1..{MAX_SYMBOL_LEN} of [A-Za-z0-9._/-], starting alnum"
        )
    return value


def validate_token_hash(field: str, value: object) -> str:
    if not isinstance(value, str) or _TOKEN_HASH.fullmatch(value) is None:
        raise InvalidValue(field, value, "must be 64 lower-case hex digits (SHA-256)")
    return value


def validate_ttl_ms(ttl_ms: object) -> int:
    return require_range("ttl_ms", ttl_ms, 1, MAX_TTL_MS)


def validate_timeout_ms(timeout_ms: object) -> int:
    return require_range("timeout_ms", timeout_ms, 0, MAX_WAIT_MS)


def _account_id(_: object, attribute: attrs.Attribute[AccountId], value: object) -> None:
    if not isinstance(value, AccountId):
        raise InvalidValue(attribute.name, value, "must be an AccountId")


def _user_id(_: object, attribute: attrs.Attribute[UserId], value: object) -> None:
    if not isinstance(value, UserId):
        raise InvalidValue(attribute.name, value, "must be a UserId")


def _optional_symbol(_: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        validate_symbol(attribute.name, value)


def _ranged(low: int, high: int) -> Callable[[object, attrs.Attribute[int], int], None]:
    def check(_: object, attribute: attrs.Attribute[int], value: int) -> None:
        require_range(attribute.name, value, low, high)

    return check


@attrs.frozen
class RiskSnapshot:
    """One account's risk at one instant; ``symbol`` set means the per-symbol slice.

    There is no ``user_id`` field: risk is account-scoped (margin is per account, accounts
    are never netted), and the legacy user field is exactly what the re-keying removes.
    """

    account_id: AccountId = attrs.field(validator=_account_id)
    symbol: str | None = attrs.field(validator=_optional_symbol)
    equity_micro_usd: int = attrs.field(validator=_ranged(I128_MIN, I128_MAX))
    initial_margin_micro_usd: int = attrs.field(validator=_ranged(0, U128_MAX))
    maintenance_margin_micro_usd: int = attrs.field(validator=_ranged(0, U128_MAX))
    unrealized_pnl_micro_usd: int = attrs.field(validator=_ranged(I128_MIN, I128_MAX))
    as_of_ns: int = attrs.field(validator=_ranged(0, I64_MAX))


@attrs.frozen
class Session:
    """A login session as stored: who logged in, until when, found by the token's hash.

    Only the hash of the bearer token is ever stored. Sessions are identity, so the index
    is per user and nothing here names an account.
    """

    token_hash: str = attrs.field(validator=lambda _, a, v: validate_token_hash(a.name, v))
    user_id: UserId = attrs.field(validator=_user_id)
    expires_at_ns: int = attrs.field(validator=_ranged(1, I64_MAX))


# ---------------------------------------------------------------- codec

_SNAPSHOT_INT_FIELDS = (
    "equity_micro_usd",
    "initial_margin_micro_usd",
    "maintenance_margin_micro_usd",
    "unrealized_pnl_micro_usd",
    "as_of_ns",
)
_SNAPSHOT_FIELDS = frozenset(("account_id", "symbol", *_SNAPSHOT_INT_FIELDS))
# The pre-cutover value shape carried the user as well; only the legacy reader accepts it.
LEGACY_USER_FIELD = "user_id"


def _dumps(obj: dict[str, object]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _loads_object(field: str, raw: object, max_bytes: int) -> dict[str, object]:
    if isinstance(raw, str):
        raw = raw.encode()
    if not isinstance(raw, bytes | bytearray):
        raise InvalidValue(field, raw, "must be bytes or str")
    if len(raw) > max_bytes:
        raise InvalidValue(field, bytes(raw[:64]), f"longer than {max_bytes} bytes")
    try:
        obj = json.loads(
            raw,
            parse_float=_reject_float,
            parse_constant=_reject_float,
            object_pairs_hook=_unique_keys,
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidValue(field, bytes(raw[:64]), f"is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidValue(field, obj, "must be a JSON object")
    return obj


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise InvalidValue("json", [key for key, _ in pairs], "duplicate object keys")
    return obj


def _reject_float(text: str) -> object:
    raise InvalidValue("json", text, "floats never carry money or ids")


def _decimal(field: str, value: object) -> int:
    if not isinstance(value, str) or _DECIMAL.fullmatch(value) is None:
        raise InvalidValue(field, value, "must be a canonical decimal integer string")
    return int(value)


def encode_risk_snapshot(snapshot: RiskSnapshot) -> bytes:
    """Canonical bytes: sorted keys, no spaces, integers as decimal strings."""
    obj: dict[str, object] = {
        "account_id": str(snapshot.account_id),
        "symbol": snapshot.symbol,
    }
    for name in _SNAPSHOT_INT_FIELDS:
        obj[name] = str(getattr(snapshot, name))
    return _dumps(obj)


def decode_risk_snapshot(raw: object, *, allow_legacy_user_id: bool = False) -> RiskSnapshot:
    """Strict inverse of ``encode_risk_snapshot``.

    ``allow_legacy_user_id`` accepts (and drops) the pre-cutover ``user_id`` field so the
    rekey tool and readers during the cutover can read old values; it must still be a
    valid user id, because a malformed legacy value is a reason to stop, not to guess.
    """
    obj = _loads_object("risk_snapshot", raw, MAX_ENCODED_SNAPSHOT_BYTES)
    if allow_legacy_user_id and LEGACY_USER_FIELD in obj:
        UserId.from_hex(obj.pop(LEGACY_USER_FIELD))
    keys = set(obj)
    if keys != _SNAPSHOT_FIELDS:
        missing = sorted(_SNAPSHOT_FIELDS - keys)
        extra = sorted(keys - _SNAPSHOT_FIELDS)
        raise InvalidValue("risk_snapshot", sorted(keys), f"missing {missing}, unexpected {extra}")
    ints = {name: _decimal(name, obj[name]) for name in _SNAPSHOT_INT_FIELDS}
    return RiskSnapshot(
        account_id=AccountId.from_hex(obj["account_id"]),
        symbol=_optional_symbol_text(obj["symbol"]),
        **ints,
    )


def _optional_symbol_text(value: object) -> str | None:
    return None if value is None else validate_symbol("symbol", value)


_SESSION_FIELDS = frozenset(("token_hash", "user_id", "expires_at_ns"))


def encode_session(session: Session) -> bytes:
    return _dumps(
        {
            "token_hash": session.token_hash,
            "user_id": str(session.user_id),
            "expires_at_ns": str(session.expires_at_ns),
        }
    )


def decode_session(raw: object) -> Session:
    obj = _loads_object("session", raw, 1024)
    if set(obj) != _SESSION_FIELDS:
        raise InvalidValue("session", sorted(obj), f"must have exactly {sorted(_SESSION_FIELDS)}")
    return Session(
        token_hash=validate_token_hash("token_hash", obj["token_hash"]),
        user_id=UserId.from_hex(obj["user_id"]),
        expires_at_ns=_decimal("expires_at_ns", obj["expires_at_ns"]),
    )


# ---------------------------------------------------------------- ports


class RiskSnapshotCache(Protocol):
    """Latest risk per account (and per account and symbol), expiring after ``ttl_ms``."""

    def put(self, snapshot: RiskSnapshot, ttl_ms: int) -> None:
        """Replace the entry of ``(account_id, symbol)``; ``ttl_ms`` in 1..MAX_TTL_MS."""

    def get_account(self, account_id: AccountId) -> RiskSnapshot | None: ...

    def get_symbol(self, account_id: AccountId, symbol: str) -> RiskSnapshot | None: ...


class SessionStore(Protocol):
    """Sessions by token hash, indexed per user; expired sessions are never returned."""

    def create(self, session: Session) -> None:
        """Raises ``Conflict`` if the token hash is already in use."""

    def get(self, token_hash: str) -> Session | None: ...

    def list_for_user(self, user_id: UserId) -> Sequence[Session]:
        """Live sessions of the user, ordered by ``(expires_at_ns, token_hash)``."""

    def delete(self, token_hash: str) -> bool:
        """Remove the session and its index entry; False if there was none."""


class RiskSnapshotPublisher(Protocol):
    """Announces a new snapshot on ``risk_snapshot_updated``; the payload names the account."""

    def publish(self, snapshot: RiskSnapshot) -> None: ...


class RiskSnapshotSubscription(Protocol):
    """An open subscription; ``rejected_count`` counts payloads that failed to decode."""

    @property
    def rejected_count(self) -> int: ...

    def next_update(self, timeout_ms: int) -> RiskSnapshot | None:
        """The next matching snapshot, or None if none arrived within ``timeout_ms``."""

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...


class RiskSnapshotSubscriber(Protocol):
    def subscribe(
        self, account_ids: Collection[AccountId] | None = None
    ) -> RiskSnapshotSubscription:
        """Listen for updates; ``account_ids`` narrows to those accounts (None: all).

        A multi-account view subscribes per chosen account; there is no "all accounts of a
        user" filter, because that would be a server-side fan-out over a permission set.
        """
        ...
