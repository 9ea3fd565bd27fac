"""``GET /v1/stream?account_id=``: server-sent events of one account.

Opening is the READ use case on that account (decided and audited like any read; a refusal
is the same problem answer as ``GET /v1/balances``). Then, every ``poll_ms``, the worker
re-checks the credential (a revoked or expired key or session ends the stream) and the
caller's READ on the account (a revoked grant, a narrowed scope ends it) before it looks
for news: new orders and order changes, new fills, changed positions and balances. Those
re-checks are not audited (one record per poll would drown the trail); the opening is.

Bounds: one account per connection; at most ``MAX_STREAMS`` open at once; at most
``MAX_EVENTS_PER_POLL`` events per poll, each sent before the next poll starts (the
client's pace is the queue: a slow reader delays the polls, it never grows a buffer);
at most ``MAX_TRACKED_ORDERS`` open orders followed for changes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any

import attrs
from fastapi import Depends, FastAPI, Query, Request
from starlette.responses import Response, StreamingResponse

from axapp.edge import resolve_account_id
from axapp.gateway import AccessDenied
from axapp.http import models as m
from axapp.http.problems import classify, problem
from axapp.use_cases.views import FillView, OrderView
from axdomain.authorization import DenyReason, authorize
from axdomain.contracts import ContractId
from axdomain.errors import DomainError
from axdomain.ids import AccountId
from axdomain.membership import OperatorPrincipal, Principal
from axdomain.permissions import Action

if TYPE_CHECKING:
    from axapp.http.app import Shell

STREAM_POLL_MS = 250
MAX_STREAMS = 100
MAX_EVENTS_PER_POLL = 200
MAX_TRACKED_ORDERS = 1_000
KEEPALIVE_POLLS = 40


@attrs.define
class Tail:
    """New rows after a store cursor, each reported once, with bounded memory: ``seen``
    holds at most one page of ids (the page after ``after`` that has no successor yet)."""

    after: int = 0
    seen: set[object] = attrs.Factory(set)

    def take(self, items: list[Any], next_cursor: str | None, key: Any) -> list[Any]:
        fresh = [item for item in items if key(item) not in self.seen]
        if next_cursor is not None:
            self.after, self.seen = int(next_cursor), set()
        else:
            self.seen.update(key(item) for item in fresh)
        return fresh


@attrs.define
class AccountWatch:
    """What the client has been told about one account, to send only what changed."""

    account_id: AccountId
    balance: tuple[int, int] | None = None
    positions: dict[int, tuple[int, int]] = attrs.Factory(dict)
    orders: Tail = attrs.Factory(Tail)
    fills: Tail = attrs.Factory(Tail)
    open_orders: dict[int, tuple[str, int]] = attrs.Factory(dict)


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class Streams:
    def __init__(self, shell: Shell, poll_ms: int) -> None:
        self.shell = shell
        self.poll_s = poll_ms / 1000
        self.open = 0

    def still_allowed(self, request: Request, account_id: AccountId) -> None:
        """The credential and the READ decision, re-read from the stores (not audited)."""
        principal = self.shell.principal(request)
        if isinstance(principal, OperatorPrincipal):
            raise AccessDenied(account_id, DenyReason.NOT_PERMITTED)
        stores = self.shell.app.stores
        resolved = resolve_account_id(principal, account_id)
        grant = stores.grants.get_grant(principal.user_id, resolved)
        decision = authorize(principal, stores.accounts.get_account(resolved), Action.READ, grant)
        if not decision.allowed:
            raise AccessDenied(account_id, decision.reason)

    def news(self, watch: AccountWatch) -> list[bytes]:
        app = self.shell.app
        exchange, stores = app.exchange, app.stores
        account = watch.account_id
        events: list[bytes] = []
        page = stores.orders.orders_for_account(
            account, status=None, after=watch.orders.after, limit=MAX_EVENTS_PER_POLL
        )
        for order in watch.orders.take(list(page.items), page.next_cursor, lambda o: o.order_id):
            if order.status.is_resting and len(watch.open_orders) < MAX_TRACKED_ORDERS:
                watch.open_orders[order.order_id] = (order.status.value, order.filled_lots)
            events.append(_event("order", OrderView(order, self.symbol(order.contract)).as_dict()))
        for order_id, seen in list(watch.open_orders.items()):
            current = stores.orders.get_order(order_id)
            if current is None:
                del watch.open_orders[order_id]
                continue
            state = (current.status.value, current.filled_lots)
            if state != seen:
                events.append(
                    _event("order", OrderView(current, self.symbol(current.contract)).as_dict())
                )
                watch.open_orders[order_id] = state
            if not current.status.is_resting:
                del watch.open_orders[order_id]
        fills = stores.fills.fills_for_account(
            account, after=watch.fills.after, limit=MAX_EVENTS_PER_POLL
        )
        key = lambda f: (f.order_id, f.qty_transfer_id)  # noqa: E731
        for fill in watch.fills.take(list(fills.items), fills.next_cursor, key):
            events.append(_event("fill", FillView(fill, self.symbol(fill.contract)).as_dict()))
        for contract, (qty, basis) in exchange.positions(account).items():
            if watch.positions.get(contract.value) != (qty, basis):
                watch.positions[contract.value] = (qty, basis)
                data = {
                    "account_id": str(account),
                    "symbol": self.symbol(contract),
                    "contract_id": contract.value,
                    "qty_lots": qty,
                    "basis_micro_usd": basis,
                }
                events.append(_event("position", data))
        balance = (exchange.risk.usd(account), exchange.free_cash_micro_usd(account))
        if balance != watch.balance:
            watch.balance = balance
            data = {
                "account_id": str(account),
                "usd_micro_usd": balance[0],
                "free_micro_usd": balance[1],
            }
            events.append(_event("balance", data))
        return events

    def symbol(self, contract: ContractId) -> str:
        for instrument in self.shell.app.stores.products.list_instruments():
            if instrument.contract == contract:
                return instrument.symbol
        return str(contract.value)

    def poll(self, request: Request, watch: AccountWatch) -> list[bytes]:
        self.still_allowed(request, watch.account_id)
        self.shell.app.exchange.sync()  # what other processes on the ledger committed
        return self.news(watch)

    async def events(self, request: Request, watch: AccountWatch) -> AsyncIterator[bytes]:
        quiet = 0
        try:
            while True:
                try:
                    batch = await self.shell.worker.run(lambda: self.poll(request, watch))
                except DomainError as error:
                    status, code = classify(error)
                    yield _event("closed", {"status": status, "code": code})
                    return
                except Exception:
                    yield _event("closed", {"status": 503, "code": "unavailable"})
                    return
                for chunk in batch:
                    yield chunk
                quiet = 0 if batch else quiet + 1
                if quiet >= KEEPALIVE_POLLS:
                    quiet = 0
                    yield b": keepalive\n\n"
                if await request.is_disconnected():
                    return
                await asyncio.sleep(self.poll_s)
        finally:
            self.open -= 1


def add_stream_route(api: FastAPI, shell: Shell, poll_ms: int = STREAM_POLL_MS) -> None:
    from axapp.http.app import ERRORS, bearer, parse_account, strict_query

    streams = Streams(shell, poll_ms)
    api.state.streams = streams
    responses: dict[int | str, dict[str, Any]] = {
        **ERRORS,
        200: {
            "description": "events: order, fill, position, balance; closed when refused",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
    }

    @api.get(
        "/v1/stream",
        response_class=StreamingResponse,
        responses=responses,
        dependencies=[Depends(bearer)],
    )
    async def stream(
        request: Request, account_id: Annotated[str | None, Query(pattern=m.HEX16_PATTERN)] = None
    ) -> Response:
        refused = strict_query(request)
        if refused is not None:
            return refused
        if streams.open >= MAX_STREAMS:
            return problem(503, "unavailable", "too many open streams")

        def opening() -> AccountWatch:
            principal: Principal = shell.principal(request)
            shell.app.reads.balances(principal, parse_account("account_id", account_id))
            if isinstance(principal, OperatorPrincipal):  # pragma: no cover (refused above)
                raise AccessDenied(None, DenyReason.NOT_PERMITTED)
            resolved = resolve_account_id(principal, parse_account("account_id", account_id))
            return AccountWatch(resolved)

        watch = await shell.attempt(opening)
        if isinstance(watch, Response):
            return watch
        streams.open += 1
        return StreamingResponse(
            streams.events(request, watch),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
