"""``ax repair``: compare the stored projections with a replay of the ledger, per account,
and (without ``--check``) rewrite them from the ledger.

Start-up already catches projections up from their cursor; repair is for a store that
drifted some other way (a restored backup, a hand edit, a projection bug fixed later).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from axapp.stores import Stores
from axdomain.ids import AccountId
from axdomain.ledger.ownership import scan_own_ledger
from axdomain.ledger.port import LedgerPort
from axdomain.ledger.projection import ProjectedChain, ProjectionCursor, batches, catch_up


@attrs.frozen
class Drift:
    account_id: AccountId | None
    what: str
    detail: str

    def line(self) -> str:
        who = "cursor" if self.account_id is None else str(self.account_id)
        return f"{who}: {self.what}: {self.detail}"


Replay = tuple[list[ProjectedChain], ProjectionCursor, dict[AccountId, int]]


def _replay(stores: Stores, ledger: LedgerPort) -> Replay:
    """The projections a replay of this exchange's own ledger gives."""
    transfers = scan_own_ledger(
        ledger, products=stores.products.list_products(), accounts=stores.accounts.list_accounts()
    ).transfers
    state, chains = catch_up(transfers, ProjectionCursor())
    cursor = ProjectionCursor(len(transfers), transfers[-1].id if transfers else 0)
    return chains, cursor, dict(state.usd_net_micro_usd)


def projection_drift(stores: Stores, ledger: LedgerPort) -> list[Drift]:
    """Every difference between the stored projections and a replay of the ledger."""
    chains, cursor, usd = _replay(stores, ledger)
    found: list[Drift] = []
    stored_cursor = stores.projections.cursor()
    if stored_cursor != cursor:
        found.append(Drift(None, "cursor", f"stored {stored_cursor}, ledger {cursor}"))
    expected = {
        (s.account_id, s.sequence_number): s.first_transfer_id for c in chains for s in c.stamps
    }
    stored = {
        (s.account_id, s.sequence_number): s.first_transfer_id for s in stores.projections.stamps()
    }
    accounts = sorted({a for a, _ in expected} | {a for a, _ in stored})
    for account in accounts:
        want = {n: t for (a, n), t in expected.items() if a == account}
        have = {n: t for (a, n), t in stored.items() if a == account}
        if want != have:
            missing = sorted(set(want) - set(have))
            extra = sorted(set(have) - set(want))
            differ = sorted(n for n in set(want) & set(have) if want[n] != have[n])
            found.append(
                Drift(
                    account,
                    "sequence numbers",
                    f"missing {missing[:5]}, extra {extra[:5]}, different {differ[:5]}",
                )
            )
        want_positions = [p for c in chains for p in c.positions if p.account_id == account]
        if list(stores.projections.position_records(account)) != want_positions:
            found.append(Drift(account, "position records", "differ from the replay"))
        want_transactions = [t for c in chains for t in c.transactions if t.account_id == account]
        if list(stores.projections.transaction_records(account)) != want_transactions:
            found.append(Drift(account, "transaction records", "differ from the replay"))
    balances = stores.projections.balances()
    for account in sorted(set(balances) | {a for a, v in usd.items() if v}):
        if balances.get(account, 0) != usd.get(account, 0):
            found.append(
                Drift(
                    account,
                    "balance",
                    f"stored {balances.get(account)}, ledger {usd.get(account, 0)}",
                )
            )
    return found


def reproject(stores: Stores, ledger: LedgerPort) -> int:
    """Drop the projections and write them again from the ledger; returns chains written."""
    chains, _, _ = _replay(stores, ledger)
    stores.projections.reset()
    written = 0
    for chunk in batches(chains):
        written += len(chunk)
        projected = sum(len(c.transfers) for c in chains[:written])
        _write(stores, chunk, ProjectionCursor(projected, chunk[-1].transfers[-1].id))
    return written


def _write(stores: Stores, chunk: Sequence[ProjectedChain], cursor: ProjectionCursor) -> None:
    stores.projections.project(chunk, cursor)
