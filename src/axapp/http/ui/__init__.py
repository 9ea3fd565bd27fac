"""The web console under ``/ui/`` (docs/console.md): pages rendered on the server with
Jinja2 over the same use cases, principal and audited ``authorize`` as the JSON API."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from axapp.http.ui import admin, trader
from axapp.http.ui.format import FILTERS
from axapp.http.ui.guard import (
    COOKIE,
    COOKIE_PATH,
    LOGIN_COOKIE,
    Console,
    Refusal,
    check_login_csrf,
    clear_cookie,
    csrf_token,
    new_login_nonce,
    set_cookie,
    with_headers,
)
from axdomain.membership import OperatorPrincipal, Principal

if TYPE_CHECKING:
    from axapp.http.app import Shell

HERE = Path(__file__).parent
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


class Pages:
    """Rendering: every page gets the CSRF token of the credential it was drawn for."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(FILTERS)

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        token = self.console.credential(request)
        context.setdefault("csrf", csrf_token(self.console.pepper, token) if token else "")
        html = self.env.get_template(name).render(context)
        return with_headers(HTMLResponse(html, status_code=status))

    def refused(self, request: Request, refusal: Refusal, **context: Any) -> Response:
        """401 goes back to the login form (the cookie is dropped); the rest is a page
        that names the typed error like the API's problem body."""
        if refusal.status == 401:
            response = RedirectResponse("/ui/login", status_code=303)
            clear_cookie(response, request)
            return with_headers(response)
        return self.render(request, "error.html", refusal.status, refusal=refusal, **context)


def add_console(api: FastAPI, shell: Shell) -> None:
    console = Console(shell)
    pages = Pages(console)
    router = APIRouter(prefix="/ui", include_in_schema=False)
    static = {p.name: p.read_bytes() for p in (HERE / "static").iterdir() if p.is_file()}

    @router.get("/static/{name}")
    async def static_file(name: str) -> Response:
        body = static.get(name)
        if body is None:
            return Response(b"not found", status_code=404, media_type="text/plain")
        media = STATIC_TYPES.get(Path(name).suffix, "application/octet-stream")
        return with_headers(Response(body, media_type=media))

    @router.get("/")
    async def home(request: Request) -> Response:
        if console.credential(request) is None:
            return with_headers(RedirectResponse("/ui/login", status_code=303))
        found = await console.run(lambda: console.principal(request))
        if isinstance(found, Refusal):
            return pages.refused(request, found)
        return with_headers(RedirectResponse(landing(found), status_code=303))

    @router.get("/login")
    async def login_form(request: Request) -> Response:
        nonce = new_login_nonce()
        response = pages.render(request, "login.html", csrf=nonce)
        set_cookie(response, request, LOGIN_COOKIE, nonce)
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await console.form(request, {"csrf", "token"})
        if isinstance(form, Refusal):
            return pages.refused(request, form)
        token = form.get("token", "").strip()

        def work() -> Principal:
            check_login_csrf(request.cookies.get(LOGIN_COOKIE), form.get("csrf"))
            client = request.client.host if request.client is not None else None
            return shell.app.gateway.authenticate(token, client)

        found = await console.run(work)
        if isinstance(found, Refusal):
            nonce = new_login_nonce()
            status = 401 if found.status == 401 else found.status
            response = pages.render(request, "login.html", status, csrf=nonce, refusal=found)
            set_cookie(response, request, LOGIN_COOKIE, nonce)
            return response
        response = RedirectResponse(landing(found), status_code=303)
        set_cookie(response, request, COOKIE, token)
        response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
        return with_headers(response)

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        checked = await console.checked_form(request, set())
        if isinstance(checked, Refusal):
            return pages.refused(request, checked)
        response = RedirectResponse("/ui/login", status_code=303)
        clear_cookie(response, request)
        return with_headers(response)

    trader.add_routes(router, console, pages)
    admin.add_routes(router, console, pages)
    api.include_router(router)


def landing(principal: Principal) -> str:
    return "/ui/admin" if isinstance(principal, OperatorPrincipal) else "/ui/trader"


__all__ = ["Pages", "add_console"]
