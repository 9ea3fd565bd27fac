"""The trader view: one account at a time, named by every request (``account_id`` in the
query or the form), chosen in the header from the accounts WhoAmI lists. Each panel is the
READ use cases of that one account; placing and cancelling are the order use cases."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import attrs
from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from axapp.edge import resolve_account_id
from axapp.gateway import AccessDenied
from axapp.http.app import parse_id64, require_account
from axapp.http.stream import MAX_STREAMS, AccountWatch, Streams
from axapp.http.ui.guard import Console, Refusal, form_int, with_headers
from axapp.use_cases.identity import WhoAmI
from axdomain.accounts import Account
from axdomain.authorization import DenyReason
from axdomain.ids import AccountId
from axdomain.membership import OperatorPrincipal, Principal
from axdomain.orders import OrderStatus, Side, TimeInForce
from axdomain.paging import MAX_PAGE_SIZE
from axdomain.permissions import Permissions

if TYPE_CHECKING:
    from axapp.http.ui import Pages

ORDER_FIELDS = {
    "account_id",
    "symbol",
    "side",
    "qty_lots",
    "limit_price_micro_usd",
    "time_in_force",
    "client_order_id",
    "idempotency_key",
}


@attrs.frozen
class Panel:
    """What the page shows of the one selected account, all through READ."""

    account_id: str
    balances: dict[str, Any]
    risk: dict[str, Any]
    positions: list[dict[str, Any]]
    open_orders: list[dict[str, Any]]
    fills: list[dict[str, Any]]
    can_order: bool


@attrs.frozen
class TraderView:
    user_id: str
    accounts: tuple[tuple[Account, Permissions], ...]
    selected: Account
    panel: Panel
    symbols: tuple[str, ...]
    form_key: str

    @property
    def show_selector(self) -> bool:
        """Hidden when the only account listed is the user's default one (seed 000 §3.7)."""
        return len(self.accounts) > 1


def customer(principal: Principal) -> Principal:
    if isinstance(principal, OperatorPrincipal):
        raise AccessDenied(None, DenyReason.NOT_PERMITTED)
    return principal


def load_panel(console: Console, principal: Principal, account: AccountId) -> Panel:
    reads = console.app.reads
    who = console.app.identity.whoami(principal)
    permissions = next((p for a, p in who.accounts if a.account_id == account), Permissions.NONE)
    return Panel(
        account_id=str(account),
        balances=reads.balances(principal, account),
        risk=reads.risk(principal, account),
        positions=list(reads.positions(principal, account)["positions"]),
        open_orders=list(
            reads.orders(principal, account, status=OrderStatus.OPEN, limit=MAX_PAGE_SIZE).items
        ),
        fills=list(reads.fills(principal, account, limit=MAX_PAGE_SIZE).items),
        can_order=permissions.can_trade or permissions.can_reduce_or_close,
    )


def chosen_account(principal: Principal, who: WhoAmI) -> AccountId:
    """With no account named: the default one if listed, else the first listed (the page
    then redirects so that the address names it)."""
    if isinstance(principal, OperatorPrincipal):  # pragma: no cover (refused before)
        raise AccessDenied(None, DenyReason.NOT_PERMITTED)
    default = resolve_account_id(principal, None)
    listed = [a.account_id for a, _ in who.accounts]
    return default if default in listed or not listed else listed[0]


def trader_view(console: Console, request: Request, account_text: str | None) -> TraderView | str:
    app = console.app
    principal = customer(console.principal(request))
    who = app.identity.whoami(principal)
    if account_text is None:
        return f"/ui/trader?account_id={chosen_account(principal, who)}"
    account = require_account("account_id", account_text)
    panel = load_panel(console, principal, account)
    selected = next((a for a, _ in who.accounts if a.account_id == account), None)
    if selected is None:  # READ passed but LIST did not: shown without the selector entry
        raise AccessDenied(account, DenyReason.NO_GRANT)
    symbols = tuple(
        i.symbol for i in app.stores.products.list_instruments() if i.delisted_at_ns is None
    )
    return TraderView(
        user_id=who.user_id,
        accounts=who.accounts,
        selected=selected,
        panel=panel,
        symbols=symbols,
        form_key=f"ui-{secrets.token_hex(8)}",
    )


def add_routes(router: APIRouter, console: Console, pages: Pages) -> None:
    async def page(
        request: Request, account_text: str | None, status: int = 200, **extra: Any
    ) -> Response:
        view = await console.run(lambda: trader_view(console, request, account_text))
        if isinstance(view, Refusal):
            return pages.refused(request, view)
        if isinstance(view, str):
            return with_headers(RedirectResponse(view, status_code=303))
        return pages.render(request, "trader.html", status, view=view, **extra)

    @router.get("/trader")
    async def trader(request: Request, account_id: str | None = None) -> Response:
        return await page(request, account_id)

    @router.get("/trader/panel")
    async def panel(request: Request, account_id: str) -> Response:
        def work() -> Panel:
            principal = customer(console.principal(request))
            return load_panel(console, principal, require_account("account_id", account_id))

        found = await console.run(work)
        if isinstance(found, Refusal):
            return pages.refused(request, found)
        return pages.render(request, "_panel.html", panel=found)

    @router.post("/trader/orders")
    async def place(request: Request) -> Response:
        form = await console.checked_form(request, ORDER_FIELDS)
        if isinstance(form, Refusal):
            return pages.refused(request, form)

        def work() -> dict[str, Any]:
            principal = customer(console.principal(request))
            placed = console.app.orders.place(
                principal,
                account_id=require_account("account_id", form.get("account_id", "")),
                symbol=form.get("symbol", ""),
                side=Side(form["side"])
                if form.get("side") in ("buy", "sell")
                else form.get("side"),
                qty_lots=form_int(form, "qty_lots"),
                limit_price_micro_usd=form_int(form, "limit_price_micro_usd"),
                client_order_id=form.get("client_order_id", ""),
                time_in_force=TimeInForce(form["time_in_force"])
                if form.get("time_in_force") in ("gtc", "ioc")
                else form.get("time_in_force"),
                idempotency_key=form.get("idempotency_key", ""),
            )
            return placed.as_dict()

        outcome = await console.run(work)
        if isinstance(outcome, Refusal):
            return await page(request, form.get("account_id"), outcome.status, refusal=outcome)
        return await page(request, form.get("account_id"), placed=outcome)

    @router.post("/trader/cancel")
    async def cancel(request: Request) -> Response:
        form = await console.checked_form(request, {"account_id", "order_id"})
        if isinstance(form, Refusal):
            return pages.refused(request, form)

        def work() -> dict[str, Any]:
            principal = customer(console.principal(request))
            text = form.get("order_id", "")
            order_id = parse_id64("order_id", text) if _is_hex16(text) else text
            require_account("account_id", form.get("account_id", ""))
            # The order id alone selects the order (the use case decides on its account);
            # the form's account is the page to show afterwards.
            return console.app.orders.cancel(principal, order_id=order_id).as_dict()

        outcome = await console.run(work)
        if isinstance(outcome, Refusal):
            return await page(request, form.get("account_id"), outcome.status, refusal=outcome)
        return await page(request, form.get("account_id"), cancelled=outcome)

    @router.get("/trader/stream")
    async def stream(request: Request, account_id: str) -> Response:
        """The account stream of ``GET /v1/stream`` with the cookie's credential: the page
        refreshes its panel when an order, fill, position or balance event arrives."""
        streams: Streams = request.app.state.streams
        if streams.open >= MAX_STREAMS:
            return Response(b"too many open streams", status_code=503, media_type="text/plain")
        token = console.credential(request) or ""
        headers = [(k, v) for k, v in request.scope["headers"] if k != b"authorization"]
        scope = {
            **request.scope,
            "headers": [*headers, (b"authorization", b"Bearer " + token.encode())],
        }
        authed = Request(scope, request.receive)

        def opening() -> AccountWatch:
            principal = customer(console.principal(request))
            account = require_account("account_id", account_id)
            console.app.reads.balances(principal, account)
            return AccountWatch(account)

        watch = await console.run(opening)
        if isinstance(watch, Refusal):
            return Response(watch.code.encode(), status_code=watch.status, media_type="text/plain")
        streams.open += 1
        return StreamingResponse(
            streams.events(authed, watch),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )


def _is_hex16(text: str) -> bool:
    return len(text) == 16 and all(c in "0123456789abcdef" for c in text)
