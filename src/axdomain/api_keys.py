"""API keys: one key = (user, account, scope), scope within the user's grant at issuance.

The secret is high-entropy random bytes from the caller (the domain draws no randomness);
only ``HMAC-SHA-256(pepper, secret)`` is stored, and verification compares digests in
constant time. The token handed to the client once is ``axk_{key_id:016x}_{secret hex}``.
A key may carry an expiry and an allow-list of client networks; outside either it is
refused exactly like an unknown key.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
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
MAX_ALLOWED_CIDRS = 32
_TOKEN = re.compile(r"(ax[a-z])_([0-9a-f]{16})_([0-9a-f]{64,256})")
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
    expires_at_ns: int | None = None
    allowed_cidrs: tuple[str, ...] = ()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at_ns is not None

    def usable(self, now_ns: int, client_address: str | None) -> bool:
        """Live, unexpired, and (when the key names networks) asked from one of them."""
        if self.is_revoked:
            return False
        if self.expires_at_ns is not None and now_ns >= self.expires_at_ns:
            return False
        return not self.allowed_cidrs or address_in_networks(client_address, self.allowed_cidrs)

    def principal(self, client_address: str | None = None) -> ApiKeyPrincipal:
        """The principal this key acts as; a legacy key acts on its user's default account."""
        account = self.account_id or self.user_id.as_default_account_id()
        return ApiKeyPrincipal(self.key_id, self.user_id, account, self.scope, client_address)


def parse_cidrs(value: object, field: str = "allowed_cidrs") -> tuple[str, ...]:
    """Canonical network texts (``10.0.0.0/8``); host bits set or garbage is refused."""
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidValue(field, value, "must be a list of CIDR strings")
    if len(value) > MAX_ALLOWED_CIDRS:
        raise InvalidValue(field, len(value), f"at most {MAX_ALLOWED_CIDRS} networks")
    networks = []
    for text in value:
        try:
            networks.append(str(ipaddress.ip_network(text, strict=True)))
        except ValueError:
            raise InvalidValue(field, text, "not a network in CIDR notation") from None
    return tuple(networks)


def address_in_networks(address: str | None, cidrs: tuple[str, ...]) -> bool:
    if address is None:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(cidr) for cidr in cidrs)


@attrs.frozen
class ParsedToken:
    key_id: int
    secret: bytes
    prefix: str = TOKEN_PREFIX


def hash_secret(secret: bytes, pepper: bytes) -> bytes:
    if len(pepper) < MIN_PEPPER_BYTES:
        raise InvalidValue("pepper", f"<{len(pepper)} bytes>", f"needs >= {MIN_PEPPER_BYTES}")
    return hmac.new(pepper, secret, hashlib.sha256).digest()


def format_token(key_id: int, secret: bytes, prefix: str = TOKEN_PREFIX) -> str:
    return f"{prefix}_{key_id:016x}_{secret.hex()}"


def parse_token(token: object, prefix: str = TOKEN_PREFIX) -> ParsedToken:
    """``{prefix}_{id:016x}_{secret hex}``; the same shape serves keys and operators."""
    if not isinstance(token, str):
        raise InvalidValue("api_key", "<redacted>", "must be a str")
    match = _TOKEN.fullmatch(token)
    if match is None or match.group(1) != prefix:
        # Never echo a token: it may be a real secret with a typo.
        raise InvalidValue("api_key", "<redacted>", "malformed token")
    return ParsedToken(int(match.group(2), 16), bytes.fromhex(match.group(3)), prefix)


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
    expires_at_ns: int | None = None,
    allowed_cidrs: tuple[str, ...] = (),
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
    if expires_at_ns is not None:
        require_range("expires_at_ns", expires_at_ns, now_ns + 1, (1 << 63) - 1)
    key = ApiKey(
        key_id,
        user_id,
        account_id,
        scope,
        hash_secret(secret, pepper),
        now_ns,
        expires_at_ns=expires_at_ns,
        allowed_cidrs=parse_cidrs(allowed_cidrs),
    )
    return key, format_token(key_id, secret)


def verify_secret(key: ApiKey, secret: bytes, pepper: bytes) -> bool:
    """Constant-time check; a revoked key never verifies."""
    digest_ok = hmac.compare_digest(key.secret_hash, hash_secret(secret, pepper))
    return digest_ok and not key.is_revoked
