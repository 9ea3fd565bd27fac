"""Stateful property: random exchange activity on the ledger twin keeps all twelve
invariants and ``resume(scan)`` equal to the live risk state after every step."""

from __future__ import annotations

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from axdomain.ledger.invariants import check_all_invariants
from axdomain.ledger.planners import delist_fence
from axdomain.ledger.port import CreateTransferResult, TransferError
from tests.ledger_support import DATED, PERP, World

CUSTOMERS = 4
customers = st.integers(0, CUSTOMERS - 1)
lots = st.integers(1, 50)
prices = st.integers(1, 5_000_000)
# Failures a well-planned batch may meet: an unaffordable leg on a customer USD account.
EXPECTED_FAILURES = {CreateTransferResult.EXCEEDS_CREDITS, CreateTransferResult.LINKED_EVENT_FAILED}


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = World.build(CUSTOMERS)
        for index in range(CUSTOMERS):
            assert self.world.deposit(index, 10**9) == []
        self.settled = False

    def _record(self, errors: list[TransferError], kind: str) -> None:
        assert {e.result for e in errors} <= EXPECTED_FAILURES, errors
        event(f"{kind} {'refused' if errors else 'committed'}")

    @rule(index=customers, amount=st.integers(1, 10**12))
    def deposit(self, index: int, amount: int) -> None:
        self._record(self.world.deposit(index, amount), "deposit")

    @rule(index=customers, amount=st.integers(1, 10**12))
    def withdraw(self, index: int, amount: int) -> None:
        before = self.world.state.usd(self.world.customers[index].account_id)
        errors = self.world.withdraw(index, amount)
        self._record(errors, "withdrawal")
        assert bool(errors) == (amount > before)

    @rule(
        buyer=customers,
        offset=st.integers(1, CUSTOMERS - 1),
        qty=lots,
        price=prices,
        dated=st.booleans(),
    )
    def fill(self, buyer: int, offset: int, qty: int, price: int, dated: bool) -> None:
        contract = DATED if dated and not self.settled else PERP
        held = self.world.state.position(self.world.customers[buyer].account_id, contract)
        if held.qty_lots < 0:
            event("buyer flips" if qty > -held.qty_lots else "buyer closes (part or all)")
        errors = self.world.fill(buyer, (buyer + offset) % CUSTOMERS, qty, price, contract)
        self._record(errors, f"fill {'dated' if contract == DATED else 'perp'}")

    @rule(mark=prices, rate_ppb=st.integers(-10_000_000, 10_000_000))
    def funding(self, mark: int, rate_ppb: int) -> None:
        self._record(self.world.funding(mark, rate_ppb), "funding")

    @precondition(lambda self: not self.settled and self.world.customer_holders(DATED))
    @rule(price=prices)
    def settle(self, price: int) -> None:
        errors = self.world.settle(price)
        self._record(errors, "settlement")
        if errors:
            return
        self.settled = True
        assert self.world.state.holders(DATED) == {}
        ledger, date = DATED.qty_ledger, DATED.date.value
        fence = delist_fence(
            DATED,
            qty_accounts=self.world.ledger.query_accounts(ledger, date),
            basis_accounts=self.world.ledger.query_accounts(ledger + 1, date),
            resting_orders=[],
        )
        assert fence.allowed, fence.blockers

    @invariant()
    def all_invariants_hold(self) -> None:
        assert check_all_invariants(self.world.inputs()) == []

    @invariant()
    def resume_equals_live_state(self) -> None:
        assert self.world.resumed() == self.world.state


LedgerMachine.TestCase.settings = settings(stateful_step_count=20, deadline=None)
TestLedgerStateMachine = LedgerMachine.TestCase
