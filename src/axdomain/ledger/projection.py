"""Projections of the committed ledger: what every other store holds about money.

The ledger is the truth. Sequence numbers, position and transaction records and balances
are a pure function of the ledger's committed transfers *in commit order*: folding chain
after chain (``RiskState.apply_chain``) gives each touched account its next number and the
records keyed ``(account_id, sequence_number)``. A store of these projections carries a
cursor (how many committed transfers it has projected, and the last one's id) and is written
idempotently, so a crash between the ledger commit and the projection write is repaired by
projecting ``scan[cursor:]`` at start — never by refusing to start.

**The one rule**: a sequence number is never drawn from a counter; it is the position of the
chain among the chains that touch the account, in the ledger's commit order. The durable rows
are written from that fold, keyed by ``(account_id, sequence_number)``, together with the
cursor in one transaction — so after any crash they are a prefix of the replay, and catching
up from the cursor makes them equal to it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs

from axdomain.errors import InvalidValue
from axdomain.ids import AccountId
from axdomain.ledger.events import split_chains
from axdomain.ledger.risk import RiskState
from axdomain.ledger.sequencing import (
    PositionRecord,
    SequenceStamp,
    TransactionRecord,
    accounts_touched,
    records_for_chain,
)
from axdomain.ledger.values import Transfer

MAX_CHAINS_PER_PROJECTION_BATCH = 1_000


@attrs.frozen
class ProjectionCursor:
    """``transfers_projected`` committed transfers (in commit order) are in the store; the
    last of them had id ``last_transfer_id`` (0 when none)."""

    transfers_projected: int = 0
    last_transfer_id: int = 0


@attrs.frozen
class ProjectedChain:
    """Everything one committed chain projects to."""

    transfers: tuple[Transfer, ...]
    stamps: tuple[SequenceStamp, ...]
    positions: tuple[PositionRecord, ...]
    transactions: tuple[TransactionRecord, ...]
    usd_after: tuple[tuple[AccountId, int], ...]  # USD net of each touched account after it


def project_chain(state: RiskState, chain: Sequence[Transfer]) -> ProjectedChain:
    """Fold one committed chain into ``state`` and return what it projects to."""
    stamps = state.apply_chain(chain)
    positions, transactions = records_for_chain(chain, stamps, state.position)
    usd_after = tuple((a, state.usd(a)) for a in accounts_touched(chain))
    return ProjectedChain(tuple(chain), stamps, tuple(positions), tuple(transactions), usd_after)


def catch_up(
    transfers: Sequence[Transfer], cursor: ProjectionCursor
) -> tuple[RiskState, list[ProjectedChain]]:
    """Replay the whole ledger; return the live state and the chains past ``cursor``.

    Refuses a cursor that does not sit on a chain boundary of this ledger or whose last id
    disagrees: the store then belongs to another ledger and must be repaired, not patched.
    """
    if cursor.transfers_projected > len(transfers):
        raise InvalidValue("projection_cursor", cursor.transfers_projected, "ahead of the ledger")
    if cursor.transfers_projected:
        last = transfers[cursor.transfers_projected - 1].id
        if last != cursor.last_transfer_id:
            raise InvalidValue("projection_cursor", cursor.last_transfer_id, f"ledger has {last}")
    state = RiskState()
    pending: list[ProjectedChain] = []
    seen = 0
    for chain in split_chains(list(transfers)):
        projected = project_chain(state, chain)
        seen += len(chain)
        if seen > cursor.transfers_projected:
            if seen - len(chain) < cursor.transfers_projected:
                raise InvalidValue("projection_cursor", cursor.transfers_projected, "mid-chain")
            pending.append(projected)
    return state, pending


def batches(chains: Sequence[ProjectedChain]) -> Iterator[Sequence[ProjectedChain]]:
    """Bounded write batches (one transaction each) for a long catch-up."""
    for start in range(0, len(chains), MAX_CHAINS_PER_PROJECTION_BATCH):
        yield chains[start : start + MAX_CHAINS_PER_PROJECTION_BATCH]


@attrs.frozen
class PendingFill:
    """A fill about to be posted: written durably first, so a restart can tell whether the
    ledger took it (its transfers exist) and finish or forget it."""

    taker_order_id: int
    fill_key: int  # the taker's filled lots before this fill: unique per taker fill
    maker_order_id: int
    qty_lots: int
    price_micro_usd: int
    first_transfer_id: int
