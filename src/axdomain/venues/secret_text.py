"""A plaintext secret that refuses to show itself.

Every way Python turns an object into text (``repr``, ``str``, ``format``, f-strings, the
repr of a containing attrs class, a traceback's locals printer) yields ``***``; only
``reveal()`` returns the value, so a leak needs a deliberate call that review can find.
"""

from __future__ import annotations

import hmac
from typing import NoReturn

from axdomain.errors import InvalidValue

MAX_SECRET_CHARS = 4096
REDACTED = "***"


class SecretText:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_SECRET_CHARS:
            # The offending value is never echoed: it may be the secret itself.
            raise InvalidValue("secret", REDACTED, f"must be a str of 1..{MAX_SECRET_CHARS}")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"SecretText({REDACTED!r})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretText):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> NoReturn:
        raise TypeError("SecretText is not picklable: store it through the vault")


def redact(text: str, secrets: list[SecretText] | tuple[SecretText, ...]) -> str:
    """Replace every occurrence of each secret in ``text`` (defence for foreign messages)."""
    for secret in secrets:
        text = text.replace(secret.reveal(), REDACTED)
    return text
