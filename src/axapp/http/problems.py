"""Errors as RFC 9457 problem details: one table from typed error to status and ``code``.

The bodies carry no per-request member (no ``instance``, no request id): the three "not
found" cases of an account (no account, no grant, another account's key) must be
byte-identical except for the id they echo, and the ``detail`` of a 404 is a constant so
the refusal's inner reason never shows.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from axapp.gateway import AccessDenied, AuthenticationError
from axapp.services import ServiceUnavailable
from axapp.use_cases.membership import KeyNotFound
from axapp.use_cases.orders import OrderNotFound
from axdomain.authorization import DenyReason
from axdomain.errors import Conflict, DomainError
from axdomain.intake import InsufficientFunds
from axdomain.membership_rules import MembershipRefused

PROBLEM_MEDIA_TYPE = "application/problem+json"
MAX_VALUE_CHARS = 200

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_DENIALS: dict[DenyReason, tuple[int, str]] = {
    DenyReason.NO_GRANT: (404, "account_not_found"),
    DenyReason.NO_SUCH_ACCOUNT: (404, "account_not_found"),
    DenyReason.NOT_PERMITTED: (403, "not_permitted"),
    DenyReason.KEY_SCOPE: (403, "key_scope"),
    DenyReason.ACCOUNT_FROZEN: (403, "account_frozen"),
    DenyReason.CLOSE_ONLY: (403, "close_only"),
}

# Constant texts where the error's own words could tell one refusal from another.
_FIXED_DETAIL = {
    "account_not_found": "no such account",
    "order_not_found": "no such order",
    "unauthenticated": "missing, unknown, revoked or expired credentials",
    "not_permitted": "the caller may not do this",
}


def wire_value(value: object) -> Any:
    """The offending value as JSON: scalars as they are, anything else as its text."""
    if value is None or isinstance(value, bool | int | str):
        if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
            return value[:MAX_VALUE_CHARS]
        return value
    if isinstance(value, list | tuple):
        return [wire_value(v) for v in value[:16]]
    return str(value)[:MAX_VALUE_CHARS]


def problem_body(status: int, code: str, detail: str, field: str | None, value: object) -> bytes:
    body = {
        "type": f"urn:ax:problem:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": _FIXED_DETAIL.get(code, detail),
        "code": code,
        "field": field,
        "value": wire_value(value),
    }
    return json.dumps(body, separators=(",", ":")).encode()


def problem(
    status: int, code: str, detail: str, field: str | None = None, value: object = None
) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(
        problem_body(status, code, detail, field, value),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def classify(error: DomainError) -> tuple[int, str]:
    """The status and ``code`` of a typed error (most specific class first)."""
    if isinstance(error, AuthenticationError):
        return 401, "unauthenticated"
    if isinstance(error, AccessDenied):
        return _DENIALS.get(error.reason, (403, "not_permitted"))
    if isinstance(error, OrderNotFound):
        return 404, "order_not_found"
    if isinstance(error, KeyNotFound):
        # Another account's key looks exactly like no key at all.
        return 404, "account_not_found"
    if isinstance(error, MembershipRefused):
        return 403, "not_permitted"
    if isinstance(error, InsufficientFunds):
        return 422, "insufficient_funds"
    if isinstance(error, Conflict):
        return 409, "conflict"
    return 422, "invalid_value"


def from_domain_error(error: DomainError) -> Response:
    status, code = classify(error)
    return problem(status, code, error.problem, error.field, error.value)


def unavailable(error: ServiceUnavailable | None = None) -> Response:
    """A backing service is down: say which kind, never the driver's words or the URL."""
    service = error.service if error is not None else "a backing service"
    return problem(503, "unavailable", f"{service} is unavailable; retry later")


def instrument_busy(retry_after_s: int) -> Response:
    """Another ``ax serve`` process owns this instrument's book: retry (any process) after
    the hint; by then the owner has answered or its lease has passed to whoever is asked."""
    response = problem(
        503, "unavailable", "the instrument's book is held by another process; retry later"
    )
    response.headers["Retry-After"] = str(retry_after_s)
    return response
