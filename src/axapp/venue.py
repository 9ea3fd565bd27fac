"""The embedded venue: a small price-time priority book per contract.

It only matches: it never authorizes, never touches money and never decides identity.
Matching is *planned* without side effects (``plan``); the exchange applies a match to the
book (``apply``) only after the ledger committed its fill, so the book and the order log
never disagree. A match is (resting maker order, incoming taker order, qty, maker's price).
"""

from __future__ import annotations

import attrs

from axdomain.contracts import ContractId
from axdomain.errors import InvalidValue
from axdomain.orders import Order, Side

MAX_RESTING_ORDERS_PER_CONTRACT = 100_000


@attrs.frozen
class Match:
    maker: Order
    taker: Order
    qty_lots: int
    price_micro_usd: int


class MatchingBook:
    def __init__(self) -> None:
        self._resting: dict[ContractId, dict[int, Order]] = {}
        self._remaining: dict[int, int] = {}

    def remaining(self, order_id: int) -> int:
        return self._remaining.get(order_id, 0)

    def is_resting(self, order_id: int) -> bool:
        return order_id in self._remaining

    def resting_ids(self) -> set[int]:
        return set(self._remaining)

    def rest(self, order: Order, remaining_lots: int) -> None:
        """Put an order (or its unfilled part) on the book."""
        book = self._resting.setdefault(order.contract, {})
        if len(book) >= MAX_RESTING_ORDERS_PER_CONTRACT:
            raise InvalidValue("contract", str(order.contract), "the book is full")
        if not 0 < remaining_lots <= order.qty_lots:
            raise InvalidValue("remaining_lots", remaining_lots, "must be in (0, qty]")
        book[order.order_id] = order
        self._remaining[order.order_id] = remaining_lots

    def cancel(self, order: Order) -> bool:
        self._resting.get(order.contract, {}).pop(order.order_id, None)
        return self._remaining.pop(order.order_id, None) is not None

    def clear(self, contract: ContractId) -> None:
        """Forget one contract's book (its owner changed: it is rebuilt from the log)."""
        for order_id in self._resting.pop(contract, {}):
            self._remaining.pop(order_id, None)

    def plan(self, taker: Order) -> list[Match]:
        """The matches ``taker`` would make against the opposite side; changes nothing."""
        if taker.order_id in self._remaining:
            raise InvalidValue("order_id", taker.order_id, "already on the book")
        left = taker.remaining_lots
        matches: list[Match] = []
        for maker in self._crossing(taker):
            if left == 0:
                break
            qty = min(left, self._remaining[maker.order_id])
            matches.append(Match(maker, taker, qty, maker.limit_price_micro_usd))
            left -= qty
        return matches

    def apply(self, match: Match) -> None:
        """A committed fill: the maker's remaining quantity shrinks (gone at zero)."""
        left = self._remaining[match.maker.order_id] - match.qty_lots
        if left < 0:
            raise InvalidValue("qty_lots", match.qty_lots, "more than the maker has left")
        if left == 0:
            self.cancel(match.maker)
        else:
            self._remaining[match.maker.order_id] = left

    def _crossing(self, taker: Order) -> list[Order]:
        opposite = [
            o for o in self._resting.get(taker.contract, {}).values() if o.side is not taker.side
        ]
        if taker.side is Side.BUY:
            crossing = [
                o for o in opposite if o.limit_price_micro_usd <= taker.limit_price_micro_usd
            ]
            return sorted(crossing, key=lambda o: (o.limit_price_micro_usd, o.created_at_ns))
        crossing = [o for o in opposite if o.limit_price_micro_usd >= taker.limit_price_micro_usd]
        return sorted(crossing, key=lambda o: (-o.limit_price_micro_usd, o.created_at_ns))
