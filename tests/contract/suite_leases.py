"""Contract suite for instrument leases: one owner per instrument, a token that grows on
every change of owner (never on a renewal), and a fence that refuses stale tokens."""

from __future__ import annotations

import pytest

from axdomain.contracts import ContractDate, ContractId, ProductId
from axdomain.errors import InvalidValue
from axdomain.leases import StaleLease
from axdomain.ports import InstrumentLeases

BTC = ContractId.new(ProductId(1001), ContractDate.perpetual())
ETH = ContractId.new(ProductId(1003), ContractDate.perpetual())
TTL_NS = 1_000_000_000
T0 = 1_700_000_000 * 10**9


class LeaseContract:
    def make_leases(self) -> InstrumentLeases:
        raise NotImplementedError

    def test_the_first_owner_gets_token_one_and_renews_it(self) -> None:
        leases = self.make_leases()
        first = leases.acquire(BTC, "a", T0, TTL_NS)
        assert first is not None
        assert (first.owner, first.token, first.expires_at_ns) == ("a", 1, T0 + TTL_NS)
        renewed = leases.acquire(BTC, "a", T0 + 10, TTL_NS)
        assert renewed is not None
        assert (renewed.token, renewed.expires_at_ns) == (1, T0 + 10 + TTL_NS)
        assert leases.current(BTC) == renewed
        assert leases.current(ETH) is None

    def test_a_live_lease_keeps_others_out_and_an_expired_one_passes_with_a_new_token(
        self,
    ) -> None:
        leases = self.make_leases()
        assert leases.acquire(BTC, "a", T0, TTL_NS) is not None
        assert leases.acquire(BTC, "b", T0 + TTL_NS - 1, TTL_NS) is None
        assert leases.acquire(ETH, "b", T0, TTL_NS) is not None  # per instrument
        taken = leases.acquire(BTC, "b", T0 + TTL_NS, TTL_NS)
        assert taken is not None
        assert (taken.owner, taken.token) == ("b", 2)
        back = leases.acquire(BTC, "a", T0 + 3 * TTL_NS, TTL_NS)
        assert back is not None
        assert (back.owner, back.token) == ("a", 3)

    def test_the_fence_passes_the_holder_only(self) -> None:
        leases = self.make_leases()
        lease = leases.acquire(BTC, "a", T0, TTL_NS)
        assert lease is not None
        leases.fence(BTC, "a", lease.token, T0 + 1)
        with pytest.raises(StaleLease):
            leases.fence(BTC, "a", lease.token, T0 + TTL_NS)  # expired
        with pytest.raises(StaleLease):
            leases.fence(BTC, "b", lease.token, T0 + 1)
        with pytest.raises(StaleLease):
            leases.fence(ETH, "a", lease.token, T0 + 1)
        assert leases.acquire(BTC, "b", T0 + TTL_NS, TTL_NS) is not None
        with pytest.raises(StaleLease):
            leases.fence(BTC, "a", lease.token, T0 + 1)  # the token itself is stale now

    def test_release_hands_over_at_once_but_only_from_the_holder(self) -> None:
        leases = self.make_leases()
        lease = leases.acquire(BTC, "a", T0, TTL_NS)
        assert lease is not None
        leases.release(BTC, "b", lease.token)
        assert leases.acquire(BTC, "b", T0 + 1, TTL_NS) is None
        leases.release(BTC, "a", lease.token)
        taken = leases.acquire(BTC, "b", T0 + 1, TTL_NS)
        assert taken is not None
        assert taken.token == 2

    def test_an_empty_owner_is_refused(self) -> None:
        with pytest.raises(InvalidValue, match="owner"):
            self.make_leases().acquire(BTC, "", T0, TTL_NS)
