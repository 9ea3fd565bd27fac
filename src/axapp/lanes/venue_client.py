"""The venue-client port a lane trades through, and the values crossing it.

A ``VenueConnector`` opens a ``VenueClient`` session with one decrypted credential and the
purposes the credential decision allowed; the session acts on the venue account that the
credential belongs to (for a shared credential: the holder's venue account).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import attrs

from axdomain.orders import Side
from axdomain.venues.credentials import VenueCredential
from axdomain.venues.names import VenueId
from axdomain.venues.sharing import CredentialPurpose

MAX_FILLS_PER_READ = 500


@attrs.frozen
class Quote:
    symbol: str
    bid_micro_usd: int
    ask_micro_usd: int
    seq: int  # market-data sequence: the same for every account that reads it


@attrs.frozen
class VenueOrderRequest:
    client_order_id: str
    symbol: str
    side: Side
    qty_lots: int
    limit_price_micro_usd: int


@attrs.frozen
class VenueAck:
    venue_order_id: str
    client_order_id: str
    duplicate: bool


@attrs.frozen
class VenueFill:
    seq: int  # per venue account, strictly increasing: the lane's cursor
    venue_order_id: str
    client_order_id: str
    symbol: str
    side: Side
    qty_lots: int
    price_micro_usd: int


class VenueClient(Protocol):
    def quote(self, symbol: str) -> Quote: ...

    def submit(self, order: VenueOrderRequest) -> VenueAck:
        """Idempotent on ``client_order_id`` within the session's venue account."""

    def fills_since(self, after_seq: int, limit: int) -> Sequence[VenueFill]:
        """Fills with ``seq > after_seq`` in order, at most ``limit``."""

    def positions(self) -> Mapping[str, int]:
        """Net lots per symbol."""


class VenueConnector(Protocol):
    @property
    def supports_live(self) -> bool:
        """False for simulated venues: a ``live`` account is refused a lane there."""

    def connect(
        self,
        venue: VenueId,
        credential: VenueCredential,
        purposes: frozenset[CredentialPurpose],
    ) -> VenueClient: ...
