"""An in-process venue: the embedded default behind the venue-client port.

Deterministic: quotes move only when ``advance()`` is called, marketable limit orders fill
whole at their limit price, everything else is rejected (IOC). Each venue account has API
secrets checked on connect (constant-time), its own fill sequence and positions, and an
injectable outage (``fail_next``) so failure isolation can be shown and tested. A session
refuses calls outside the purposes it was opened with: a read-only session cannot trade
even if a caller skipped the credential decision.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Mapping, Sequence

import attrs

from axapp.lanes.venue_client import (
    MAX_FILLS_PER_READ,
    Quote,
    VenueAck,
    VenueFill,
    VenueOrderRequest,
)
from axdomain.errors import DomainError, InvalidValue
from axdomain.orders import Side
from axdomain.venues.credentials import VenueCredential
from axdomain.venues.names import VenueId
from axdomain.venues.sharing import CredentialPurpose

FAKE_VENUE = VenueId("fake")
DEFAULT_SYMBOL = "BTC-PERP"
BASE_PRICE_MICRO_USD = 50_000_000_000
TICK_MICRO_USD = 5_000_000
SPREAD_MICRO_USD = 10_000_000
PRICE_CYCLE = 8
MAX_ORDERS_PER_ACCOUNT = 100_000


class VenueError(DomainError):
    """What the fake venue raises: auth failure, outage, refused call, rejected order."""


@attrs.define
class _VenueAccount:
    api_key: str
    api_secret: str
    orders: dict[str, VenueAck] = attrs.Factory(dict)
    fills: list[VenueFill] = attrs.Factory(list)
    positions: dict[str, int] = attrs.Factory(dict)
    failures_left: int = 0
    failure_message: str = ""


class FakeVenue:
    def __init__(self, venue: VenueId = FAKE_VENUE) -> None:
        self.venue = venue
        self._accounts: dict[str, _VenueAccount] = {}
        self._market_seq = 1
        self._lock = threading.Lock()

    @property
    def supports_live(self) -> bool:
        return False

    def provision(self, exchange_account_id: str, credential: VenueCredential) -> None:
        """Open a venue account whose API key pair is the credential's."""
        with self._lock:
            self._accounts[exchange_account_id] = _VenueAccount(
                credential.api_key.reveal(), credential.api_secret.reveal()
            )

    def fail_next(self, exchange_account_id: str, count: int, message: str) -> None:
        with self._lock:
            account = self._accounts[exchange_account_id]
            account.failures_left, account.failure_message = count, message

    def advance(self) -> None:
        """Move the market one step (the same for every account)."""
        with self._lock:
            self._market_seq += 1

    def quote(self, symbol: str) -> Quote:
        with self._lock:
            seq = self._market_seq
        mid = BASE_PRICE_MICRO_USD + (seq % PRICE_CYCLE) * TICK_MICRO_USD
        half = SPREAD_MICRO_USD // 2
        return Quote(symbol, mid - half, mid + half, seq)

    def connect(
        self,
        venue: VenueId,
        credential: VenueCredential,
        purposes: frozenset[CredentialPurpose],
    ) -> FakeVenueSession:
        if venue != self.venue:
            raise VenueError("venue", venue.name, f"this connector serves {self.venue}")
        exchange_id = credential.ref.exchange_account_id
        with self._lock:
            account = self._accounts.get(exchange_id or "")
            valid = account is not None and (
                hmac.compare_digest(account.api_key, credential.api_key.reveal())
                & hmac.compare_digest(account.api_secret, credential.api_secret.reveal())
            )
        if not valid:
            raise VenueError("exchange_account_id", exchange_id, "authentication failed")
        return FakeVenueSession(self, exchange_id or "", purposes)

    def _call(self, exchange_id: str) -> _VenueAccount:
        """The account for one call, raising the injected outage first (under the lock)."""
        account = self._accounts[exchange_id]
        if account.failures_left > 0:
            account.failures_left -= 1
            raise VenueError("venue", self.venue.name, account.failure_message)
        return account

    def _submit(self, exchange_id: str, order: VenueOrderRequest) -> VenueAck:
        quote = self.quote(order.symbol)
        with self._lock:
            account = self._call(exchange_id)
            known = account.orders.get(order.client_order_id)
            if known is not None:
                return attrs.evolve(known, duplicate=True)
            if len(account.orders) >= MAX_ORDERS_PER_ACCOUNT:
                raise VenueError("orders", len(account.orders), "venue account order limit")
            marketable = (
                order.limit_price_micro_usd >= quote.ask_micro_usd
                if order.side is Side.BUY
                else order.limit_price_micro_usd <= quote.bid_micro_usd
            )
            if not marketable:
                raise VenueError(
                    "limit_price_micro_usd", order.limit_price_micro_usd, "not marketable"
                )
            ack = VenueAck(f"{exchange_id}-{len(account.orders) + 1}", order.client_order_id, False)
            account.orders[order.client_order_id] = ack
            fill = VenueFill(
                seq=len(account.fills) + 1,
                venue_order_id=ack.venue_order_id,
                client_order_id=order.client_order_id,
                symbol=order.symbol,
                side=order.side,
                qty_lots=order.qty_lots,
                price_micro_usd=order.limit_price_micro_usd,
            )
            account.fills.append(fill)
            net = account.positions.get(order.symbol, 0) + order.side.sign * order.qty_lots
            account.positions[order.symbol] = net
            return ack

    def _fills_since(self, exchange_id: str, after_seq: int, limit: int) -> list[VenueFill]:
        with self._lock:
            fills = self._call(exchange_id).fills
            return fills[max(after_seq, 0) : max(after_seq, 0) + limit]

    def _positions(self, exchange_id: str) -> dict[str, int]:
        with self._lock:
            return dict(self._call(exchange_id).positions)

    def orders_of(self, exchange_account_id: str) -> list[VenueAck]:
        with self._lock:
            return list(self._accounts[exchange_account_id].orders.values())


class FakeVenueSession:
    """One lane's session: bound to a venue account and to the purposes it may use."""

    def __init__(
        self, venue: FakeVenue, exchange_id: str, purposes: frozenset[CredentialPurpose]
    ) -> None:
        self._venue = venue
        self._exchange_id = exchange_id
        self._purposes = purposes

    def _require(self, purpose: CredentialPurpose) -> None:
        if purpose not in self._purposes:
            raise VenueError("purpose", purpose.value, "this session was not opened for it")

    def quote(self, symbol: str) -> Quote:
        return self._venue.quote(symbol)

    def submit(self, order: VenueOrderRequest) -> VenueAck:
        self._require(CredentialPurpose.TRADE)
        return self._venue._submit(self._exchange_id, order)

    def fills_since(self, after_seq: int, limit: int) -> Sequence[VenueFill]:
        self._require(CredentialPurpose.READ)
        if not 1 <= limit <= MAX_FILLS_PER_READ:
            raise InvalidValue("limit", limit, f"must be in [1, {MAX_FILLS_PER_READ}]")
        return self._venue._fills_since(self._exchange_id, after_seq, limit)

    def positions(self) -> Mapping[str, int]:
        self._require(CredentialPurpose.POSITIONS)
        return self._venue._positions(self._exchange_id)
