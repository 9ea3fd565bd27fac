"""Identity (``UserId``) and ownership (``AccountId``) ids.

Both are 64-bit unsigned values with the same text forms, but they are different types
that never compare equal: mixing "who acts" with "whose money moves" is the bug this
library exists to prevent. New ids are the top 64 bits of a ULID (48-bit ms time + 16
random bits), so they sort by creation time and fit TigerBeetle's u128 ids as ``id << 64``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar, Self

import attrs

from axdomain._checks import require_range
from axdomain.errors import InvalidValue
from axdomain.ulid import ulid_from_text, ulid_to_text

U64_MAX = (1 << 64) - 1
# Ids below this have ULID time 0: never generated, reserved for system accounts.
RESERVED_ID_LIMIT = 1 << 16
_HEX16 = re.compile(r"[0-9a-f]{16}")


@attrs.frozen(order=True, repr=False)
class _Id64:
    """Shared shape of the 64-bit ids; subclasses set the allowed minimum."""

    MIN_VALUE: ClassVar[int] = 1
    FIELD: ClassVar[str] = "id"

    value: int

    def __attrs_post_init__(self) -> None:
        require_range(self.FIELD, self.value, self.MIN_VALUE, U64_MAX)

    def __hash__(self) -> int:
        # Hand-written (attrs keeps it): half the cost of the generated one, and ids key
        # every map of the risk state. Equality still requires the same type.
        return hash(self.value)

    def __str__(self) -> str:
        return f"{self.value:016x}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(0x{self.value:016x})"

    @classmethod
    def from_hex(cls, text: object) -> Self:
        """Parse the canonical 16 lower-case hex digits, nothing looser."""
        if not isinstance(text, str) or _HEX16.fullmatch(text) is None:
            raise InvalidValue(cls.FIELD, text, "must be 16 lower-case hex digits")
        return cls(int(text, 16))

    @classmethod
    def from_ulid_text(cls, text: object) -> Self:
        """Inverse of ``ulid_text``: the low 64 bits of the ULID must be zero."""
        number = ulid_from_text(text, cls.FIELD)
        if number & U64_MAX:
            raise InvalidValue(cls.FIELD, text, "ULID low 64 bits must be zero")
        if number >> 64 < cls.MIN_VALUE:
            # Report the text the caller gave, not the decoded number it never saw.
            raise InvalidValue(cls.FIELD, text, f"id must be >= {cls.MIN_VALUE:#x}")
        return cls(number >> 64)

    def to_ulid(self) -> int:
        """The 128-bit ULID whose top half is this id (the TigerBeetle id prefix)."""
        return self.value << 64

    def ulid_text(self) -> str:
        return ulid_to_text(self.to_ulid(), self.FIELD)


@attrs.frozen(order=True, repr=False)
class UserId(_Id64):
    """Who acts: a human or service identity. Never keys money."""

    MIN_VALUE: ClassVar[int] = RESERVED_ID_LIMIT
    FIELD: ClassVar[str] = "user_id"
    __hash__ = _Id64.__hash__  # defined here too, or attrs generates its own

    def as_default_account_id(self) -> AccountId:
        """The user's one default account: same bit pattern, derived, never stored.

        Legal only at the edge as the input to ``authorize``; there is deliberately no
        reverse function from an account to "its user" (read the account's UBO instead).
        """
        return AccountId(self.value)


@attrs.frozen(order=True, repr=False)
class AccountId(_Id64):
    """Whose money moves: the key of balances, positions, orders and ledger rows."""

    FIELD: ClassVar[str] = "account_id"
    __hash__ = _Id64.__hash__  # defined here too, or attrs generates its own

    @property
    def is_reserved(self) -> bool:
        """True for the system range below 2**16 (never a generated id)."""
        return self.value < RESERVED_ID_LIMIT


@attrs.frozen
class SystemAccounts:
    """The reserved system accounts, by name."""

    AX_PNL: AccountId = AccountId(1)
    AX_FEES: AccountId = AccountId(2)
    AX_SETTLEMENT: AccountId = AccountId(3)
    AX_CUSTODY: AccountId = AccountId(4)
    AX_FUNDING: AccountId = AccountId(5)
    AX_LENDING: AccountId = AccountId(6)

    def by_name(self) -> dict[str, AccountId]:
        return {field.name: getattr(self, field.name) for field in attrs.fields(SystemAccounts)}

    def __iter__(self) -> Iterator[AccountId]:
        return iter(self.by_name().values())


SYSTEM_ACCOUNTS = SystemAccounts()
