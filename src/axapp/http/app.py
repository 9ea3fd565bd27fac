"""The ASGI application: SPEC §12's routes over the use cases.

Each handler parses the wire (16-hex ids, lower-case enums, strict bodies), then hands one
closure to the serial worker: authenticate the bearer token with the client address of the
ASGI scope, call the use case with the principal first, shape the answer. Every typed error
becomes a problem+json answer (``problems.classify``); a backing service that fails is 503
``unavailable``; nothing a client sends can produce a 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from axapp.config import Config
from axapp.http import models as m
from axapp.http.limits import BodyLimit
from axapp.http.problems import PROBLEM_MEDIA_TYPE, from_domain_error, problem, unavailable
from axapp.http.shapes import (
    account_flags,
    audit_item,
    grant_answer,
    instrument_answer,
    key_answer,
    limits_answer,
)
from axapp.http.stream import STREAM_POLL_MS, add_stream_route
from axapp.http.worker import Deadline, Overloaded, SerialWorker
from axapp.services import ServiceUnavailable, unavailable_from
from axapp.use_cases import Application
from axdomain.errors import DomainError, InvalidValue
from axdomain.ids import AccountId, UserId
from axdomain.membership import OperatorPrincipal, Principal
from axdomain.orders import OrderStatus, Side, TimeInForce
from axdomain.paging import MAX_PAGE_SIZE, page_of, parse_cursor, parse_limit
from axdomain.permissions import Permissions

T = TypeVar("T")
log = logging.getLogger("axapp.http")
U64_MAX = (1 << 64) - 1

bearer = HTTPBearer(auto_error=False, description="API key, user session or operator token")
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "model": m.Problem,
        "description": text,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status, text in (
        (401, "missing, unknown, revoked or expired credentials"),
        (403, "not_permitted, key_scope, account_frozen or close_only"),
        (404, "account_not_found or order_not_found"),
        (409, "conflict"),
        (413, "request body too large"),
        (422, "invalid_value or insufficient_funds"),
        (503, "unavailable"),
    )
}

AccountQuery = Annotated[str | None, Query(pattern=m.HEX16_PATTERN)]
LimitQuery = Annotated[int | None, Query(ge=1, le=MAX_PAGE_SIZE)]
CursorQuery = Annotated[str | None, Query(min_length=1, max_length=20, pattern=r"^[0-9]+$")]
Hex16Path = Annotated[str, Path(pattern=m.HEX16_PATTERN)]
Hex32Path = Annotated[str, Path(pattern=m.HEX32_PATTERN)]
SymbolPath = Annotated[str, Path(min_length=1, max_length=m.MAX_TEXT_LEN, pattern=m.TEXT_PATTERN)]


def parse_account(field: str, text: str | None) -> AccountId | None:
    if text is None:
        return None
    try:
        return AccountId.from_hex(text)
    except DomainError:
        raise InvalidValue(field, text, "must be 16 lower-case hex digits, not 0") from None


def require_account(field: str, text: str) -> AccountId:
    account = parse_account(field, text)
    if account is None:  # pragma: no cover (text is never None here)
        raise InvalidValue(field, text, "required")
    return account


def parse_user(field: str, text: str) -> UserId:
    try:
        return UserId.from_hex(text)
    except DomainError:
        raise InvalidValue(field, text, "must be 16 lower-case hex digits, not 0") from None


def parse_id64(field: str, text: str | None) -> int | None:
    if text is None:
        return None
    number = int(text, 16)
    if not 1 <= number <= U64_MAX:
        raise InvalidValue(field, text, "must be 16 lower-case hex digits, not 0")
    return number


def json_response(payload: Any, status: int = 200) -> Response:
    if hasattr(payload, "as_dict"):
        payload = payload.as_dict()
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json")


class Shell:
    """The state the handlers share: the application, its worker and the configuration."""

    def __init__(self, application: Application, worker: SerialWorker, config: Config) -> None:
        self.app = application
        self.worker = worker
        self.config = config

    def principal(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        client = request.client.host if request.client is not None else None
        if scheme.lower() != "bearer":
            token = ""
        return self.app.gateway.authenticate(token.strip(), client)

    async def call(
        self, request: Request, use: Callable[[Principal], Any], *, admin: bool = False
    ) -> Response:
        refused = strict_query(request)
        if refused is not None:
            return refused

        def work() -> Response:
            principal = self.principal(request)
            if admin and not isinstance(principal, OperatorPrincipal):
                return problem(403, "not_permitted", "", None, None)
            return json_response(use(principal))

        return await self.attempt(work)

    async def attempt(self, work: Callable[[], T]) -> T | Response:
        """``work``'s value, or the problem answer for why it failed."""
        try:
            return await self.worker.run(lambda: self._answer(work))
        except (Deadline, Overloaded):
            return unavailable()

    def _answer(self, work: Callable[[], T]) -> T | Response:
        try:
            return work()
        except DomainError as error:
            return from_domain_error(error)
        except ServiceUnavailable as error:
            return unavailable(error)
        except Exception as error:
            down = unavailable_from(error, self.config)
            if down is not None:
                log.warning("backing service failed: %s", down.line())
                return unavailable(down)
            log.exception("unexpected failure")
            return problem(500, "unavailable", "internal error")


def strict_query(request: Request) -> Response | None:
    """Unknown or repeated query parameters are refused, never ignored: a misspelt
    ``account_id`` must not read the caller's default account."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    allowed = {p.alias for p in dependant.query_params} if dependant is not None else set()
    for name in request.query_params:
        if name not in allowed:
            return problem(422, "invalid_value", "unknown query parameter", name, None)
        if len(request.query_params.getlist(name)) > 1:
            return problem(422, "invalid_value", "repeated query parameter", name, None)
    return None


def _validation_problem(_: Request, error: Exception) -> Response:
    errors = error.errors() if isinstance(error, RequestValidationError) else []
    first = errors[0] if errors else {}
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query")]
    field = ".".join(location) or "body"
    if location and location[0] == "path":  # pragma: no cover (FastAPI names path params)
        field = ".".join(location[1:])
    message = str(first.get("msg", "invalid request"))
    value = first.get("input") if first.get("type") != "missing" else None
    if first.get("type") == "extra_forbidden":
        message = "unknown field"
        value = None
    if isinstance(value, dict):
        value = None
    return problem(422, "invalid_value", message, field or "body", value)


def _http_problem(_: Request, error: Exception) -> Response:
    status = error.status_code if isinstance(error, StarletteHTTPException) else 500
    code = "not_permitted" if status == 405 else "invalid_value"
    return problem(status, code, str(getattr(error, "detail", "")) or "not found", None, None)


def create_app(
    application: Application,
    *,
    config: Config | None = None,
    worker: SerialWorker | None = None,
    stream_poll_ms: int = STREAM_POLL_MS,
) -> FastAPI:
    """The ASGI app over one application (the caller owns the runtime it was built on)."""
    shell = Shell(application, worker or SerialWorker(), config or Config.from_env({}))
    api = FastAPI(
        title="axdomain exchange",
        version="1",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        description="SPEC §12: one account per request, problem+json errors, integer money.",
    )
    api.state.shell = shell
    api.add_exception_handler(RequestValidationError, _validation_problem)
    api.add_exception_handler(StarletteHTTPException, _http_problem)
    api.add_middleware(BodyLimit)
    api.include_router(_admin_routes(shell))
    api.include_router(_user_routes(shell))
    add_stream_route(api, shell, stream_poll_ms)

    @api.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        """The floor: no authentication, no use case (the benchmark's bare route)."""
        return Response(b'{"ok":true}', media_type="application/json")

    return api


def _admin_routes(shell: Shell) -> APIRouter:
    r = APIRouter(prefix="/v1/admin", dependencies=[Depends(bearer)], responses=ERRORS)

    @r.post("/users", response_model=m.OnboardAnswer)
    async def onboard(request: Request, body: m.OnboardRequest) -> Response:
        def use(p: Principal) -> dict[str, Any]:
            user, account = shell.app.operator.onboard_user(p, body.username)
            return {"user_id": str(user.user_id), "default_account_id": str(account.account_id)}

        return await shell.call(request, use, admin=True)

    @r.post("/users/{user_id}/sessions", response_model=m.TokenAnswer)
    async def session(request: Request, user_id: Hex16Path) -> Response:
        def use(p: Principal) -> dict[str, Any]:
            return {"token": shell.app.operator.issue_session(p, parse_user("user_id", user_id))}

        return await shell.call(request, use, admin=True)

    @r.post("/accounts/{account_id}/deposits", response_model=m.MoneyAnswer)
    async def deposit(request: Request, account_id: Hex16Path, body: m.DepositRequest) -> Response:
        def use(p: Principal) -> object:
            account = require_account("account_id", account_id)
            return shell.app.money.deposit(p, account, body.amount_micro_usd, body.idempotency_key)

        return await shell.call(request, use, admin=True)

    @r.get("/accounts/{account_id}/withdrawals", response_model=m.PendingWithdrawalsAnswer)
    async def pending_withdrawals(request: Request, account_id: Hex16Path) -> Response:
        def use(p: Principal) -> object:
            account = require_account("account_id", account_id)
            return shell.app.money.pending_withdrawals(p, account)

        return await shell.call(request, use, admin=True)

    @r.post(
        "/accounts/{account_id}/withdrawals/{withdrawal_id}/{resolution}",
        response_model=m.MoneyAnswer,
    )
    async def resolve_withdrawal(
        request: Request,
        account_id: Hex16Path,
        withdrawal_id: Hex32Path,
        resolution: Literal["post", "void"],
        body: m.ResolveWithdrawalRequest,
    ) -> Response:
        def use(p: Principal) -> object:
            account = require_account("account_id", account_id)
            money = shell.app.money
            resolve = money.post_withdrawal if resolution == "post" else money.void_withdrawal
            return resolve(p, account, int(withdrawal_id, 16), body.idempotency_key)

        return await shell.call(request, use, admin=True)

    @r.post("/accounts/{account_id}/flags", response_model=m.AccountFlagsAnswer)
    async def flags(request: Request, account_id: Hex16Path, body: m.FlagsRequest) -> Response:
        def use(p: Principal) -> dict[str, Any]:
            account = require_account("account_id", account_id)
            changed = shell.app.operator.set_flags(
                p, account, is_frozen=body.is_frozen, is_close_only=body.is_close_only
            )
            return account_flags(changed)

        return await shell.call(request, use, admin=True)

    @r.post("/products", response_model=m.ProductAnswer)
    async def product(request: Request, body: m.ProductRequest) -> Response:
        def use(p: Principal) -> dict[str, Any]:
            listed = shell.app.operator.list_product(p, body.name)
            return {"product_id": listed.product_id.value, "name": listed.name}

        return await shell.call(request, use, admin=True)

    @r.post("/instruments", response_model=m.InstrumentAnswer)
    async def instrument(request: Request, body: m.InstrumentRequest) -> Response:
        def use(p: Principal) -> dict[str, Any]:
            listed = shell.app.operator.list_instrument(
                p,
                symbol=body.symbol,
                product_id=body.product_id,
                contract_date=body.contract_date,
                expiration_ns=body.expiration_ns,
            )
            return instrument_answer(listed)

        return await shell.call(request, use, admin=True)

    @r.post("/instruments/{symbol}/funding", response_model=m.MoneyAnswer)
    async def funding(request: Request, symbol: SymbolPath, body: m.FundingRequest) -> Response:
        def use(p: Principal) -> object:
            return shell.app.operator.funding(
                p,
                symbol,
                mark_price_micro_usd=body.mark_price_micro_usd,
                rate_ppb=body.rate_ppb,
                idempotency_key=body.idempotency_key,
            )

        return await shell.call(request, use, admin=True)

    @r.post("/instruments/{symbol}/settlement", response_model=m.MoneyAnswer)
    async def settlement(
        request: Request, symbol: SymbolPath, body: m.SettlementRequest
    ) -> Response:
        def use(p: Principal) -> object:
            return shell.app.operator.settlement(
                p,
                symbol,
                price_micro_usd=body.price_micro_usd,
                idempotency_key=body.idempotency_key,
            )

        return await shell.call(request, use, admin=True)

    @r.post("/instruments/{symbol}/delist", response_model=m.InstrumentAnswer)
    async def delist(request: Request, symbol: SymbolPath) -> Response:
        return await shell.call(
            request, lambda p: instrument_answer(shell.app.operator.delist(p, symbol)), admin=True
        )

    @r.get("/audit", response_model=m.AuditPage)
    async def audit(
        request: Request,
        account_id: Annotated[str, Query(pattern=m.HEX16_PATTERN)],
        limit: LimitQuery = None,
        cursor: CursorQuery = None,
    ) -> Response:
        def use(p: Principal) -> dict[str, Any]:
            size, after = parse_limit(limit), parse_cursor(cursor)
            records = shell.app.operator.audit_trail(p, require_account("account_id", account_id))
            rows = [(i, audit_item(r)) for i, r in enumerate(records, 1) if i > after]
            page = page_of(rows[: size + 1], size)
            return {"items": list(page.items), "next_cursor": page.next_cursor}

        return await shell.call(request, use, admin=True)

    @r.get("/invariants", response_model=m.InvariantsAnswer)
    async def invariants(request: Request) -> Response:
        return await shell.call(request, shell.app.operator.invariants, admin=True)

    return r


def _user_routes(shell: Shell) -> APIRouter:
    r = APIRouter(prefix="/v1", dependencies=[Depends(bearer)], responses=ERRORS)

    @r.get("/whoami", response_model=m.WhoAmIAnswer)
    async def whoami(request: Request) -> Response:
        return await shell.call(request, shell.app.identity.whoami)

    @r.post("/accounts", response_model=m.AccountAnswer)
    async def create_account(request: Request, body: m.CreateAccountRequest) -> Response:
        def use(p: Principal) -> dict[str, Any]:
            account = shell.app.identity.create_account(p, body.name)
            return {"account_id": str(account.account_id), "name": account.name}

        return await shell.call(request, use)

    def read(name: str) -> Callable[[Principal, str | None], Any]:
        method = getattr(shell.app.reads, name)
        return lambda p, a: method(p, parse_account("account_id", a))

    @r.get("/balances", response_model=m.BalancesAnswer)
    async def balances(request: Request, account_id: AccountQuery = None) -> Response:
        use = read("balances")
        return await shell.call(request, lambda p: use(p, account_id))

    @r.get("/positions", response_model=m.PositionsAnswer)
    async def positions(request: Request, account_id: AccountQuery = None) -> Response:
        use = read("positions")
        return await shell.call(request, lambda p: use(p, account_id))

    @r.get("/risk", response_model=m.RiskAnswer)
    async def risk(request: Request, account_id: AccountQuery = None) -> Response:
        use = read("risk")
        return await shell.call(request, lambda p: use(p, account_id))

    @r.get("/orders", response_model=m.OrdersPage)
    async def orders(
        request: Request,
        account_id: AccountQuery = None,
        status: m.OrderStatusName | None = None,
        limit: LimitQuery = None,
        cursor: CursorQuery = None,
    ) -> Response:
        wanted = None if status is None else OrderStatus(status)

        def use(p: Principal) -> object:
            account = parse_account("account_id", account_id)
            return shell.app.reads.orders(p, account, status=wanted, limit=limit, cursor=cursor)

        return await shell.call(request, use)

    @r.get("/fills", response_model=m.FillsPage)
    async def fills(
        request: Request,
        account_id: AccountQuery = None,
        limit: LimitQuery = None,
        cursor: CursorQuery = None,
    ) -> Response:
        def use(p: Principal) -> object:
            account = parse_account("account_id", account_id)
            return shell.app.reads.fills(p, account, limit=limit, cursor=cursor)

        return await shell.call(request, use)

    @r.get("/transactions", response_model=m.TransactionsPage)
    async def transactions(
        request: Request,
        account_id: AccountQuery = None,
        limit: LimitQuery = None,
        cursor: CursorQuery = None,
    ) -> Response:
        def use(p: Principal) -> object:
            account = parse_account("account_id", account_id)
            return shell.app.reads.transactions(p, account, limit=limit, cursor=cursor)

        return await shell.call(request, use)

    @r.post("/orders", response_model=m.PlaceAnswer)
    async def place(request: Request, body: m.PlaceOrderRequest) -> Response:
        def use(p: Principal) -> object:
            return shell.app.orders.place(
                p,
                account_id=parse_account("account_id", body.account_id),
                symbol=body.symbol,
                side=Side(body.side),
                qty_lots=body.qty_lots,
                limit_price_micro_usd=body.limit_price_micro_usd,
                client_order_id=body.client_order_id,
                time_in_force=TimeInForce(body.time_in_force),
                idempotency_key=body.idempotency_key,
            )

        return await shell.call(request, use)

    @r.post("/orders/cancel", response_model=m.OrderDetails)
    async def cancel(request: Request, body: m.CancelRequest) -> Response:
        def use(p: Principal) -> object:
            return shell.app.orders.cancel(
                p,
                order_id=parse_id64("order_id", body.order_id),
                client_order_id=body.client_order_id,
                account_id=parse_account("account_id", body.account_id),
            )

        return await shell.call(request, use)

    @r.post("/orders/replace", response_model=m.PlaceAnswer)
    async def replace(request: Request, body: m.ReplaceRequest) -> Response:
        def use(p: Principal) -> object:
            return shell.app.orders.replace(
                p,
                order_id=parse_id64("order_id", body.order_id),
                client_order_id=body.client_order_id,
                account_id=parse_account("account_id", body.account_id),
                qty_lots=body.qty_lots,
                limit_price_micro_usd=body.limit_price_micro_usd,
            )

        return await shell.call(request, use)

    @r.put("/limits", response_model=m.LimitsAnswer)
    async def limits(request: Request, body: m.LimitsRequest) -> Response:
        def use(p: Principal) -> dict[str, Any]:
            account = shell.app.limits.set_limits(
                p,
                account_id=parse_account("account_id", body.account_id),
                max_open_positions=body.max_open_positions,
                max_notional_micro_usd=body.max_notional_micro_usd,
                monthly_loss_limit_micro_usd=body.monthly_loss_limit_micro_usd,
            )
            return limits_answer(account)

        return await shell.call(request, use)

    @r.post("/withdrawals", response_model=m.MoneyAnswer)
    async def withdraw(request: Request, body: m.WithdrawalRequest) -> Response:
        def use(p: Principal) -> object:
            return shell.app.money.withdraw(
                p,
                account_id=parse_account("account_id", body.account_id),
                amount_micro_usd=body.amount_micro_usd,
                idempotency_key=body.idempotency_key,
            )

        return await shell.call(request, use)

    @r.post("/transfers", response_model=m.MoneyAnswer)
    async def transfer(request: Request, body: m.TransferRequest) -> Response:
        def use(p: Principal) -> object:
            return shell.app.money.transfer(
                p,
                from_account_id=require_account("from_account_id", body.from_account_id),
                to_account_id=require_account("to_account_id", body.to_account_id),
                amount_micro_usd=body.amount_micro_usd,
                idempotency_key=body.idempotency_key,
            )

        return await shell.call(request, use)

    @r.post("/grants", response_model=m.GrantAnswer)
    async def grant(request: Request, body: m.GrantRequest) -> Response:
        def use(p: Principal) -> dict[str, Any]:
            made = shell.app.membership.grant(
                p,
                require_account("account_id", body.account_id),
                parse_user("user_id", body.user_id),
                Permissions.parse_wire(list(body.permissions)),
            )
            return grant_answer(made)

        return await shell.call(request, use)

    @r.delete("/grants", response_model=m.RevokedAnswer)
    async def revoke(
        request: Request,
        account_id: Annotated[str, Query(pattern=m.HEX16_PATTERN)],
        user_id: Annotated[str, Query(pattern=m.HEX16_PATTERN)],
    ) -> Response:
        def use(p: Principal) -> dict[str, Any]:
            account = require_account("account_id", account_id)
            done = shell.app.membership.revoke(p, account, parse_user("user_id", user_id))
            return {"revoked": done}

        return await shell.call(request, use)

    @r.post("/api-keys", response_model=m.KeyAnswer)
    async def mint_key(request: Request, body: m.MintKeyRequest) -> Response:
        def use(p: Principal) -> dict[str, Any]:
            key, token = shell.app.membership.mint_key(
                p,
                account_id=parse_account("account_id", body.account_id),
                scope=Permissions.parse_wire(list(body.permissions)),
                expires_at_ns=body.expires_at_ns,
                allowed_cidrs=body.allowed_cidrs,
            )
            return key_answer(key, token)

        return await shell.call(request, use)

    @r.delete("/api-keys/{key_id}", response_model=m.RevokedAnswer)
    async def revoke_key(request: Request, key_id: Hex16Path) -> Response:
        def use(p: Principal) -> dict[str, Any]:
            shell.app.membership.revoke_key(p, parse_id64("key_id", key_id))
            return {"revoked": True}

        return await shell.call(request, use)

    return r
