"""Instrument leases in memory: the same rules as the SQL adapter, for one process (tests,
the embedded default) where there is nobody to share the book with."""

from __future__ import annotations

import attrs

from axdomain.contracts import ContractId
from axdomain.leases import Lease, StaleLease, require_owner


class MemoryInstrumentLeases:
    def __init__(self) -> None:
        self._rows: dict[ContractId, Lease] = {}

    def acquire(self, contract: ContractId, owner: str, now_ns: int, ttl_ns: int) -> Lease | None:
        require_owner(owner)
        held = self._rows.get(contract)
        if held is None:
            lease = Lease(contract, owner, 1, now_ns + ttl_ns)
        elif held.owner == owner:
            lease = attrs.evolve(held, expires_at_ns=now_ns + ttl_ns)
        elif held.expires_at_ns <= now_ns:
            lease = Lease(contract, owner, held.token + 1, now_ns + ttl_ns)
        else:
            return None
        self._rows[contract] = lease
        return lease

    def current(self, contract: ContractId) -> Lease | None:
        return self._rows.get(contract)

    def fence(self, contract: ContractId, owner: str, token: int, now_ns: int) -> None:
        held = self._rows.get(contract)
        if held is None or held.token != token or not held.held_by(owner, now_ns):
            raise StaleLease(contract, token)

    def release(self, contract: ContractId, owner: str, token: int) -> None:
        held = self._rows.get(contract)
        if held is not None and held.owner == owner and held.token == token:
            self._rows[contract] = attrs.evolve(held, expires_at_ns=0)
