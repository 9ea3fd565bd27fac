"""Typed errors of the domain.

Every rejection names the field and the offending value, so a caller can report it
without parsing a message. All are ``ValueError`` subclasses so generic validation code
that already catches ``ValueError`` keeps working.
"""

from __future__ import annotations


class DomainError(ValueError):
    """Base of every error the domain raises on bad input."""

    def __init__(self, field: str, value: object, problem: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(f"{field}={value!r}: {problem}")


class InvalidValue(DomainError):
    """A value is malformed or out of its allowed range."""


class UnknownAction(DomainError):
    """An action name that the permission model does not know."""


class KeyScopeError(DomainError):
    """An API key scope that is not a subset of the user's grant on the account."""


class NotFound(DomainError):
    """A keyed lookup that found nothing where something was required."""


class Conflict(DomainError):
    """A write that would break a uniqueness or append-only rule."""


class Unavailable(Exception):
    """A backing service (database, cache, ledger) could not be reached or failed mid-way.

    Not a ``DomainError``: the request was not bad, and retrying it with the same
    idempotency key is safe. ``service`` names what failed (HTTP 503 ``unavailable``).
    """

    def __init__(self, service: str, detail: str) -> None:
        self.service = service
        self.detail = detail
        super().__init__(f"{service} unavailable: {detail}")
