"""A stateful machine at the use-case level: deposits, orders that rest, fill or are refused
at fill time, cancels, withdrawals, transfers, freezes and close-only, and restarts of the
exchange over the same stores and ledger. After every step: all twelve invariants hold, the
projections equal a replay of the ledger, and the order log equals the book."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from axapp.bootstrap import assemble
from axapp.gateway import AccessDenied
from axapp.repair import projection_drift
from axdomain import DomainError, Permissions, Principal
from axdomain.ids import AccountId
from axdomain.orders import Side, TimeInForce
from tests.app_support import MICRO, PEPPER, World

USERS = 3


class ExchangeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.w = World.build()
        self.sessions: list[Principal] = []
        self.accounts: list[AccountId] = []
        for n in range(USERS):
            _, account, session = self.w.user(f"u{n}", 10_000 * MICRO)
            self.sessions.append(session)
            self.accounts.append(account.account_id)
        for owner in range(USERS):
            for other in range(USERS):
                if owner != other:
                    grantee = self.w.app.stores.accounts.get_account(self.accounts[other])
                    assert grantee is not None and grantee.ubo_user_id is not None
                    self.w.app.membership.grant(
                        self.sessions[owner],
                        self.accounts[owner],
                        grantee.ubo_user_id,
                        Permissions.READ_ONLY,
                    )
        self.n = 0

    def key(self) -> str:
        self.n += 1
        return f"m-{self.n}"

    @rule(u=st.integers(0, USERS - 1), amount=st.integers(1, 5_000))
    def deposit(self, u: int, amount: int) -> None:
        self.w.deposit(self.accounts[u], amount * MICRO)

    @rule(
        u=st.integers(0, USERS - 1),
        side=st.sampled_from(Side),
        qty=st.integers(1, 6),
        price=st.integers(95, 105),
        tif=st.sampled_from(TimeInForce),
    )
    def place(self, u: int, side: Side, qty: int, price: int, tif: TimeInForce) -> None:
        # refused at intake: nothing recorded (the invariants check it)
        with contextlib.suppress(AccessDenied, DomainError):
            self.w.place(self.sessions[u], side, qty, price * MICRO, tif=tif)

    @rule(u=st.integers(0, USERS - 1), pick=st.integers(0, 50))
    def cancel(self, u: int, pick: int) -> None:
        resting = self.w.app.stores.orders.resting_orders_for_account(self.accounts[u])
        if resting:
            order = resting[pick % len(resting)]
            with contextlib.suppress(AccessDenied, DomainError):
                self.w.app.orders.cancel(self.sessions[u], order_id=order.order_id)

    @rule(u=st.integers(0, USERS - 1), amount=st.integers(1, 3_000), to=st.integers(0, 2))
    def move_money(self, u: int, amount: int, to: int) -> None:
        with contextlib.suppress(AccessDenied, DomainError):
            if to == u:
                self.w.app.money.withdraw(
                    self.sessions[u], amount_micro_usd=amount * MICRO, idempotency_key=self.key()
                )
            else:
                self.w.app.money.transfer(
                    self.sessions[u],
                    from_account_id=self.accounts[u],
                    to_account_id=self.accounts[to],
                    amount_micro_usd=amount * MICRO,
                    idempotency_key=self.key(),
                )

    @rule(pick=st.integers(0, 50), post=st.booleans())
    def resolve_withdrawal(self, pick: int, post: bool) -> None:
        open_ = sorted(self.w.app.exchange.risk.reservations.items())
        if not open_:
            return
        withdrawal_id, held = open_[pick % len(open_)]
        resolve = self.w.app.money.post_withdrawal if post else self.w.app.money.void_withdrawal
        resolve(self.w.ops, held.account_id, withdrawal_id, self.key())
        assert withdrawal_id not in self.w.app.exchange.risk.reservations

    @rule(u=st.integers(0, USERS - 1), frozen=st.booleans(), close_only=st.booleans())
    def flags(self, u: int, frozen: bool, close_only: bool) -> None:
        self.w.app.operator.set_flags(
            self.w.ops, self.accounts[u], is_frozen=frozen, is_close_only=close_only
        )

    @rule()
    def restart(self) -> None:
        app = self.w.app
        self.w.app = assemble(app.stores, app.exchange.ledger, _sessions(self.w), PEPPER)

    @invariant()
    def ledger_stores_and_book_agree(self) -> None:
        exchange = self.w.app.exchange
        assert exchange.check_invariants() == []
        assert exchange.book_matches_log()
        assert projection_drift(self.w.app.stores, exchange.ledger) == []
        assert exchange.resume_matches_live()


def _sessions(world: World) -> object:
    return world.app.gateway._sessions  # the same session store survives the restart


ExchangeMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestExchangeMachine = ExchangeMachine.TestCase
