"""One account's execution lane at one venue.

Each ``step`` re-reads the credential route (own credential, or the one share keyed by the
account and venue) through ``may_use_credential``, reads fills after the account's own
cursor (``{venue}:{label}``), asks the strategy for a decision and, only if the kill switch
is off and the route allows trading, submits it with the account-scoped client order id.
A step either finishes or raises; the supervisor owns retries.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from typing import Protocol

from axapp.lanes.events import LaneEventLog
from axapp.lanes.kill_switch import KillSwitches
from axapp.lanes.venue_client import (
    MAX_FILLS_PER_READ,
    Quote,
    VenueClient,
    VenueConnector,
    VenueOrderRequest,
)
from axapp.venue_config import AccountEntry
from axdomain.errors import DomainError
from axdomain.orders import Side
from axdomain.ports import Clock
from axdomain.venues.credentials import CredentialKey
from axdomain.venues.decision import CredentialDecision, may_use_credential
from axdomain.venues.idempotency import TradeDecision
from axdomain.venues.lanes import LaneEvent, LaneEventKind, cursor_source
from axdomain.venues.ports import CredentialVault, LaneStateStore
from axdomain.venues.secret_text import SecretText
from axdomain.venues.sharing import CredentialPurpose

MAX_REMEMBERED_DECISIONS = 10_000
DEFAULT_SYMBOL = "BTC-PERP"


class NoUsableCredential(DomainError):
    """The lane's account may not use any credential at its venue (it stays unhealthy)."""


class Strategy(Protocol):
    def decide(
        self, entry: AccountEntry, quote: Quote, positions: Mapping[str, int]
    ) -> TradeDecision | None: ...


class FlipFlopStrategy:
    """Buy one lot at the ask when flat or short, sell one at the bid when long.

    The signal id is the market-data sequence, which every account sees alike: the same
    signal on two accounts is two decisions (the hash includes the account), on one
    account a repeat is the same decision and is placed once.
    """

    def decide(
        self, entry: AccountEntry, quote: Quote, positions: Mapping[str, int]
    ) -> TradeDecision | None:
        long = positions.get(quote.symbol, 0) > 0
        return TradeDecision(
            account_id=entry.account_id,
            venue=entry.venue,
            symbol=quote.symbol,
            side=Side.SELL if long else Side.BUY,
            qty_lots=1,
            limit_price_micro_usd=quote.bid_micro_usd if long else quote.ask_micro_usd,
            signal_id=f"{quote.symbol}@{quote.seq}",
        )


class Lane:
    def __init__(
        self,
        entry: AccountEntry,
        *,
        vault: CredentialVault,
        state: LaneStateStore,
        connector: VenueConnector,
        kill_switches: KillSwitches,
        strategy: Strategy,
        events: LaneEventLog,
        clock: Clock,
        symbol: str = DEFAULT_SYMBOL,
    ) -> None:
        self.entry = entry
        self._vault = vault
        self._state = state
        self._connector = connector
        self._kill_switches = kill_switches
        self._strategy = strategy
        self._events = events
        self._clock = clock
        self._symbol = symbol
        self._session: VenueClient | None = None
        self._session_route: tuple[CredentialKey, frozenset[CredentialPurpose]] | None = None
        self._secrets: tuple[SecretText, ...] = ()
        self._placed: collections.OrderedDict[str, str] = collections.OrderedDict()
        self.orders_placed = 0
        self.cursor_source = cursor_source(entry.venue, entry.label)

    @property
    def label(self) -> str:
        return self.entry.label

    def known_secrets(self) -> tuple[SecretText, ...]:
        """The secrets this lane holds, for redacting foreign error texts."""
        return self._secrets

    def emit(self, kind: LaneEventKind, **detail: str) -> None:
        self._events.emit(
            LaneEvent(
                self.entry.account_id,
                self.entry.label,
                kind,
                self._clock.now_ns(),
                tuple(sorted(detail.items())),
            )
        )

    def decide_credential(self, purpose: CredentialPurpose) -> CredentialDecision:
        return self.decide_credentials()[purpose]

    def decide_credentials(self) -> dict[CredentialPurpose, CredentialDecision]:
        """At most three keyed reads, then the pure decision for every purpose."""
        account, venue = self.entry.account_id, self.entry.venue
        sub = self.entry.subaccount_index
        own = self._vault.get_ref(CredentialKey(account, venue, sub))
        share = None if own is not None else self._vault.get_share(account, venue)
        shared = (
            None
            if share is None
            else self._vault.get_ref(CredentialKey(share.shared_account, venue, sub))
        )
        return {
            purpose: may_use_credential(
                account, venue, purpose, own=own, share=share, shared=shared
            )
            for purpose in CredentialPurpose
        }

    def _open_session(self) -> tuple[VenueClient, dict[CredentialPurpose, CredentialDecision]]:
        decisions = self.decide_credentials()
        allowed = {p: d for p, d in decisions.items() if d.allowed}
        if not allowed:
            trade = decisions[CredentialPurpose.TRADE]
            raise NoUsableCredential("account_id", str(self.entry.account_id), trade.reason.value)
        keys = {d.credential for d in allowed.values()}
        key = keys.pop()
        if key is None or keys:
            raise DomainError("credential", str(self.entry.account_id), "ambiguous route")
        route = (key, frozenset(allowed))
        if self._session is None or self._session_route != route:
            credential = self._vault.get_credential(key)
            if credential is None:
                raise NoUsableCredential("credential", str(key), "vanished while connecting")
            self._secrets = credential.secrets()
            self._session = self._connector.connect(self.entry.venue, credential, route[1])
            self._session_route = route
        return self._session, decisions

    def step(self) -> None:
        session, decisions = self._open_session()
        if decisions[CredentialPurpose.READ].allowed:
            self._read_fills(session)
        positions: Mapping[str, int] = {}
        if decisions[CredentialPurpose.POSITIONS].allowed:
            positions = session.positions()
            net = positions.get(self._symbol, 0)
            self.emit(LaneEventKind.POSITIONS_READ, symbol=self._symbol, net_lots=str(net))
        quote = session.quote(self._symbol)
        decision = self._strategy.decide(self.entry, quote, positions)
        if decision is not None:
            self._place(session, decision, decisions[CredentialPurpose.TRADE])

    def _read_fills(self, session: VenueClient) -> None:
        stored = self._state.get_cursor(self.cursor_source)
        after = int(stored) if stored is not None else 0
        fills = session.fills_since(after, MAX_FILLS_PER_READ)
        for fill in fills:
            self.emit(
                LaneEventKind.FILL,
                client_order_id=fill.client_order_id,
                side=fill.side.value,
                qty_lots=str(fill.qty_lots),
                price_micro_usd=str(fill.price_micro_usd),
                fill_seq=str(fill.seq),
            )
        if fills:
            self._state.put_cursor(self.cursor_source, str(fills[-1].seq), self._clock.now_ns())

    def _place(
        self, session: VenueClient, decision: TradeDecision, trade: CredentialDecision
    ) -> None:
        if decision.account_id != self.entry.account_id:
            raise DomainError("account_id", str(decision.account_id), "decision for another lane")
        decision_hash = decision.decision_hash()
        client_order_id = decision.client_order_id(decision_hash)
        if self._kill_switches.is_engaged(self.entry.label):
            self.emit(LaneEventKind.ORDER_BLOCKED_KILL_SWITCH, client_order_id=client_order_id)
            return
        if not trade.allowed:
            level = trade.level.value if trade.level else "none"
            self.emit(
                LaneEventKind.ORDER_BLOCKED_CREDENTIAL,
                client_order_id=client_order_id,
                reason=trade.reason.value,
                level=level,
            )
            return
        if decision_hash in self._placed:
            self.emit(LaneEventKind.ORDER_DUPLICATE, client_order_id=client_order_id)
            return
        ack = session.submit(
            VenueOrderRequest(
                client_order_id,
                decision.symbol,
                decision.side,
                decision.qty_lots,
                decision.limit_price_micro_usd,
            )
        )
        self._remember(decision_hash, ack.venue_order_id)
        if ack.duplicate:
            self.emit(LaneEventKind.ORDER_DUPLICATE, client_order_id=client_order_id)
            return
        self.orders_placed += 1
        self.emit(
            LaneEventKind.ORDER_PLACED,
            client_order_id=client_order_id,
            venue_order_id=ack.venue_order_id,
            side=decision.side.value,
            decision_hash=decision_hash,
        )

    def _remember(self, decision_hash: str, venue_order_id: str) -> None:
        self._placed[decision_hash] = venue_order_id
        while len(self._placed) > MAX_REMEMBERED_DECISIONS:
            self._placed.popitem(last=False)
