"""Account-scoped idempotency: the decision hash and the client order id derived from it.

The source design's bug was a decision hash without the account, so the same signal on two
accounts collapsed into one order (or was refused as a duplicate). Here the account is the
first field hashed and also the visible prefix of the client order id, so two accounts never
share a key and an operator can tell from an id alone whose order it is.
"""

from __future__ import annotations

import hashlib
import json

import attrs

from axdomain._checks import require_range, require_text
from axdomain.ids import AccountId
from axdomain.orders import MAX_CLIENT_ORDER_ID_LEN, Side
from axdomain.venues.names import VenueId

MAX_SYMBOL_LEN = 64
MAX_SIGNAL_ID_LEN = 128
MAX_QTY_LOTS = (1 << 63) - 1
HASH_VERSION = "ax.decision.v1"


@attrs.frozen
class TradeDecision:
    """What a lane decided to do at a venue, before it becomes an order."""

    account_id: AccountId
    venue: VenueId
    symbol: str = attrs.field(validator=lambda _, a, v: require_text(a.name, v, MAX_SYMBOL_LEN))
    side: Side
    qty_lots: int = attrs.field(validator=lambda _, a, v: require_range(a.name, v, 1, MAX_QTY_LOTS))
    limit_price_micro_usd: int = attrs.field(
        validator=lambda _, a, v: require_range(a.name, v, 1, MAX_QTY_LOTS)
    )
    signal_id: str = attrs.field(
        validator=lambda _, a, v: require_text(a.name, v, MAX_SIGNAL_ID_LEN)
    )

    def decision_hash(self) -> str:
        """SHA-256 (hex) of the canonical decision, account first."""
        document = [
            HASH_VERSION,
            str(self.account_id),
            self.venue.name,
            self.symbol,
            self.side.value,
            self.qty_lots,
            self.limit_price_micro_usd,
            self.signal_id,
        ]
        canonical = json.dumps(document, separators=(",", ":")).encode()
        return hashlib.sha256(canonical).hexdigest()

    def client_order_id(self, decision_hash: str | None = None) -> str:
        """``{account hex}-{hash prefix}``: 64 chars, the venue's idempotency key.

        ``decision_hash`` may be passed when the caller already computed it."""
        digest = self.decision_hash() if decision_hash is None else decision_hash
        prefix = f"{self.account_id}-"
        text = prefix + digest[: MAX_CLIENT_ORDER_ID_LEN - len(prefix)]
        if len(text) != MAX_CLIENT_ORDER_ID_LEN:
            raise ValueError(f"client order id length {len(text)}")
        return text
