"""A small exchange around the ledger twin, shared by the ledger unit and property tests.

It drives only the public planners, folds every committed chain into a live ``RiskState``,
stamps sequence numbers through a ``SequenceAllocator`` and can hand the whole picture to
``check_all_invariants``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import attrs

from axadapters.ledger_twin import LedgerTwin
from axadapters.memory.sequences import MemorySequences
from axdomain import SYSTEM_ACCOUNTS, AccountId, ContractDate, ContractId, ProductId, UserId
from axdomain.accounts import Account, AccountKind, FeeSchedule
from axdomain.ledger.events import split_chains
from axdomain.ledger.invariants import InvariantInputs
from axdomain.ledger.planners import (
    FillSide,
    plan_contract_system_accounts,
    plan_deposit,
    plan_fill,
    plan_funding,
    plan_internal_transfer,
    plan_position_accounts,
    plan_settlement,
    plan_system_usd_accounts,
    plan_usd_account,
    plan_withdrawal,
    split_batches,
)
from axdomain.ledger.port import TransferError
from axdomain.ledger.risk import RiskState
from axdomain.ledger.sequencing import SequenceStamp, stamp_chain
from axdomain.ledger.values import Transfer

PRODUCT = ProductId(1001)
PERP = ContractId.perp(PRODUCT)
DATED = ContractId.new(PRODUCT, ContractDate(20260130))
CONTRACTS = (PERP, DATED)


def system_accounts() -> list[Account]:
    return [
        Account(
            account_id=account_id,
            name=name,
            kind=AccountKind.SYSTEM,
            ubo_user_id=None,
            created_at_ns=0,
        )
        for name, account_id in SYSTEM_ACCOUNTS.by_name().items()
    ]


def customer(index: int, *, maker_bps: int = -1, taker_bps: int = 5) -> Account:
    value = 0x0190_0000_0000_0000 + index
    return Account(
        account_id=AccountId(value),
        name=f"customer-{index}",
        kind=AccountKind.CUSTOMER,
        ubo_user_id=UserId(value),
        created_at_ns=0,
        fees=FeeSchedule(maker_fee_bps=maker_bps, taker_fee_bps=taker_bps),
    )


@attrs.define
class World:
    customers: list[Account]
    contracts: tuple[ContractId, ...] = CONTRACTS
    ledger: LedgerTwin = attrs.Factory(LedgerTwin)
    state: RiskState = attrs.Factory(RiskState)
    sequences: MemorySequences = attrs.Factory(MemorySequences)
    stamps: list[SequenceStamp] = attrs.Factory(list)
    ids: itertools.count[int] = attrs.Factory(lambda: itertools.count(1))
    now_ns: int = 1_000

    @classmethod
    def build(cls, count: int = 3, ledger: LedgerTwin | None = None) -> World:
        world = cls([customer(i) for i in range(count)], ledger=ledger or LedgerTwin())
        assert world.ledger.create_accounts(plan_system_usd_accounts(system_accounts())) == []
        for contract in world.contracts:
            assert world.ledger.create_accounts(plan_contract_system_accounts(contract)) == []
        for account in world.customers:
            assert world.ledger.create_accounts(plan_usd_account(account)) == []
            for contract in world.contracts:
                batch = plan_position_accounts(account.account_id, contract)
                assert world.ledger.create_accounts(batch) == []
        return world

    def tick(self) -> int:
        self.now_ns += 1
        return self.now_ns

    def submit(self, batch: Sequence[Transfer]) -> list[TransferError]:
        """Commit a plan in batches of whole chains; fold and stamp each chain the ledger
        accepted. Errors are returned with their index in the whole plan."""
        all_errors: list[TransferError] = []
        offset = 0
        for part in split_batches(batch, self.ledger.batch_events_max) if batch else []:
            errors = self.ledger.create_transfers(part)
            live = self.state.apply_committed(part, errors)
            failed = {error.index for error in errors}
            start, issued = 0, []
            for chain in split_chains(part):
                if failed.isdisjoint(range(start, start + len(chain))):
                    issued += stamp_chain(chain, self.sequences)
                start += len(chain)
            assert tuple(issued) == live
            self.stamps += live
            all_errors += [TransferError(offset + e.index, e.result) for e in errors]
            offset += len(part)
        return all_errors

    def plan_deposit(self, index: int, amount: int) -> list[Transfer]:
        return plan_deposit(
            account=self.customers[index],
            amount_micro_usd=amount,
            timestamp_ns=self.tick(),
            transfer_ids=self.ids,
        )

    def deposit(self, index: int, amount: int) -> list[TransferError]:
        return self.submit(self.plan_deposit(index, amount))

    def withdraw(self, index: int, amount: int) -> list[TransferError]:
        return self.submit(
            plan_withdrawal(
                account=self.customers[index],
                amount_micro_usd=amount,
                timestamp_ns=self.tick(),
                transfer_ids=self.ids,
            )
        )

    def transfer(self, source: int, destination: int, amount: int) -> list[TransferError]:
        return self.submit(
            plan_internal_transfer(
                source=self.customers[source],
                destination=self.customers[destination],
                amount_micro_usd=amount,
                timestamp_ns=self.tick(),
                transfer_ids=self.ids,
            )
        )

    def side(self, index: int, contract: ContractId, *, maker: bool) -> FillSide:
        account = self.customers[index]
        return FillSide(account, contract, self.state.position(account.account_id, contract), maker)

    def plan_fill(
        self, buyer: int, seller: int, qty: int, price: int, contract: ContractId = PERP
    ) -> list[Transfer]:
        return plan_fill(
            buy=self.side(buyer, contract, maker=True),
            sell=self.side(seller, contract, maker=False),
            qty_lots=qty,
            price_micro_usd=price,
            timestamp_ns=self.tick(),
            transfer_ids=self.ids,
        )

    def fill(
        self, buyer: int, seller: int, qty: int, price: int, contract: ContractId = PERP
    ) -> list[TransferError]:
        return self.submit(self.plan_fill(buyer, seller, qty, price, contract))

    def customer_holders(self, contract: ContractId) -> dict[AccountId, object]:
        return {a: p for a, p in self.state.holders(contract).items() if not a.is_reserved}

    def funding(self, mark: int, rate_ppb: int) -> list[TransferError]:
        holders = self.state.holders(PERP)
        batch = plan_funding(
            contract=PERP,
            positions={a: p.qty_lots for a, p in holders.items() if not a.is_reserved},
            mark_price_micro_usd=mark,
            funding_rate_ppb=rate_ppb,
            timestamp_ns=self.tick(),
            transfer_ids=self.ids,
        )
        return self.submit(batch) if batch else []

    def settle(self, price: int, contract: ContractId = DATED) -> list[TransferError]:
        holders = self.state.holders(contract)
        batch = plan_settlement(
            contract=contract,
            settlement_price_micro_usd=price,
            positions={a: p for a, p in holders.items() if not a.is_reserved},
            timestamp_ns=self.tick(),
            transfer_ids=self.ids,
        )
        return self.submit(batch) if batch else []

    def inputs(self) -> InvariantInputs:
        return InvariantInputs(
            ledger_accounts=self.ledger.scan_accounts(),
            transfers=self.ledger.scan_transfers(),
            accounts=[*system_accounts(), *self.customers],
            sequence_stamps=list(self.stamps),
        )

    def resumed(self) -> RiskState:
        return RiskState.resume(self.ledger.scan_accounts(), self.ledger.scan_transfers())
