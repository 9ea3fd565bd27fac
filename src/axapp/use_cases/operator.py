"""Operator use cases: what exchange staff do where no customer grant reaches. Each is
decided and audited through the gateway like any customer request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from axapp.gateway import SESSION_TOKEN_PREFIX, Authorized, session_token_hash
from axapp.use_cases import args
from axapp.use_cases.base import Context
from axapp.use_cases.identity import open_customer_account
from axapp.use_cases.views import MoneyMoved
from axdomain.accounts import Account, AccountKind
from axdomain.audit import AuditRecord
from axdomain.cache import Session
from axdomain.contracts import ContractDate, ProductId
from axdomain.errors import InvalidValue
from axdomain.idempotency import derived_transfer_ids
from axdomain.ids import SYSTEM_ACCOUNTS, UserId
from axdomain.ledger.invariants import INVARIANT_CODES
from axdomain.ledger.planners import DelistFence
from axdomain.membership import Principal, User
from axdomain.permissions import Action
from axdomain.products import Instrument, Product

SESSION_TTL_NS = 24 * 3600 * 10**9
SESSION_SECRET_BYTES = 32
MAX_RATE_PPB = 10**9


class OperatorUseCases:
    def __init__(self, context: Context, create_session: Callable[[Session], None]) -> None:
        self._c = context
        self._create_session = create_session

    def onboard_user(self, operator: Principal, username: object) -> tuple[User, Account]:
        """User + default account (UBO, FULL_ACCESS) + ledger USD account, in one call."""
        name = args.text("username", username)
        stores = self._c.stores

        def effect() -> tuple[User, Account]:
            user = User(
                UserId(stores.ids.new_id()),
                name,
                stores.clock.now_ns(),
            )
            stores.users.add_user(user)
            account = Account(
                account_id=user.user_id.as_default_account_id(),
                name=f"{name}-default",
                kind=AccountKind.CUSTOMER,
                ubo_user_id=user.user_id,
                created_at_ns=stores.clock.now_ns(),
            )
            open_customer_account(self._c, account)
            return user, account

        return self._c.gateway.run_operator(operator, Action.ONBOARD, effect)

    def issue_session(self, operator: Principal, user_id: object) -> str:
        """A session token for a user (stands in for the login service; shown once)."""
        target = args.user_id("user_id", user_id)
        stores = self._c.stores

        def effect() -> str:
            if stores.users.get_user(target) is None:
                raise InvalidValue("user_id", str(target), "no such user")
            token = SESSION_TOKEN_PREFIX + stores.secrets.token_bytes(SESSION_SECRET_BYTES).hex()
            expires = stores.clock.now_ns() + SESSION_TTL_NS
            self._create_session(Session(session_token_hash(token), target, expires))
            return token

        return self._c.gateway.run_operator(operator, Action.ISSUE_SESSION, effect)

    def set_flags(
        self, operator: Principal, account_id: object, *, is_frozen: object, is_close_only: object
    ) -> Account:
        """Freeze / close-only are account facts; freezing cancels the resting orders."""
        account = args.account_id("account_id", account_id)
        for field, value in (("is_frozen", is_frozen), ("is_close_only", is_close_only)):
            if not isinstance(value, bool):
                raise InvalidValue(field, value, "must be a bool")

        def effect(authorized: Authorized) -> Account:
            if not authorized.account.is_customer:
                raise InvalidValue("account_id", str(account), "not a customer account")
            return self._c.exchange.set_flags(
                authorized.account, frozen=bool(is_frozen), close_only=bool(is_close_only)
            )

        return self._c.gateway.run(operator, Action.SET_FLAGS, account, effect)

    def list_product(self, operator: Principal, name: object) -> Product:
        product_name = args.text("name", name)
        return self._c.gateway.run_operator(
            operator, Action.LIST_PRODUCT, lambda: self._c.exchange.list_product(product_name)
        )

    def list_instrument(
        self,
        operator: Principal,
        *,
        symbol: object,
        product_id: object,
        contract_date: object,
        expiration_ns: object = None,
    ) -> Instrument:
        symbol_text = args.text("symbol", symbol)
        product = ProductId(args.positive("product_id", product_id, (1 << 32) - 1))
        date = ContractDate(args.non_negative("contract_date", contract_date, 99_991_231))
        expiry = args.optional_time_ns("expiration_ns", expiration_ns)

        def effect() -> Instrument:
            if self._c.stores.products.get_product(product) is None:
                raise InvalidValue("product_id", product.value, "no such product")
            return self._c.exchange.list_instrument(symbol_text, product, date, expiry)

        return self._c.gateway.run_operator(operator, Action.LIST_PRODUCT, effect)

    def _instrument(self, symbol: object) -> Instrument:
        symbol_text = args.text("symbol", symbol)
        instrument = self._c.stores.products.get_instrument(symbol_text)
        if instrument is None:
            raise InvalidValue("symbol", symbol_text, "no such instrument")
        return instrument

    def funding(
        self,
        operator: Principal,
        symbol: object,
        *,
        mark_price_micro_usd: object,
        rate_ppb: object,
        idempotency_key: object,
    ) -> MoneyMoved:
        """One funding interval for every holder of the contract (keys scoped to AX_FUNDING)."""
        idempotency_key = args.idempotency_key(idempotency_key)
        instrument = self._instrument(symbol)
        mark = args.positive("mark_price_micro_usd", mark_price_micro_usd)
        rate = args.signed("rate_ppb", rate_ppb, MAX_RATE_PPB)
        body = {"symbol": instrument.symbol, "mark_price_micro_usd": mark, "rate_ppb": rate}
        scope = SYSTEM_ACCOUNTS.AX_FUNDING

        def compute(key: str) -> MoneyMoved:
            ids = derived_transfer_ids(scope, key)
            done = self._c.exchange.fund(instrument.contract, mark, rate, ids)
            return MoneyMoved(tuple(done.transfer_ids), sum(t.amount for t in done.transfers))

        return self._c.gateway.run(
            operator,
            Action.FUNDING,
            scope,
            lambda _: self._c.idempotent(
                scope, idempotency_key, "funding", body, compute, MoneyMoved.from_dict
            ),
        )

    def settlement(
        self,
        operator: Principal,
        symbol: object,
        *,
        price_micro_usd: object,
        idempotency_key: object,
    ) -> MoneyMoved:
        """Expiry settlement at one price: every position flattened against AX_SETTLEMENT."""
        idempotency_key = args.idempotency_key(idempotency_key)
        instrument = self._instrument(symbol)
        if instrument.is_perp:
            raise InvalidValue("symbol", instrument.symbol, "a perpetual does not expire")
        price = args.positive("price_micro_usd", price_micro_usd)
        scope = SYSTEM_ACCOUNTS.AX_SETTLEMENT
        body = {"symbol": instrument.symbol, "price_micro_usd": price}

        def compute(key: str) -> MoneyMoved:
            ids = derived_transfer_ids(scope, key)
            done = self._c.exchange.settle_expiry(instrument.contract, price, ids)
            return MoneyMoved(tuple(done.transfer_ids), sum(t.amount for t in done.transfers))

        return self._c.gateway.run(
            operator,
            Action.SETTLEMENT,
            scope,
            lambda _: self._c.idempotent(
                scope, idempotency_key, "settlement", body, compute, MoneyMoved.from_dict
            ),
        )

    def delist_fence(self, operator: Principal, symbol: object) -> DelistFence:
        instrument = self._instrument(symbol)
        return self._c.gateway.run_operator(
            operator, Action.DELIST, lambda: self._c.exchange.delist_fence(instrument.contract)
        )

    def delist(self, operator: Principal, symbol: object) -> Instrument:
        """Only when every qty and basis account of the contract is zero and nothing rests."""
        instrument = self._instrument(symbol)
        scope = SYSTEM_ACCOUNTS.AX_SETTLEMENT
        ids = derived_transfer_ids(scope, f"delist:{instrument.symbol}")
        return self._c.gateway.run_operator(
            operator, Action.DELIST, lambda: self._c.exchange.delist(instrument, ids)
        )

    def audit_trail(self, operator: Principal, account_id: object) -> list[AuditRecord]:
        account = args.account_id("account_id", account_id)
        return self._c.gateway.run(
            operator,
            Action.READ_AUDIT,
            account,
            lambda a: list(self._c.stores.audit.records_for_account(a.account.account_id)),
        )

    def invariants(self, operator: Principal) -> dict[str, Any]:
        """The twelve invariants over the ledger and the stores; empty violations = healthy."""

        def effect() -> dict[str, Any]:
            violations = self._c.exchange.check_invariants()
            counts = dict.fromkeys(INVARIANT_CODES, 0)
            for v in violations:
                counts[v.code] += 1
            return {
                "violations": [
                    {"code": v.code, "subject": v.subject, "detail": v.detail} for v in violations
                ],
                "counts": counts,
            }

        return self._c.gateway.run_operator(operator, Action.READ_AUDIT, effect)
