"""Risk state: positions, USD nets and last sequence numbers, as a fold over the ledger.

The live process folds every committed chain as it commits (``apply_chain``); a restarted
process rebuilds the same value from a ledger scan (``resume``). The two must be equal
field for field (attrs equality), which is the recovery test of SPEC §6. The state keeps
only non-zero entries, so "flat" and "never traded" are the same canonical value.

``resume`` takes balances from the ledger's own account sums (what TigerBeetle reports)
and sequence numbers from counting the committed chains per account: a fold bug in
``apply_chain`` therefore shows up as an inequality instead of being reproduced twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

import attrs

from axdomain.contracts import ContractId
from axdomain.errors import InvalidValue
from axdomain.ids import AccountId
from axdomain.ledger.events import decode_ref, decode_transfer, split_chains
from axdomain.ledger.port import TransferError
from axdomain.ledger.position import Position
from axdomain.ledger.sequencing import SequenceStamp, accounts_touched, require_chain
from axdomain.ledger.values import LedgerAccount, Transfer, TransferFlags

PositionKey = tuple[AccountId, ContractId]
K = TypeVar("K")


def _add(table: dict[K, int], key: K, delta: int) -> None:
    value = table.get(key, 0) + delta
    if value:
        table[key] = value
    else:
        table.pop(key, None)


@attrs.define
class RiskState:
    qty_lots: dict[PositionKey, int] = attrs.Factory(dict)
    basis_micro_usd: dict[PositionKey, int] = attrs.Factory(dict)
    usd_net_micro_usd: dict[AccountId, int] = attrs.Factory(dict)
    last_sequence: dict[AccountId, int] = attrs.Factory(dict)

    # ------------------------------------------------------------------ reads

    def position(self, account_id: AccountId, contract: ContractId) -> Position:
        key = (account_id, contract)
        return Position(self.qty_lots.get(key, 0), self.basis_micro_usd.get(key, 0))

    def usd(self, account_id: AccountId) -> int:
        return self.usd_net_micro_usd.get(account_id, 0)

    def holders(self, contract: ContractId) -> dict[AccountId, Position]:
        """Every account with a non-flat position in ``contract`` (system ones included).

        A linear scan: the reference favours one obviously-correct table over an index.
        """
        keys = {k for k in self.qty_lots if k[1] == contract}
        keys |= {k for k in self.basis_micro_usd if k[1] == contract}
        return {account: self.position(account, contract) for account, _ in sorted(keys)}

    # ----------------------------------------------------------------- writes

    def _post(self, tb_id: int, delta: int) -> None:
        ref = decode_ref(tb_id)
        if ref.contract.is_usd:
            _add(self.usd_net_micro_usd, ref.account_id, delta)
        elif ref.is_basis:
            _add(self.basis_micro_usd, (ref.account_id, ref.contract), delta)
        else:
            _add(self.qty_lots, (ref.account_id, ref.contract), delta)

    def apply_chain(self, chain: Sequence[Transfer]) -> tuple[SequenceStamp, ...]:
        """Fold one committed chain; returns the sequence stamps it earned.

        Every leg is decoded first (a typed error leaves the state untouched), then posted.
        """
        require_chain(chain)
        for transfer in chain:
            decode_transfer(transfer)
        for transfer in chain:
            self._post(transfer.debit_account_id, -transfer.amount)
            self._post(transfer.credit_account_id, transfer.amount)
        stamps = []
        for account in accounts_touched(chain):
            number = self.last_sequence.get(account, 0) + 1
            self.last_sequence[account] = number
            stamps.append(SequenceStamp(account, number, chain[0].id))
        return tuple(stamps)

    def apply_committed(
        self, batch: Sequence[Transfer], errors: Sequence[TransferError]
    ) -> tuple[SequenceStamp, ...]:
        """Fold the chains of a submitted batch that the ledger accepted (no error on any
        of their legs), in batch order; chains with a failure were not applied."""
        failed = {error.index for error in errors}
        stamps: list[SequenceStamp] = []
        start = 0
        for chain in split_chains(batch):
            indexes = range(start, start + len(chain))
            start += len(chain)
            if failed.isdisjoint(indexes):
                stamps += self.apply_chain(chain)
        return tuple(stamps)

    # ---------------------------------------------------------------- rebuild

    @classmethod
    def fold(cls, transfers: Iterable[Transfer]) -> RiskState:
        """The live state after applying every committed transfer in commit order."""
        state = cls()
        for chain in split_chains(list(transfers)):
            state.apply_chain(chain)
        return state

    @classmethod
    def resume(cls, accounts: Iterable[LedgerAccount], transfers: Iterable[Transfer]) -> RiskState:
        """Rebuild from a ledger scan: balances from the accounts, numbers from the chains.

        An account id that does not decode fails hard (``InvalidValue``): a ledger holding
        an unknown product must page someone, not be skipped.
        """
        state = cls()
        for account in accounts:
            net = account.credits_posted - account.debits_posted
            if net:
                state._post(account.id, net)
        counts: dict[int, int] = {}
        chain_open = False
        touched: set[int] = set()
        for transfer in transfers:
            if not chain_open:
                touched = set()
            for side in (transfer.debit_account_id >> 64, transfer.credit_account_id >> 64):
                if side not in touched:
                    touched.add(side)
                    counts[side] = counts.get(side, 0) + 1
            chain_open = bool(transfer.flags & TransferFlags.LINKED)
        if chain_open:
            raise InvalidValue("transfers", "scan", "ends inside an open linked chain")
        state.last_sequence = {AccountId(value): count for value, count in counts.items()}
        return state
