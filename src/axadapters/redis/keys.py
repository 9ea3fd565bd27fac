"""Redis key and channel names, in one place so writers, readers and the rekey agree.

Money keys (``risk:*``) are account-keyed and carry the account as a Redis Cluster hash tag,
``risk:{<account_id>}`` and ``risk:{<account_id>}:<symbol>``: every key of one account hashes
to one slot, so the account is the unit the cluster distributes and any operation over one
account's keys stays on one node. Identity keys (``session:*``) stay user- and token-keyed
without braces, so each is hashed whole (its own tag); no operation spans two of them
atomically (see ``stores``). Today's untagged ``risk:<id>`` keys are still parsed: the rekey
moves them to the tagged shape.

An optional namespace prefixes every key and the channel, so tests and tenants sharing one
server never see each other's data; it excludes glob characters and braces, so a ``SCAN
MATCH`` on it matches literally and the first ``{`` of a key is always the tag's.
"""

from __future__ import annotations

import re

import attrs

from axdomain.cache import RISK_SNAPSHOT_CHANNEL, validate_symbol, validate_token_hash
from axdomain.errors import InvalidValue
from axdomain.ids import AccountId, UserId

MAX_NAMESPACE_LEN = 64
_NAMESPACE = re.compile(r"[A-Za-z0-9_.:-]{0,64}")
_HEX16 = re.compile(r"[0-9a-f]{16}")
RISK_PREFIX = "risk:"


def validate_namespace(namespace: object) -> str:
    if not isinstance(namespace, str) or _NAMESPACE.fullmatch(namespace) is None:
        raise InvalidValue("namespace", namespace, "must be 0..64 of [A-Za-z0-9_.:-]")
    return namespace


@attrs.frozen
class RiskKeyParts:
    """A parsed ``risk:`` key. ``id_text`` is unparsed on purpose: a legacy key holds a
    user id and a current one an account id, in the same 16-hex text."""

    id_text: str
    symbol: str | None
    tagged: bool = True


@attrs.frozen
class RedisKeys:
    namespace: str = attrs.field(default="", validator=lambda _, __, v: validate_namespace(v))

    def risk_account(self, account_id: AccountId) -> str:
        return f"{self.namespace}{RISK_PREFIX}{{{account_id}}}"

    def risk_symbol(self, account_id: AccountId, symbol: str) -> str:
        return f"{self.risk_account(account_id)}:{validate_symbol('symbol', symbol)}"

    def risk(self, account_id: AccountId, symbol: str | None) -> str:
        if symbol is None:
            return self.risk_account(account_id)
        return self.risk_symbol(account_id, symbol)

    def risk_match(self) -> str:
        """The SCAN pattern of every risk key in this namespace."""
        return f"{self.namespace}{RISK_PREFIX}*"

    def session_token(self, token_hash: str) -> str:
        return f"{self.namespace}session:token:{validate_token_hash('token_hash', token_hash)}"

    def session_user(self, user_id: UserId) -> str:
        return f"{self.namespace}session:user:{user_id}"

    def channel(self) -> str:
        return f"{self.namespace}{RISK_SNAPSHOT_CHANNEL}"

    def parse_risk_key(self, key: str) -> RiskKeyParts:
        """Split ``<ns>risk:{<16 hex>}[:<symbol>]``, or today's untagged
        ``<ns>risk:<16 hex>[:<symbol>]``; anything else is ``InvalidValue``."""
        prefix = f"{self.namespace}{RISK_PREFIX}"
        if not key.startswith(prefix):
            raise InvalidValue("key", key, f"does not start with {prefix!r}")
        rest = key[len(prefix) :]
        tagged = rest.startswith("{")
        if tagged:
            id_text, closed, rest = rest[1:].partition("}")
            if not closed or (rest and not rest.startswith(":")):
                raise InvalidValue("key", key, "hash tag must be {<16 hex>} then :<symbol>")
            sep, symbol = rest[:1], rest[1:]
        else:
            id_text, sep, symbol = rest.partition(":")
        if _HEX16.fullmatch(id_text) is None:
            raise InvalidValue("key", key, "id part must be 16 lower-case hex digits")
        if not sep:
            return RiskKeyParts(id_text, None, tagged)
        try:
            return RiskKeyParts(id_text, validate_symbol("symbol", symbol), tagged)
        except InvalidValue:
            raise InvalidValue("key", key, "symbol part is not a valid symbol") from None
