"""What every console page shares: the session cookie, the CSRF token, strict form parsing,
running use cases on the serial worker, and rendering a refusal as the API's typed error.

The cookie holds the credential the person typed (a session token, an API key token or an
operator token), ``HttpOnly`` and ``SameSite=Strict``, path ``/ui``. Each request
authenticates it through the gateway like a bearer header, so a revoked key, an expired
session or a revoked grant takes effect on the next page. The server keeps no console state:
no session table, and no "selected account" (every request names it).

CSRF: each POST form carries ``HMAC-SHA256(pepper, "console-csrf:" + credential)``, checked
in constant time (a token bound to the credential, nothing stored). The login form, before
any credential exists, uses a double-submit pair: a random cookie and the same value in the
form.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import parse_qs

import attrs
from fastapi import Request
from starlette.responses import Response

from axapp.gateway import AuthenticationError
from axapp.http.problems import classify, problem_body
from axapp.http.worker import Deadline, Overloaded
from axapp.services import ServiceUnavailable, unavailable_from
from axdomain.errors import DomainError, InvalidValue
from axdomain.membership import Principal

if TYPE_CHECKING:
    from axapp.http.app import Shell
    from axapp.use_cases import Application

T = TypeVar("T")
COOKIE = "ax_console"
LOGIN_COOKIE = "ax_console_login"
COOKIE_PATH = "/ui"
MAX_FORM_FIELDS = 32
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@attrs.frozen
class Refusal:
    """A use case said no: the API's problem members, shown on the page."""

    status: int
    code: str
    detail: str
    field: str | None
    value: object

    @classmethod
    def of(cls, status: int, code: str, detail: str, field: str | None, value: object) -> Refusal:
        body = json.loads(problem_body(status, code, detail, field, value))
        return cls(status, code, body["detail"], body["field"], body["value"])


class CsrfRefused(DomainError):
    """A POST without the CSRF token of its credential (or login pair)."""


def csrf_token(pepper: bytes, credential: str) -> str:
    return hmac.new(pepper, b"console-csrf:" + credential.encode(), hashlib.sha256).hexdigest()


def check_csrf(pepper: bytes, credential: str, sent: str | None) -> None:
    if sent is None or not hmac.compare_digest(csrf_token(pepper, credential), sent):
        raise CsrfRefused("csrf", None, "missing or wrong CSRF token")


def check_login_csrf(cookie: str | None, sent: str | None) -> None:
    if not cookie or sent is None or not hmac.compare_digest(cookie, sent):
        raise CsrfRefused("csrf", None, "missing or wrong CSRF token")


def new_login_nonce() -> str:
    return secrets.token_hex(16)


def set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    """``Secure`` when the page came over https; off on plain http (a localhost console),
    where a browser would otherwise drop the cookie."""
    response.set_cookie(
        name,
        value,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


async def read_form(request: Request, allowed: set[str]) -> dict[str, str]:
    """An urlencoded form, strictly: an unknown or repeated field is refused by name."""
    raw = (await request.body()).decode("utf-8", errors="replace")
    parsed = parse_qs(raw, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    form: dict[str, str] = {}
    for name, values in parsed.items():
        if name not in allowed:
            raise InvalidValue(name, None, "unknown field")
        if len(values) > 1:
            raise InvalidValue(name, None, "repeated field")
        form[name] = values[0]
    return form


def form_int(form: dict[str, str], field: str) -> int:
    text = form.get(field, "").strip()
    if not text or not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 40:
        raise InvalidValue(field, text, "must be an integer")
    return int(text)


class Console:
    """The shell's application and worker, seen from the pages."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell

    @property
    def app(self) -> Application:
        """Read at call time, never captured: the shell's application is what serves."""
        return self.shell.app

    @property
    def pepper(self) -> bytes:
        return self.shell.app.gateway_pepper

    def credential(self, request: Request) -> str | None:
        return request.cookies.get(COOKIE) or None

    def principal(self, request: Request) -> Principal:
        """The cookie's credential through the gateway (raises like a bad bearer token)."""
        token = self.credential(request)
        client = request.client.host if request.client is not None else None
        if token is None:
            raise AuthenticationError("authorization", "<redacted>", "not logged in")
        return self.shell.app.gateway.authenticate(token, client)

    async def form(self, request: Request, allowed: set[str]) -> dict[str, str] | Refusal:
        try:
            return await read_form(request, allowed)
        except DomainError as error:
            return Refusal.of(422, "invalid_value", error.problem, error.field, error.value)

    async def checked_form(self, request: Request, allowed: set[str]) -> dict[str, str] | Refusal:
        """A logged-in page's POST form, its CSRF token checked against the cookie's
        credential (and taken out of the form)."""
        form = await self.form(request, allowed | {"csrf"})
        if isinstance(form, Refusal):
            return form
        token = self.credential(request)
        if token is None:
            return Refusal.of(401, "unauthenticated", "", "authorization", None)
        try:
            check_csrf(self.pepper, token, form.pop("csrf", None))
        except CsrfRefused as error:
            return Refusal.of(403, "csrf", error.problem, error.field, None)
        return form

    async def run(self, work: Callable[[], T]) -> T | Refusal:
        """``work`` on the serial worker; a typed error comes back as the API's refusal."""
        try:
            return await self.shell.worker.run(lambda: self._guarded(work))
        except (Deadline, Overloaded):
            return Refusal.of(503, "unavailable", "the exchange is busy; retry later", None, None)

    def _guarded(self, work: Callable[[], T]) -> T | Refusal:
        try:
            return work()
        except DomainError as error:
            status, code = (403, "csrf") if isinstance(error, CsrfRefused) else classify(error)
            return Refusal.of(status, code, error.problem, error.field, error.value)
        except ServiceUnavailable as error:
            return Refusal.of(503, "unavailable", f"{error.service} is unavailable", None, None)
        except Exception as error:
            down = unavailable_from(error, self.shell.config)
            if down is None:
                raise
            return Refusal.of(503, "unavailable", f"{down.service} is unavailable", None, None)


def with_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
