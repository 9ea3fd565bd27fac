"""Operator credentials: exchange staff who act where no customer grant reaches.

Minted by the command line only, shown once, stored as ``HMAC-SHA-256(pepper, secret)``
exactly like an API key's secret; the token is ``axo_{operator_id:016x}_{secret hex}``.
"""

from __future__ import annotations

import attrs

from axdomain._checks import require_range, require_text
from axdomain.api_keys import MIN_SECRET_BYTES, format_token, hash_secret
from axdomain.errors import InvalidValue
from axdomain.membership import OperatorPrincipal

OPERATOR_TOKEN_PREFIX = "axo"
MAX_OPERATOR_NAME_LEN = 64


@attrs.frozen
class Operator:
    operator_id: int = attrs.field(
        validator=lambda _, a, v: require_range(a.name, v, 1, (1 << 64) - 1)
    )
    name: str = attrs.field(
        validator=lambda _, a, v: require_text(a.name, v, MAX_OPERATOR_NAME_LEN)
    )
    secret_hash: bytes
    created_at_ns: int
    revoked_at_ns: int | None = None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at_ns is not None

    def principal(self) -> OperatorPrincipal:
        return OperatorPrincipal(self.operator_id, self.name)


def mint_operator(
    *, operator_id: int, name: str, secret: bytes, pepper: bytes, now_ns: int
) -> tuple[Operator, str]:
    """The stored operator and the one-time token."""
    if len(secret) < MIN_SECRET_BYTES:
        raise InvalidValue("secret", f"<{len(secret)} bytes>", f"needs >= {MIN_SECRET_BYTES}")
    operator = Operator(operator_id, name, hash_secret(secret, pepper), now_ns)
    return operator, format_token(operator_id, secret, OPERATOR_TOKEN_PREFIX)
