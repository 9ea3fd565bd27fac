"""The embedded venue: a small price-time priority book per contract.

It only matches: it never authorizes, never touches money and never decides identity. A
match is (resting maker order, incoming taker order, qty, maker's price); the exchange turns
each match into one ledger fill.
"""

from __future__ import annotations

import attrs

from axdomain.contracts import ContractId
from axdomain.orders import Order, Side, TimeInForce

MAX_RESTING_ORDERS_PER_CONTRACT = 100_000


@attrs.frozen
class Match:
    maker: Order
    taker: Order
    qty_lots: int
    price_micro_usd: int


class MatchingBook:
    def __init__(self) -> None:
        self._resting: dict[ContractId, list[Order]] = {}
        self._remaining: dict[int, int] = {}

    def remaining(self, order_id: int) -> int:
        return self._remaining.get(order_id, 0)

    def cancel(self, order: Order) -> bool:
        book = self._resting.get(order.contract, [])
        kept = [o for o in book if o.order_id != order.order_id]
        self._resting[order.contract] = kept
        return self._remaining.pop(order.order_id, None) is not None

    def submit(self, taker: Order) -> list[Match]:
        """Match ``taker`` against the opposite side; a GTC remainder rests."""
        assert taker.order_id not in self._remaining, taker.order_id
        left = taker.qty_lots
        matches: list[Match] = []
        for maker in self._crossing(taker):
            if left == 0:
                break
            qty = min(left, self._remaining[maker.order_id])
            matches.append(Match(maker, taker, qty, maker.limit_price_micro_usd))
            left -= qty
            self._remaining[maker.order_id] -= qty
        book = self._resting.setdefault(taker.contract, [])
        book[:] = [o for o in book if self._remaining.get(o.order_id, 0) > 0]
        for gone in [i for i, q in self._remaining.items() if q == 0]:
            del self._remaining[gone]
        if left and taker.time_in_force is TimeInForce.GTC:
            assert len(book) < MAX_RESTING_ORDERS_PER_CONTRACT, "book is full"
            book.append(taker)
            self._remaining[taker.order_id] = left
        return matches

    def _crossing(self, taker: Order) -> list[Order]:
        opposite = [o for o in self._resting.get(taker.contract, []) if o.side is not taker.side]
        if taker.side is Side.BUY:
            crossing = [
                o for o in opposite if o.limit_price_micro_usd <= taker.limit_price_micro_usd
            ]
            return sorted(crossing, key=lambda o: (o.limit_price_micro_usd, o.created_at_ns))
        crossing = [o for o in opposite if o.limit_price_micro_usd >= taker.limit_price_micro_usd]
        return sorted(crossing, key=lambda o: (-o.limit_price_micro_usd, o.created_at_ns))
