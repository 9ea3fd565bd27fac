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
from axdomain.ledger.scan_codec import (
    LOW64_MASK,
    MIN_OWNED_ID,
    U128_MAX,
    UNDECODABLE,
    HalfDecoder,
    cyclic_gc_paused,
)
from axdomain.ledger.sequencing import SequenceStamp, accounts_touched, require_chain
from axdomain.ledger.values import LedgerAccount, Transfer, TransferFlags
from axdomain.ledger_ids import ACCOUNT_SHIFT

PositionKey = tuple[AccountId, ContractId]
IdNets = tuple[list[int], list[int]]  # ledger account ids and their nets, in scan order
K = TypeVar("K")
# ``IntFlag.__and__`` runs Python code (~1 µs); scans shift the raw int instead.
_LINKED_BIT = TransferFlags.LINKED.bit_length() - 1


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
        an unknown product must page someone, not be skipped. One pass over each scan on
        plain ints (``scan_codec``), with the cyclic collector paused; the typed keys are
        built once per distinct account and contract at the end.
        """
        with cyclic_gc_paused():
            columns = _nonzero_nets_by_kind(accounts)
            counts = _events_per_account(transfers)
            return cls._typed(columns, counts)

    @classmethod
    def _typed(
        cls, columns: list[tuple[list[int], list[int]]], counts: dict[int, int]
    ) -> RiskState:
        """The state with typed keys: one AccountId per account, one ContractId per contract."""
        account_ids: dict[int, AccountId] = {}
        contract_ids: dict[int, ContractId] = {}
        (usd_ids, usd_nets), (qty_ids, qty_nets), (basis_ids, basis_nets) = columns
        state = cls()
        usd_keys = [key[0] for key in _position_keys(usd_ids, 0, account_ids, contract_ids)]
        state.usd_net_micro_usd = _summed(usd_keys, usd_nets)
        state.qty_lots = _summed(_position_keys(qty_ids, 0, account_ids, contract_ids), qty_nets)
        state.basis_micro_usd = _summed(
            _position_keys(basis_ids, 1, account_ids, contract_ids), basis_nets
        )
        state.last_sequence = {
            account_ids.get(value) or AccountId(value): count for value, count in counts.items()
        }
        return state


def _position_keys(
    ids: list[int],
    basis_offset: int,
    account_ids: dict[int, AccountId],
    contract_ids: dict[int, ContractId],
) -> list[PositionKey]:
    """Typed (account, contract) of each id (``basis_offset`` 1 for basis ids), one AccountId
    per account and one ContractId per contract, shared by every key that names them."""
    keys = []
    last_owner = 0
    account = None
    for tb_id in ids:
        owner = tb_id >> ACCOUNT_SHIFT
        if owner != last_owner or account is None:  # a scan lists an account's rows together
            account = account_ids.get(owner)
            if account is None:
                account = account_ids[owner] = AccountId(owner)
            last_owner = owner
        contract_value = (tb_id - basis_offset) & LOW64_MASK
        contract = contract_ids.get(contract_value)
        if contract is None:
            contract = contract_ids[contract_value] = ContractId(contract_value)
        keys.append((account, contract))
    return keys


def _summed(keys: list[K], nets: list[int]) -> dict[K, int]:
    """Non-zero sum per key; one insert per key when keys are unique (a real scan)."""
    table = dict(zip(keys, nets, strict=True))
    if len(table) != len(keys):
        table = {}
        for key, net in zip(keys, nets, strict=True):
            _add(table, key, net)
    return table


def _nonzero_nets_by_kind(accounts: Iterable[LedgerAccount]) -> list[IdNets]:
    """(ids, nets) of the accounts with a non-zero net, per ``KIND_USD/QTY/BASIS``; zero nets
    are skipped without decoding, as the ledger may hold empty accounts of any shape."""
    decoder = HalfDecoder()
    known = decoder.known
    columns: list[IdNets] = [([], []), ([], []), ([], [])]
    for account in accounts:
        net = account.credits_posted - account.debits_posted
        if not net:
            continue
        tb_id = account.id
        kind = known.get(tb_id & LOW64_MASK) if MIN_OWNED_ID <= tb_id <= U128_MAX else None
        if kind is None:
            kind = decoder.kind_of(tb_id)
            if kind == UNDECODABLE:
                decode_ref(tb_id)  # raises the typed error of the reference decoder
                raise AssertionError(f"scan codec and decode_ref disagree on {tb_id:#x}")
        ids, nets = columns[kind]
        ids.append(tb_id)
        nets.append(net)
    return columns


def _events_per_account(transfers: Iterable[Transfer]) -> dict[int, int]:
    """Ledger events (linked chains) per account value; an open trailing chain is corrupt."""
    counts: dict[int, int] = {}
    chain_open = False
    touched: set[int] = set()  # accounts already counted for the open chain
    for transfer in transfers:
        debit = transfer.debit_account_id >> ACCOUNT_SHIFT
        credit = transfer.credit_account_id >> ACCOUNT_SHIFT
        linked = transfer.flags >> _LINKED_BIT & 1
        if not chain_open:  # first leg of a chain: both sides are new to it
            counts[debit] = counts.get(debit, 0) + 1
            if credit != debit:
                counts[credit] = counts.get(credit, 0) + 1
            if linked:
                touched = {debit, credit}
        else:
            for side in (debit, credit):
                if side not in touched:
                    touched.add(side)
                    counts[side] = counts.get(side, 0) + 1
        chain_open = bool(linked)
    if chain_open:
        raise InvalidValue("transfers", "scan", "ends inside an open linked chain")
    return counts
