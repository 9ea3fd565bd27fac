"""An application on memory stores and the in-memory ledger twin, with a settable clock,
shared by the use-case tests (unit, matrix, properties)."""

from __future__ import annotations

import itertools

import attrs

from axadapters.ledger_twin import LedgerTwin
from axadapters.memory.cache import MemorySessionStore
from axapp.bootstrap import assemble, create_operator
from axapp.stores import memory_stores
from axapp.use_cases import Application
from axdomain import Account, AccountId, Permissions, Principal, User
from axdomain.orders import Side, TimeInForce

MICRO = 1_000_000
PERP = "COMPUTEDESK-H100-PERP"
PEPPER = b"p" * 32
START_NS = 1_800_000_000_000_000_000


class ManualClock:
    def __init__(self, now_ns: int = START_NS) -> None:
        self.now = now_ns

    def now_ns(self) -> int:
        self.now += 1_000
        return self.now

    def advance(self, delta_ns: int) -> None:
        self.now += delta_ns


@attrs.define
class World:
    app: Application
    clock: ManualClock
    ops: Principal
    keys: itertools.count[int] = attrs.Factory(lambda: itertools.count(1))

    @classmethod
    def build(cls) -> World:
        clock = ManualClock()
        stores = memory_stores(clock)
        app = assemble(stores, LedgerTwin(), MemorySessionStore(clock), PEPPER)
        ops = app.gateway.authenticate(create_operator(stores, "ops", PEPPER))
        return cls(app, clock, ops)

    def key(self) -> str:
        return f"k-{next(self.keys)}"

    def user(self, name: str, deposit_micro_usd: int = 0) -> tuple[User, Account, Principal]:
        user, account = self.app.operator.onboard_user(self.ops, name)
        session = self.app.gateway.authenticate(
            self.app.operator.issue_session(self.ops, user.user_id)
        )
        if deposit_micro_usd:
            self.deposit(account.account_id, deposit_micro_usd)
        return user, account, session

    def deposit(self, account_id: AccountId, amount_micro_usd: int) -> None:
        self.app.money.deposit(self.ops, account_id, amount_micro_usd, self.key())

    def place(
        self,
        principal: Principal,
        side: Side,
        qty_lots: int,
        price_micro_usd: int,
        *,
        account_id: AccountId | None = None,
        symbol: str = PERP,
        tif: TimeInForce = TimeInForce.GTC,
        client_order_id: str | None = None,
    ) -> object:
        key = self.key()
        return self.app.orders.place(
            principal,
            account_id=account_id,
            symbol=symbol,
            side=side,
            qty_lots=qty_lots,
            limit_price_micro_usd=price_micro_usd,
            client_order_id=client_order_id or key,
            time_in_force=tif,
            idempotency_key=key,
        )

    def mint(
        self,
        session: Principal,
        account_id: AccountId,
        scope: Permissions,
        *,
        client_address: str | None = None,
        expires_at_ns: int | None = None,
        allowed_cidrs: list[str] | None = None,
    ) -> tuple[int, str]:
        key, token = self.app.membership.mint_key(
            session,
            account_id=account_id,
            scope=scope,
            expires_at_ns=expires_at_ns,
            allowed_cidrs=allowed_cidrs,
        )
        return key.key_id, token
