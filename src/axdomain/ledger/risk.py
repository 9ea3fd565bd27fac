"""Risk state: positions, USD nets and last sequence numbers, as a fold over the ledger.

The live process folds every committed chain as it commits (``apply_chain``); a restarted
process rebuilds the same value from a ledger scan (``resume``). The two must be equal
field for field (attrs equality), which is the recovery test of SPEC §6. The state keeps
only non-zero entries, so "flat" and "never traded" are the same canonical value.

``resume`` takes balances from the ledger's own account sums (what TigerBeetle reports)
and sequence numbers from counting the committed chains per account: a fold bug in
``apply_chain`` therefore shows up as an inequality instead of being reproduced twice.

Two-phase withdrawals: a pending transfer moves no posted balance; it raises the debit
account's ``debits_pending`` (and custody's ``credits_pending``) until a post moves it into
the posted nets or a void releases it. The state keeps those pending sums per USD account
and every reservation still open (id -> account and amount), which is what free cash and
an operator's post or void need. The exchange writes reservations without a timeout, so
nothing expires behind the fold's back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

import attrs

from axdomain.contracts import ContractId
from axdomain.errors import InvalidValue
from axdomain.ids import AccountId
from axdomain.ledger.events import (
    LedgerEvent,
    Phase,
    decode_ref,
    decode_transfer,
    pending_delta,
    phase_of,
    split_chains,
)
from axdomain.ledger.port import TransferError
from axdomain.ledger.position import Position
from axdomain.ledger.scan_codec import (
    KIND_QTY,
    KIND_USD,
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
K = TypeVar("K")
# ``IntFlag.__and__`` runs Python code (~1 µs); scans shift the raw int instead.
_LINKED_BIT = TransferFlags.LINKED.bit_length() - 1
_PENDING_BIT = TransferFlags.PENDING.bit_length() - 1  # then post and void, the next two bits


def _add(table: dict[K, int], key: K, delta: int) -> None:
    value = table.get(key, 0) + delta
    if value:
        table[key] = value
    else:
        table.pop(key, None)


@attrs.frozen
class Reservation:
    """An open pending withdrawal: whose USD it holds and how much."""

    account_id: AccountId
    amount_micro_usd: int


@attrs.define
class RiskState:
    qty_lots: dict[PositionKey, int] = attrs.Factory(dict)
    basis_micro_usd: dict[PositionKey, int] = attrs.Factory(dict)
    usd_net_micro_usd: dict[AccountId, int] = attrs.Factory(dict)
    last_sequence: dict[AccountId, int] = attrs.Factory(dict)
    usd_debits_pending_micro_usd: dict[AccountId, int] = attrs.Factory(dict)
    usd_credits_pending_micro_usd: dict[AccountId, int] = attrs.Factory(dict)
    reservations: dict[int, Reservation] = attrs.Factory(dict)  # pending transfer id ->

    # ------------------------------------------------------------------ reads

    def position(self, account_id: AccountId, contract: ContractId) -> Position:
        key = (account_id, contract)
        return Position(self.qty_lots.get(key, 0), self.basis_micro_usd.get(key, 0))

    def usd(self, account_id: AccountId) -> int:
        """Posted USD net (credits posted minus debits posted)."""
        return self.usd_net_micro_usd.get(account_id, 0)

    def reserved(self, account_id: AccountId) -> int:
        """USD held by the account's pending withdrawals (its ``debits_pending``)."""
        return self.usd_debits_pending_micro_usd.get(account_id, 0)

    def available(self, account_id: AccountId) -> int:
        """What the ledger still lets the account debit: posted net minus reserved."""
        return self.usd(account_id) - self.reserved(account_id)

    def reservations_of(self, account_id: AccountId) -> dict[int, int]:
        """Open pending withdrawals of one account: transfer id -> amount, oldest first
        (the live fold and ``resume`` both insert in commit order)."""
        return {
            transfer_id: r.amount_micro_usd
            for transfer_id, r in self.reservations.items()
            if r.account_id == account_id
        }

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

    def _hold(self, transfer: Transfer, event: LedgerEvent) -> None:
        """Move the pending sums of a two-phase leg. Closing transfers (zero pending qty or
        basis legs) hold nothing and are not tracked."""
        if event.phase is Phase.PENDING:
            if not event.amount:
                return
            self.reservations[event.transfer_id] = Reservation(event.debit.account_id, event.amount)
            delta = pending_delta(transfer, 0)
        else:
            held = self.reservations.pop(event.pending_id)
            delta = pending_delta(transfer, held.amount_micro_usd)
        _add(self.usd_debits_pending_micro_usd, event.debit.account_id, delta)
        _add(self.usd_credits_pending_micro_usd, event.credit.account_id, delta)

    def _require_resolvable(self, chain: Sequence[Transfer], phases: Sequence[Phase]) -> None:
        """A post or void names a reservation that is open (before this chain or earlier in
        it), checked before anything is applied so a refusal leaves the state untouched."""
        opened = set(self.reservations)
        for transfer, phase in zip(chain, phases, strict=True):
            if phase is Phase.PENDING and transfer.amount:
                opened.add(transfer.id)
            elif phase in (Phase.POST, Phase.VOID):
                if transfer.pending_id not in opened:
                    raise InvalidValue("pending_id", transfer.pending_id, "no open reservation")
                opened.discard(transfer.pending_id)

    def apply_chain(self, chain: Sequence[Transfer]) -> tuple[SequenceStamp, ...]:
        """Fold one committed chain; returns the sequence stamps it earned.

        Every leg is decoded first (a typed error leaves the state untouched), then posted.
        """
        require_chain(chain)
        events = [decode_transfer(transfer) for transfer in chain]
        self._require_resolvable(chain, [event.phase for event in events])
        for transfer, event in zip(chain, events, strict=True):
            if event.phase is not Phase.SINGLE:
                self._hold(transfer, event)
            moved = event.posted_amount
            if moved:
                self._post(transfer.debit_account_id, -moved)
                self._post(transfer.credit_account_id, moved)
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
            columns = _TypedColumns.of(accounts)
            two_phase: list[Transfer] = []
            counts = _events_per_account(transfers, two_phase)
            state = cls()
            state.usd_net_micro_usd = _summed(columns.usd_keys, columns.usd_nets)
            state.qty_lots = _summed(columns.qty_keys, columns.qty_nets)
            state.basis_micro_usd = _summed(columns.basis_keys, columns.basis_nets)
            state.last_sequence = {
                columns.account_id(value): count for value, count in counts.items()
            }
            state.usd_debits_pending_micro_usd = _summed(
                columns.debits_pending_keys, columns.debits_pending
            )
            state.usd_credits_pending_micro_usd = _summed(
                columns.credits_pending_keys, columns.credits_pending
            )
            state.reservations = _open_reservations(two_phase, columns)
            return state


@attrs.define
class _TypedColumns:
    """Typed keys and nets of the accounts with a non-zero net, per kind, in scan order.

    Ids are decoded on plain ints (``scan_codec``); one AccountId per account and one
    ContractId per contract are shared by every key that names them. Zero nets are skipped
    without decoding, as the ledger may hold empty accounts of any shape.
    """

    usd_keys: list[AccountId] = attrs.Factory(list)
    usd_nets: list[int] = attrs.Factory(list)
    qty_keys: list[PositionKey] = attrs.Factory(list)
    qty_nets: list[int] = attrs.Factory(list)
    basis_keys: list[PositionKey] = attrs.Factory(list)
    basis_nets: list[int] = attrs.Factory(list)
    debits_pending_keys: list[AccountId] = attrs.Factory(list)  # USD accounts only
    debits_pending: list[int] = attrs.Factory(list)
    credits_pending_keys: list[AccountId] = attrs.Factory(list)
    credits_pending: list[int] = attrs.Factory(list)
    account_ids: dict[int, AccountId] = attrs.Factory(dict)
    contract_ids: dict[int, ContractId] = attrs.Factory(dict)

    def account_id(self, value: int) -> AccountId:
        found = self.account_ids.get(value)
        if found is None:
            found = self.account_ids[value] = AccountId(value)
        return found

    def contract_id(self, value: int) -> ContractId:
        found = self.contract_ids.get(value)
        if found is None:
            found = self.contract_ids[value] = ContractId(value)
        return found

    @classmethod
    def of(cls, accounts: Iterable[LedgerAccount]) -> _TypedColumns:
        columns = cls()
        decoder = HalfDecoder()
        known = decoder.known
        contracts = columns.contract_ids
        usd_keys, usd_nets = columns.usd_keys, columns.usd_nets
        qty_keys, qty_nets = columns.qty_keys, columns.qty_nets
        basis_keys, basis_nets = columns.basis_keys, columns.basis_nets
        last_owner = 0
        holder = None
        for account in accounts:
            net = account.credits_posted - account.debits_posted
            if not net and not (account.debits_pending or account.credits_pending):
                continue
            tb_id = account.id
            kind = known.get(tb_id & LOW64_MASK) if MIN_OWNED_ID <= tb_id <= U128_MAX else None
            if kind is None:
                kind = decoder.kind_of(tb_id)
                if kind == UNDECODABLE:
                    decode_ref(tb_id)  # raises the typed error of the reference decoder
                    raise AssertionError(f"scan codec and decode_ref disagree on {tb_id:#x}")
            owner = tb_id >> ACCOUNT_SHIFT
            if owner != last_owner or holder is None:  # a scan lists an account's rows together
                holder = columns.account_id(owner)
                last_owner = owner
            if kind != KIND_USD and not net:
                continue  # a pending amount on a position row is G1/G2's to report
            if kind == KIND_QTY:
                contract_value = tb_id & LOW64_MASK
                qty_keys.append(
                    (holder, contracts.get(contract_value) or columns.contract_id(contract_value))
                )
                qty_nets.append(net)
            elif kind == KIND_USD:
                if net:
                    usd_keys.append(holder)
                    usd_nets.append(net)
                if account.debits_pending:
                    columns.debits_pending_keys.append(holder)
                    columns.debits_pending.append(account.debits_pending)
                if account.credits_pending:
                    columns.credits_pending_keys.append(holder)
                    columns.credits_pending.append(account.credits_pending)
            else:  # basis: the low half is the contract + 1
                contract_value = (tb_id - 1) & LOW64_MASK
                basis_keys.append(
                    (holder, contracts.get(contract_value) or columns.contract_id(contract_value))
                )
                basis_nets.append(net)
        return columns


def _summed(keys: list[K], nets: list[int]) -> dict[K, int]:
    """Non-zero sum per key; one insert per key when keys are unique (a real scan)."""
    table = dict(zip(keys, nets, strict=True))
    if len(table) != len(keys):
        table = {}
        for key, net in zip(keys, nets, strict=True):
            _add(table, key, net)
    return table


def _events_per_account(transfers: Iterable[Transfer], two_phase: list[Transfer]) -> dict[int, int]:
    """Ledger events (linked chains) per account value; an open trailing chain is corrupt.
    Appends every pending, post and void transfer to ``two_phase`` on the way."""
    counts: dict[int, int] = {}
    chain_open = False
    touched: set[int] = set()  # accounts already counted for the open chain
    for transfer in transfers:
        debit = transfer.debit_account_id >> ACCOUNT_SHIFT
        credit = transfer.credit_account_id >> ACCOUNT_SHIFT
        flags = transfer.flags
        linked = flags >> _LINKED_BIT & 1
        if flags >> _PENDING_BIT & 7:  # pending, post or void
            two_phase.append(transfer)
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


def _open_reservations(two_phase: list[Transfer], columns: _TypedColumns) -> dict[int, Reservation]:
    """Pending withdrawals not yet posted or voided, from the two-phase transfers in commit
    order (closing transfers reserve nothing)."""
    open_: dict[int, Reservation] = {}
    for transfer in two_phase:
        if phase_of(transfer) is Phase.PENDING:
            if transfer.amount:
                owner = columns.account_id(transfer.debit_account_id >> ACCOUNT_SHIFT)
                open_[transfer.id] = Reservation(owner, transfer.amount)
        else:
            open_.pop(transfer.pending_id, None)
    return open_
