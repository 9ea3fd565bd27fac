"""Crockford base32 text of 128-bit ULIDs.

The canonical text is 26 upper-case characters; the first carries only 3 bits, so it is
0..7. Parsing is strict: canonical alphabet only (no lower case, no I/L/O aliases), so one
value has exactly one text and a participant name compares byte for byte.
"""

from __future__ import annotations

from axdomain._checks import require_range
from axdomain.errors import InvalidValue

ULID_BITS = 128
ULID_MAX = (1 << ULID_BITS) - 1
ULID_TEXT_LEN = 26
CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {char: index for index, char in enumerate(CROCKFORD_ALPHABET)}


def ulid_to_text(value: int, field: str = "ulid") -> str:
    number = require_range(field, value, 0, ULID_MAX)
    chars = []
    for _ in range(ULID_TEXT_LEN):
        chars.append(CROCKFORD_ALPHABET[number & 0x1F])
        number >>= 5
    return "".join(reversed(chars))


def ulid_from_text(text: object, field: str = "ulid") -> int:
    if not isinstance(text, str) or len(text) != ULID_TEXT_LEN:
        raise InvalidValue(field, text, f"must be {ULID_TEXT_LEN} Crockford base32 chars")
    number = 0
    for char in text:
        digit = _DECODE.get(char)
        if digit is None:
            raise InvalidValue(field, text, f"bad Crockford base32 char {char!r}")
        number = (number << 5) | digit
    if number > ULID_MAX:
        raise InvalidValue(field, text, "overflows 128 bits")
    return number
