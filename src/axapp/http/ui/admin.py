"""The operator's pages: account-centric administration (find a person, then their accounts,
then one account's grants, keys, flags, audit trail and who-could) and the health page
(the invariant report and two server-drawn charts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from fastapi import APIRouter, Request
from starlette.responses import Response

from axapp.audit_report import parse_instant_ns, who_could
from axapp.gateway import AccessDenied
from axapp.http.app import parse_user, require_account
from axapp.http.ui.charts import bar_chart
from axapp.http.ui.guard import Console, Refusal
from axapp.use_cases.directory import NS_PER_MINUTE, AccountFacts, UserAccounts
from axdomain.audit import AuditRecord
from axdomain.authorization import DenyReason
from axdomain.errors import InvalidValue
from axdomain.ids import UserId
from axdomain.membership import OperatorPrincipal, Principal, User
from axdomain.permissions import Action

if TYPE_CHECKING:
    from axapp.http.ui import Pages

FLAG_CHANGES = {
    "freeze": (True, None),
    "unfreeze": (False, None),
    "close_only": (None, True),
    "reopen": (None, False),
}


@attrs.frozen
class AccountPage:
    facts: AccountFacts
    trail: tuple[tuple[AuditRecord, User | None], ...]
    at_ns: int
    could: tuple[tuple[UserId, AuditRecord, User | None], ...]
    granters: tuple[str, ...]


def operator(console: Console, request: Request) -> Principal:
    principal = console.principal(request)
    if not isinstance(principal, OperatorPrincipal):
        raise AccessDenied(None, DenyReason.NOT_PERMITTED)
    return principal


def account_page(console: Console, request: Request, account_text: str, at: str | None) -> Any:
    app = console.app
    ops = operator(console, request)
    account = require_account("account_id", account_text)
    facts = app.directory.account_facts(ops, account)
    records = app.operator.audit_trail(ops, account)
    users: dict[UserId, User | None] = {}

    def user(user_id: UserId | None) -> User | None:
        if user_id is None:
            return None
        if user_id not in users:
            users[user_id] = app.stores.users.get_user(user_id)
        return users[user_id]

    managers = {r.actor_user_id for r in records if r.allowed and r.action is Action.MANAGE}
    granters = tuple(
        sorted(found.username if (found := user(u)) else str(u) for u in managers if u is not None)
    )
    at_ns = app.stores.clock.now_ns() if not at else parse_instant_ns(at)
    could = who_could(records, at_ns)
    return AccountPage(
        facts=facts,
        trail=tuple((r, user(r.actor_user_id)) for r in reversed(records)),
        at_ns=at_ns,
        could=tuple(
            (u, r, user(u)) for u, r in sorted(could.items(), key=lambda item: item[0].value)
        ),
        granters=granters,
    )


def add_routes(router: APIRouter, console: Console, pages: Pages) -> None:
    async def show(
        request: Request, name: str, work: Any, status: int = 200, **extra: Any
    ) -> Response:
        found = await console.run(work)
        if isinstance(found, Refusal):
            return pages.refused(request, found, operator=True)
        return pages.render(request, name, status, data=found, operator=True, **extra)

    @router.get("/admin")
    async def admin(request: Request, q: str | None = None) -> Response:
        def work() -> list[User] | None:
            ops = operator(console, request)
            return None if not q else console.app.directory.find_users(ops, q)

        return await show(request, "admin.html", work, query=q or "")

    @router.get("/admin/user")
    async def user(request: Request, user_id: str) -> Response:
        def work() -> UserAccounts:
            ops = operator(console, request)
            return console.app.directory.user_accounts(ops, parse_user("user_id", user_id))

        return await show(request, "admin_user.html", work)

    @router.get("/admin/account")
    async def account(request: Request, account_id: str, at: str | None = None) -> Response:
        return await show(
            request, "admin_account.html", lambda: account_page(console, request, account_id, at)
        )

    @router.post("/admin/account/flags")
    async def flags(request: Request) -> Response:
        form = await console.checked_form(request, {"account_id", "change"})
        if isinstance(form, Refusal):
            return pages.refused(request, form, operator=True)
        account_text = form.get("account_id", "")

        def work() -> AccountPage:
            ops = operator(console, request)
            account = require_account("account_id", account_text)
            change = form.get("change", "")
            if change not in FLAG_CHANGES:
                raise InvalidValue("change", change, f"must be one of {sorted(FLAG_CHANGES)}")
            frozen, close_only = FLAG_CHANGES[change]
            current = console.app.directory.account_facts(ops, account).account
            console.app.operator.set_flags(
                ops,
                account,
                is_frozen=current.is_frozen if frozen is None else frozen,
                is_close_only=current.is_close_only if close_only is None else close_only,
            )
            page: AccountPage = account_page(console, request, account_text, None)
            return page

        return await show(request, "admin_account.html", work, changed=form.get("change"))

    @router.get("/health")
    async def health(request: Request) -> Response:
        def work() -> dict[str, Any]:
            ops = operator(console, request)
            report = console.app.operator.invariants(ops)
            series = console.app.directory.health_series(ops)
            minutes = [
                (f"{(series.first_minute_ns // NS_PER_MINUTE + i) % 60:02d}", n)
                for i, n in enumerate(series.events_per_minute)
            ]
            return {
                "report": report,
                "series": series,
                "events_chart": bar_chart(
                    "events-chart", "Ledger events per minute (last 30 minutes, UTC)", minutes
                ),
                "positions_chart": bar_chart(
                    "positions-chart",
                    "Accounts holding an open position, per contract",
                    list(series.open_positions),
                    horizontal=True,
                ),
            }

        return await show(request, "health.html", work)
