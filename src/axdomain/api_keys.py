"""API keys: one key = (user, account, scope), scope within the user's grant at issuance.

The secret is high-entropy random bytes from the caller (the domain draws no randomness);
only ``HMAC-SHA-256(pepper, secret)`` is stored, and verification compares digests in
constant time. The token handed to the client once is ``axk_{key_id:016x}_{secret hex}``.
"""

from __future__ import annotations

import hashlib
import hmac
import re

import attrs

from axdomain._checks import require_range
from axdomain.errors import InvalidValue, KeyScopeError
from axdomain.ids import AccountId, UserId
from axdomain.membership import ApiKeyPrincipal, Grant
from axdomain.permissions import Permissions

MIN_SECRET_BYTES = 32  # 256 bits
MIN_PEPPER_BYTES = 32
TOKEN_PREFIX = "axk"
_TOKEN = re.compile(r"axk_([0-9a-f]{16})_([0-9a-f]{64,256})")
# A legacy key predates scopes: it acts with whatever its user's live grant allows.
LEGACY_SCOPE = Permissions.FULL_ACCESS


@attrs.frozen
class ApiKey:
    key_id: int = attrs.field(validator=lambda _, a, v: require_range(a.name, v, 1, (1 << 64) - 1))
    user_id: UserId
    account_id: AccountId | None  # None only for legacy keys
    scope: Permissions
    secret_hash: bytes
    created_at_ns: int
    revoked_at_ns: int | None = None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at_ns is not None

    def principal(self) -> ApiKeyPrincipal:
        """The principal this key acts as; a legacy key acts on its user's default account."""
        account = self.account_id or self.user_id.as_default_account_id()
        return ApiKeyPrincipal(self.key_id, self.user_id, account, self.scope)


@attrs.frozen
class ParsedToken:
    key_id: int
    secret: bytes


def hash_secret(secret: bytes, pepper: bytes) -> bytes:
    if len(pepper) < MIN_PEPPER_BYTES:
        raise InvalidValue("pepper", f"<{len(pepper)} bytes>", f"needs >= {MIN_PEPPER_BYTES}")
    return hmac.new(pepper, secret, hashlib.sha256).digest()


def format_token(key_id: int, secret: bytes) -> str:
    return f"{TOKEN_PREFIX}_{key_id:016x}_{secret.hex()}"


def parse_token(token: object) -> ParsedToken:
    if not isinstance(token, str):
        raise InvalidValue("api_key", "<redacted>", "must be a str")
    match = _TOKEN.fullmatch(token)
    if match is None:
        # Never echo a token: it may be a real secret with a typo.
        raise InvalidValue("api_key", "<redacted>", "malformed API key token")
    return ParsedToken(int(match.group(1), 16), bytes.fromhex(match.group(2)))


def mint_api_key(
    *,
    key_id: int,
    user_id: UserId,
    account_id: AccountId,
    scope: Permissions,
    grant: Grant | None,
    secret: bytes,
    pepper: bytes,
    now_ns: int,
) -> tuple[ApiKey, str]:
    """Returns the stored key and the one-time token; refuses a scope wider than the grant."""
    if len(secret) < MIN_SECRET_BYTES:
        raise InvalidValue("secret", f"<{len(secret)} bytes>", f"needs >= {MIN_SECRET_BYTES}")
    if grant is None or grant.user_id != user_id or grant.account_id != account_id:
        raise KeyScopeError("scope", sorted(scope.flags()), "user holds no grant on account")
    if not scope.is_subset_of(grant.permissions):
        wider = sorted(scope.flags() - grant.permissions.flags())
        raise KeyScopeError("scope", sorted(scope.flags()), f"wider than the grant by {wider}")
    if scope == Permissions.NONE:
        raise KeyScopeError("scope", [], "a key must allow something")
    key = ApiKey(key_id, user_id, account_id, scope, hash_secret(secret, pepper), now_ns)
    return key, format_token(key_id, secret)


def verify_secret(key: ApiKey, secret: bytes, pepper: bytes) -> bool:
    """Constant-time check; a revoked key never verifies."""
    digest_ok = hmac.compare_digest(key.secret_hash, hash_secret(secret, pepper))
    return digest_ok and not key.is_revoked
