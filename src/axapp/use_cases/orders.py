"""Orders: place, cancel and replace, each on the order's one account (SPEC §4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from axapp.edge import resolve_account_id
from axapp.exchange import PlacedOrder
from axapp.gateway import AccessDenied, Authorized
from axapp.use_cases import args
from axapp.use_cases.base import Context
from axapp.use_cases.views import FillView, OrderView, PlaceResult
from axdomain.authorization import DenyReason
from axdomain.errors import Conflict, InvalidValue, NotFound
from axdomain.idempotency import derived_order_id
from axdomain.intake import require_tradable
from axdomain.membership import OperatorPrincipal, Principal
from axdomain.orders import MAX_CLIENT_ORDER_ID_LEN, Order, OrderStatus, Side, TimeInForce
from axdomain.permissions import Action

T = TypeVar("T")


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
        limits), record, match; fills post to the ledger before the book moves."""
        idempotency_key = args.idempotency_key(idempotency_key)
        account = args.optional_account_id("account_id", account_id)
        symbol_text = args.text("symbol", symbol)
        order_side = args.enum_member("side", side, Side)
        qty = args.positive("qty_lots", qty_lots)
        price = args.positive("limit_price_micro_usd", limit_price_micro_usd)
        client_id = args.text("client_order_id", client_order_id, MAX_CLIENT_ORDER_ID_LEN)
        tif = args.enum_member("time_in_force", time_in_force, TimeInForce)
        if isinstance(principal, OperatorPrincipal):
            raise AccessDenied(account, _not_permitted())
        stores, exchange = self._c.stores, self._c.exchange
        instrument = require_tradable(
            stores.products.get_instrument(symbol_text), symbol_text, stores.clock.now_ns()
        )
        resolved = resolve_account_id(principal, account)
        reducing = exchange.classify(resolved, instrument.contract, order_side, qty)
        action = Action.REDUCE_OR_CLOSE if reducing else Action.TRADE
        body: dict[str, object] = {
            "symbol": symbol_text,
            "side": order_side.value,
            "qty_lots": qty,
            "limit_price_micro_usd": price,
            "client_order_id": client_id,
            "time_in_force": tif.value,
        }

        def compute(key: str, authorized: Authorized) -> PlaceResult:
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
            if not reducing:
                exchange.check_opening(authorized.account, instrument.contract, order)
            if stores.orders.get_order(order.order_id) is not None:
                raise Conflict("idempotency_key", key, "names an order placed earlier")
            stores.orders.add_order(order)
            return self._view(exchange.submit(order))

        def effect(authorized: Authorized) -> PlaceResult:
            return self._c.idempotent(
                resolved,
                idempotency_key,
                "place_order",
                body,
                lambda key: compute(key, authorized),
                PlaceResult.from_dict,
            )

        return self._c.gateway.run(principal, action, resolved, effect)

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
        """Cancel + a new order under the same client order id, atomically: if the new order
        is refused, the old one stays open."""
        order = self._find(principal, order_id, client_order_id, account_id)
        qty = args.positive("qty_lots", qty_lots)
        price = args.positive("limit_price_micro_usd", limit_price_micro_usd)

        def effect(authorized: Authorized) -> PlaceResult:
            current = self._c.stores.orders.get_order(order.order_id) or order
            if current.status is not OrderStatus.OPEN:
                raise Conflict("order_id", f"{order.order_id:016x}", f"is {current.status.value}")
            self._c.exchange.cancel(current, "replaced")
            return self.place(
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

        try:
            with self._c.stores.uow.transaction():
                return self._guarded(principal, order, effect)
        except BaseException:
            self._restore_book(order)
            raise

    def _restore_book(self, order: Order) -> None:
        """A rolled-back replace put the old order back in the log; the book follows."""
        current = self._c.stores.orders.get_order(order.order_id)
        book = self._c.exchange.book
        if (
            current is not None
            and current.status.is_resting
            and not book.is_resting(current.order_id)
        ):
            book.rest(current, current.remaining_lots)

    def _guarded(self, principal: Principal, order: Order, effect: Callable[[Authorized], T]) -> T:
        try:
            return self._c.gateway.run(principal, Action.REDUCE_OR_CLOSE, order.account_id, effect)
        except AccessDenied:
            raise OrderNotFound("order_id", f"{order.order_id:016x}", "no such order") from None


def _not_permitted() -> DenyReason:
    return DenyReason.NOT_PERMITTED
