"""Per-account sequence numbers and the position / transaction records they key.

A *ledger event* is one committed linked chain (a fill, a deposit, a funding interval, a
settlement): the unit the ledger applies atomically. Every account the chain touches on
either side of any leg gets that account's next number, 1, 2, 3, ... with no gaps, per
account and never per symbol (seed 000 §2c.2: the old per-user number becomes per
account). ``(account_id, sequence_number)`` is therefore the unique key of every emitted
``PositionRecord`` and ``TransactionRecord``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from axdomain.contracts import ContractId
from axdomain.errors import Conflict, InvalidValue
from axdomain.ids import AccountId
from axdomain.ledger.events import decode_transfer
from axdomain.ledger.position import Position
from axdomain.ledger.values import Transfer, TransferCode, TransferFlags
from axdomain.ports import SequenceAllocator


@attrs.frozen
class SequenceStamp:
    """Account ``account_id``'s ``sequence_number``-th ledger event is the chain whose first
    transfer is ``first_transfer_id``."""

    account_id: AccountId
    sequence_number: int
    first_transfer_id: int


def require_chain(chain: Sequence[Transfer]) -> None:
    """A ledger event is exactly one linked chain: LINKED on all legs but the last."""
    if not chain:
        raise InvalidValue("chain", 0, "a ledger event has at least one transfer")
    for index, transfer in enumerate(chain):
        linked = bool(transfer.flags & TransferFlags.LINKED)
        if linked != (index < len(chain) - 1):
            raise InvalidValue("flags", transfer.id, f"leg {index} breaks the linked chain")


def accounts_touched(chain: Sequence[Transfer]) -> tuple[AccountId, ...]:
    """Every account on either side of any leg, in order of first appearance."""
    seen: dict[int, None] = {}
    for transfer in chain:
        seen.setdefault(transfer.debit_account_id >> 64, None)
        seen.setdefault(transfer.credit_account_id >> 64, None)
    return tuple(AccountId(value) for value in seen)


def stamp_chain(
    chain: Sequence[Transfer], allocator: SequenceAllocator
) -> tuple[SequenceStamp, ...]:
    """Draw each touched account's next number from the durable allocator."""
    require_chain(chain)
    return tuple(
        SequenceStamp(account, allocator.allocate(account, 1), chain[0].id)
        for account in accounts_touched(chain)
    )


@attrs.frozen
class PositionRecord:
    """The position of ``account_id`` in ``contract`` right after one ledger event."""

    account_id: AccountId
    sequence_number: int
    contract: ContractId
    qty_lots: int
    basis_micro_usd: int
    timestamp_ns: int

    @property
    def key(self) -> tuple[AccountId, int]:
        return (self.account_id, self.sequence_number)


@attrs.frozen
class TransactionRecord:
    """The USD movement of ``account_id`` in one ledger event, split by transfer code."""

    account_id: AccountId
    sequence_number: int
    amounts_micro_usd: tuple[tuple[TransferCode, int], ...]  # signed, per code, code order
    transfer_ids: tuple[int, ...]
    timestamp_ns: int

    @property
    def key(self) -> tuple[AccountId, int]:
        return (self.account_id, self.sequence_number)

    @property
    def total_micro_usd(self) -> int:
        return sum(amount for _, amount in self.amounts_micro_usd)


def records_for_chain(
    chain: Sequence[Transfer],
    stamps: Sequence[SequenceStamp],
    position_after: Callable[[AccountId, ContractId], Position],
) -> tuple[list[PositionRecord], list[TransactionRecord]]:
    """Records of one committed chain, given its stamps and the state after applying it.

    One position record per account whose qty/basis moved, one transaction record per
    account whose USD moved. A chain that touches one account on two contracts would need
    two position rows under one key, so it is refused (rolls need their own design).
    """
    require_chain(chain)
    numbers = {stamp.account_id: stamp.sequence_number for stamp in stamps}
    contracts: dict[AccountId, ContractId] = {}
    usd: dict[AccountId, dict[TransferCode, int]] = {}
    usd_ids: dict[AccountId, list[int]] = {}
    for transfer in chain:
        event = decode_transfer(transfer)
        moved = event.posted_amount  # a reservation or a void moves no posted balance
        for ref, signed in ((event.debit, -moved), (event.credit, moved)):
            if ref.contract.is_usd:
                per_code = usd.setdefault(ref.account_id, {})
                per_code[event.kind] = per_code.get(event.kind, 0) + signed
                usd_ids.setdefault(ref.account_id, []).append(transfer.id)
            elif contracts.setdefault(ref.account_id, ref.contract) != ref.contract:
                raise Conflict("chain", chain[0].id, f"{ref.account_id} on two contracts")
    at_ns = chain[0].user_data_64
    positions = []
    for account, contract in contracts.items():
        after = position_after(account, contract)
        positions.append(
            PositionRecord(
                account, numbers[account], contract, after.qty_lots, after.basis_micro_usd, at_ns
            )
        )
    transactions = [
        TransactionRecord(
            account,
            numbers[account],
            tuple(sorted(per_code.items())),
            tuple(usd_ids[account]),
            at_ns,
        )
        for account, per_code in usd.items()
    ]
    return positions, transactions
