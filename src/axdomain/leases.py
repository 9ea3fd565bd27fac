"""Instrument leases: which ``ax serve`` process owns the matching book of an instrument.

The book is the one piece of state kept in process memory (matching is sequential per
instrument), so several processes on the same stores must never hold a book for the same
instrument at once. A lease row says who does, until when, under which fencing token.
The token grows by one each time the lease changes owner, never on a renewal: every write
the owner makes for the instrument carries its token, and a write whose token is no longer
the lease's is refused, so a process that lost its lease (paused, partitioned, presumed
dead) cannot write over its successor's book.
"""

from __future__ import annotations

import attrs

from axdomain.contracts import ContractId
from axdomain.errors import InvalidValue, Unavailable

MIN_LEASE_TTL_MS = 100
MAX_LEASE_TTL_MS = 600_000
MAX_OWNER_LEN = 64


@attrs.frozen
class Lease:
    contract: ContractId
    owner: str
    token: int  # fencing token: 1 for the first owner, +1 on every change of owner
    expires_at_ns: int

    def held_by(self, owner: str, now_ns: int) -> bool:
        return self.owner == owner and now_ns < self.expires_at_ns


def require_lease_ttl_ms(ttl_ms: int, field: str = "lease_ttl_ms") -> int:
    if isinstance(ttl_ms, bool) or not MIN_LEASE_TTL_MS <= ttl_ms <= MAX_LEASE_TTL_MS:
        raise InvalidValue(field, ttl_ms, f"must be in [{MIN_LEASE_TTL_MS}, {MAX_LEASE_TTL_MS}]")
    return ttl_ms


def require_owner(owner: str) -> str:
    if not owner or len(owner) > MAX_OWNER_LEN or not owner.isprintable():
        raise InvalidValue("owner", owner, f"1 to {MAX_OWNER_LEN} printable characters")
    return owner


class InstrumentBusy(Unavailable):
    """Another process owns this instrument's book now: retry after ``retry_after_s``
    (against any process: the owner answers, or the lease has expired and the process
    asked takes it over)."""

    def __init__(self, contract: ContractId, retry_after_s: int) -> None:
        super().__init__(
            "matching book", f"instrument {contract.value} is owned by another process"
        )
        self.contract = contract
        self.retry_after_s = retry_after_s


class StaleLease(Unavailable):
    """A write fenced by a token that is no longer the lease's: this process lost the
    instrument (its lease expired and another took it) and must not write for it."""

    def __init__(self, contract: ContractId, token: int) -> None:
        super().__init__("matching book", f"lease token {token} of {contract.value} is stale")
        self.contract = contract
        self.token = token
