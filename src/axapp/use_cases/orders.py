"""Orders: place, cancel and replace, each on the order's one account (SPEC §4)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

import attrs

from axapp.edge import resolve_account_id
from axapp.exchange import PlacedOrder
from axapp.gateway import AccessDenied, Authorized
from axapp.use_cases import args
from axapp.use_cases.base import Context
from axapp.use_cases.views import FillView, OrderView, PlaceResult
from axdomain.authorization import DenyReason
from axdomain.errors import Conflict, InvalidValue, NotFound
from axdomain.idempotency import (
    IdempotencyRecord,
    derived_order_id,
    request_fingerprint,
    require_same_request,
)
from axdomain.ids import AccountId
from axdomain.intake import require_tradable
from axdomain.membership import OperatorPrincipal, Principal
from axdomain.orders import MAX_CLIENT_ORDER_ID_LEN, Order, OrderStatus, Side, TimeInForce
from axdomain.permissions import Action

T = TypeVar("T")


@attrs.frozen
class _Intake:
    order: Order
    symbol: str
    key: str
    fingerprint: str

    @property
    def account_id(self) -> AccountId:
        return self.order.account_id

    @property
    def action(self) -> Action:
        return Action.REDUCE_OR_CLOSE if self.order.reduce_only else Action.TRADE


@attrs.frozen
class _Recorded:
    order: Order
    resumed: bool


class OrderNotFound(NotFound):
    """No such order, or one the caller may not touch: the two look exactly alike."""


class OrderUseCases:
    def __init__(self, context: Context) -> None:
        self._c = context

    def place(
        self,
        principal: Principal,
        *,
        account_id: object = None,
        symbol: object,
        side: object,
        qty_lots: object,
        limit_price_micro_usd: object,
        client_order_id: object,
        time_in_force: object = TimeInForce.GTC,
        idempotency_key: object,
    ) -> PlaceResult:
        """Intake (listed and live instrument, authorize TRADE or REDUCE_OR_CLOSE, margin and
        limits) and the order record commit with the audit record; then matching, fill by
        fill (each posted to the ledger before the book moves); then the idempotency record.
        A retry after a crash anywhere resumes the same order (its id derives from the key)."""
        intake = self._intake(
            principal,
            account_id=args.optional_account_id("account_id", account_id),
            symbol=symbol,
            side=side,
            qty_lots=qty_lots,
            limit_price_micro_usd=limit_price_micro_usd,
            client_order_id=client_order_id,
            time_in_force=time_in_force,
            idempotency_key=idempotency_key,
        )
        self._c.exchange.claim(intake.order.contract)  # this process holds the book, or 503
        outcome = self._c.gateway.run(
            principal, intake.action, intake.account_id, lambda a: self._record(intake, a)
        )
        return self._complete(intake, outcome)

    def _intake(
        self,
        principal: Principal,
        *,
        account_id: AccountId | None,
        symbol: object,
        side: object,
        qty_lots: object,
        limit_price_micro_usd: object,
        client_order_id: object,
        time_in_force: object,
        idempotency_key: object,
    ) -> _Intake:
        key = args.idempotency_key(idempotency_key)
        symbol_text = args.text("symbol", symbol)
        order_side = args.enum_member("side", side, Side)
        qty = args.positive("qty_lots", qty_lots)
        price = args.positive("limit_price_micro_usd", limit_price_micro_usd)
        client_id = args.text("client_order_id", client_order_id, MAX_CLIENT_ORDER_ID_LEN)
        tif = args.enum_member("time_in_force", time_in_force, TimeInForce)
        if isinstance(principal, OperatorPrincipal):
            raise AccessDenied(account_id, _not_permitted())
        stores = self._c.stores
        instrument = require_tradable(
            stores.products.get_instrument(symbol_text), symbol_text, stores.clock.now_ns()
        )
        resolved = resolve_account_id(principal, account_id)
        reducing = self._c.exchange.classify(resolved, instrument.contract, order_side, qty)
        order = Order(
            order_id=derived_order_id(resolved, key),
            account_id=resolved,
            user_id=principal.user_id,
            client_order_id=client_id,
            contract=instrument.contract,
            side=order_side,
            qty_lots=qty,
            limit_price_micro_usd=price,
            time_in_force=tif,
            created_at_ns=stores.clock.now_ns(),
            reduce_only=reducing,
        )
        body: dict[str, object] = {
            "symbol": symbol_text,
            "side": order_side.value,
            "qty_lots": qty,
            "limit_price_micro_usd": price,
            "client_order_id": client_id,
            "time_in_force": tif.value,
        }
        return _Intake(order, instrument.symbol, key, request_fingerprint("place_order", body))

    def _record(self, intake: _Intake, authorized: Authorized) -> PlaceResult | _Recorded:
        """Inside the decision's unit of work: a replay, a resumed order, or a new one."""
        stores, order = self._c.stores, intake.order
        existing = stores.idempotency.get(order.account_id, intake.key)
        if existing is not None:
            require_same_request(existing, "place_order", intake.fingerprint)
            return PlaceResult.from_dict(json.loads(existing.response_json))
        current = stores.orders.get_order(order.order_id)
        if current is not None:
            return _Recorded(current, resumed=True)
        # Placed at or after its audited decision: U4 reads the decision in force then.
        order = attrs.evolve(order, created_at_ns=stores.clock.now_ns())
        if not order.reduce_only:
            self._c.exchange.hold_account(order.account_id)  # other processes: one at a time
            self._c.exchange.check_opening(authorized.account, order.contract, order)
        stores.orders.add_order(order)
        return _Recorded(order, resumed=False)

    def _complete(self, intake: _Intake, outcome: PlaceResult | _Recorded) -> PlaceResult:
        """Match a new order (outside any unit of work: each fill is its own), then record
        the answer under the idempotency key."""
        if isinstance(outcome, PlaceResult):
            return outcome
        exchange, stores = self._c.exchange, self._c.stores
        if outcome.resumed:
            order = stores.orders.get_order(outcome.order.order_id) or outcome.order
            fills = stores.fills.fills_for_order(order.account_id, order.order_id)
            view = self._view(PlacedOrder(order, tuple(fills)))
        else:
            view = self._view(exchange.submit(outcome.order))
        record = IdempotencyRecord(
            account_id=intake.order.account_id,
            idempotency_key=intake.key,
            request_hash=intake.fingerprint,
            operation="place_order",
            response_json=json.dumps(view.as_dict(), sort_keys=True),
            created_at_ns=stores.clock.now_ns(),
        )
        try:
            with stores.uow.transaction():
                stores.idempotency.put(record)
        except Conflict:
            stored = stores.idempotency.get(intake.order.account_id, intake.key)
            if stored is None:
                raise
            return PlaceResult.from_dict(json.loads(stored.response_json))
        return view

    def _view(self, placed: PlacedOrder) -> PlaceResult:
        symbol = self._c.symbol_of(placed.order.contract)
        return PlaceResult(
            OrderView(placed.order, symbol), tuple(FillView(f, symbol) for f in placed.fills)
        )

    def _find(
        self, principal: Principal, order_id: object, client_order_id: object, account_id: object
    ) -> Order:
        if isinstance(principal, OperatorPrincipal):
            raise AccessDenied(None, _not_permitted())
        stores = self._c.stores
        if order_id is not None:
            if client_order_id is not None or account_id is not None:
                raise InvalidValue("order_id", order_id, "give order_id or client_order_id")
            number = args.positive("order_id", order_id, (1 << 64) - 1)
            order = stores.orders.get_order(number)
            shown: object = f"{number:016x}"
        else:
            client_id = args.text("client_order_id", client_order_id, MAX_CLIENT_ORDER_ID_LEN)
            account = resolve_account_id(
                principal, args.optional_account_id("account_id", account_id)
            )
            order = stores.orders.get_by_client_order_id(account, client_id)
            shown = client_id
        if order is None:
            raise OrderNotFound("order_id", shown, "no such order")
        return order

    def cancel(
        self,
        principal: Principal,
        *,
        order_id: object = None,
        client_order_id: object = None,
        account_id: object = None,
    ) -> OrderView:
        """TRADE or REDUCE_OR_CLOSE on the order's account; a forbidden cancel looks exactly
        like a cancel of an unknown order; an order no longer open is a ``Conflict``."""
        order = self._find(principal, order_id, client_order_id, account_id)

        def effect(authorized: Authorized) -> OrderView:
            self._c.exchange.claim(order.contract)  # after the decision: no oracle
            current = self._c.stores.orders.get_order(order.order_id) or order
            if current.status is not OrderStatus.OPEN:
                raise Conflict("order_id", f"{order.order_id:016x}", f"is {current.status.value}")
            cancelled = self._c.exchange.cancel(current, "cancelled by the client")
            return OrderView(cancelled, self._c.symbol_of(cancelled.contract))

        return self._guarded(principal, order, effect)

    def replace(
        self,
        principal: Principal,
        *,
        order_id: object = None,
        client_order_id: object = None,
        account_id: object = None,
        qty_lots: object,
        limit_price_micro_usd: object,
    ) -> PlaceResult:
        """Cancel + a new order under the same client order id, in one unit of work: if the
        new order is refused, the old one stays open (and on the book)."""
        order = self._find(principal, order_id, client_order_id, account_id)
        qty = args.positive("qty_lots", qty_lots)
        price = args.positive("limit_price_micro_usd", limit_price_micro_usd)

        def effect(authorized: Authorized) -> tuple[_Intake, PlaceResult | _Recorded]:
            self._c.exchange.claim(order.contract)
            current = self._c.stores.orders.get_order(order.order_id) or order
            if current.status is not OrderStatus.OPEN:
                raise Conflict("order_id", f"{order.order_id:016x}", f"is {current.status.value}")
            self._c.exchange.cancel(current, "replaced")
            intake = self._intake(
                principal,
                account_id=current.account_id,
                symbol=self._c.symbol_of(current.contract),
                side=current.side,
                qty_lots=qty,
                limit_price_micro_usd=price,
                client_order_id=current.client_order_id,
                time_in_force=current.time_in_force,
                idempotency_key=f"replace:{current.order_id:016x}",
            )
            recorded = self._c.gateway.run(
                principal, intake.action, intake.account_id, lambda a: self._record(intake, a)
            )
            return intake, recorded

        intake, outcome = self._guarded(principal, order, effect)
        return self._complete(intake, outcome)

    def _guarded(self, principal: Principal, order: Order, effect: Callable[[Authorized], T]) -> T:
        try:
            return self._c.gateway.run(principal, Action.REDUCE_OR_CLOSE, order.account_id, effect)
        except AccessDenied:
            raise OrderNotFound("order_id", f"{order.order_id:016x}", "no such order") from None


def _not_permitted() -> DenyReason:
    return DenyReason.NOT_PERMITTED
