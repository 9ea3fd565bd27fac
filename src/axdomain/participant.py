"""The venue (EP3) participant seam, keyed by account.

A venue participant is named ``{prefix}.{ulid-text}`` where the ULID text is the account's
(``AccountId.ulid_text()``: the id in the top 64 bits, zeros below). Before accounts existed
the name was minted from the user's id; a default account has the user's bit pattern, so
``generate_participant(user.as_default_account_id())`` is byte-identical to the old
user-derived name and no participant at the venue is renamed. Only new, non-default accounts
get new participants.

The venue reports fills under the full path ``firms/{firm}/users/{prefix}.{ulid}``;
``parse_participant`` turns it back into the ``AccountId`` whose money moved. It does not,
and cannot, say who acted: the actor of record comes from the order log via ``order_id``.

``DEFAULT_PARTICIPANT_PREFIX`` is ``"ax"``. The prefix is configurable per venue set-up; it
must be 1..32 characters of lower-case letters, digits and ``-``, starting with a letter,
so it can never contain the ``.`` separator or a ``/`` path separator.
"""

from __future__ import annotations

import re

from axdomain.errors import InvalidValue
from axdomain.ids import U64_MAX, AccountId
from axdomain.ulid import ulid_from_text

DEFAULT_PARTICIPANT_PREFIX = "ax"
PARTICIPANT_FIELD = "participant"
_PREFIX = re.compile(r"[a-z][a-z0-9-]{0,31}")
# A firm is one path segment; kept to a conservative alphabet so a path has one reading.
_FIRM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_PATH_SHAPE = "firms/{firm}/users/{prefix}.{ulid}"


def _require_prefix(prefix: object) -> str:
    if not isinstance(prefix, str) or _PREFIX.fullmatch(prefix) is None:
        raise InvalidValue("participant_prefix", prefix, "must match [a-z][a-z0-9-]{0,31}")
    return prefix


def _require_firm(firm: object) -> str:
    if not isinstance(firm, str) or _FIRM.fullmatch(firm) is None:
        raise InvalidValue("firm", firm, "must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}")
    return firm


def generate_participant(account_id: AccountId, prefix: str = DEFAULT_PARTICIPANT_PREFIX) -> str:
    """The venue participant name of an account: ``"{prefix}.{ulid-text}"``."""
    if not isinstance(account_id, AccountId):
        raise InvalidValue("account_id", account_id, "must be an AccountId")
    return f"{_require_prefix(prefix)}.{account_id.ulid_text()}"


def participant_path(
    firm: str, account_id: AccountId, prefix: str = DEFAULT_PARTICIPANT_PREFIX
) -> str:
    """The full venue path of an account's participant (what ``parse_participant`` reads)."""
    return f"firms/{_require_firm(firm)}/users/{generate_participant(account_id, prefix)}"


def parse_participant(full_path: str, prefix: str = DEFAULT_PARTICIPANT_PREFIX) -> AccountId:
    """``firms/{firm}/users/{prefix}.{ulid}`` -> the account; strict, never guesses.

    Rejects (``InvalidValue`` with field ``participant`` and the full path as value): a
    different path shape, another prefix, text that is not 26 canonical upper-case
    Crockford characters, a value over 128 bits, a ULID whose low 64 bits are not zero (not
    an account-derived name) and the all-zero id.
    """
    expected = _require_prefix(prefix)
    if not isinstance(full_path, str):
        raise InvalidValue(PARTICIPANT_FIELD, full_path, "must be a str")
    parts = full_path.split("/")
    if len(parts) != 4 or parts[0] != "firms" or parts[2] != "users":
        raise InvalidValue(PARTICIPANT_FIELD, full_path, f"must have the shape {_PATH_SHAPE}")
    if _FIRM.fullmatch(parts[1]) is None:
        raise InvalidValue(PARTICIPANT_FIELD, full_path, "the firm segment is malformed")
    name_prefix, dot, ulid_text = parts[3].partition(".")
    if not dot or name_prefix != expected:
        raise InvalidValue(PARTICIPANT_FIELD, full_path, f"the user must be {expected}.{{ulid}}")
    try:
        number = ulid_from_text(ulid_text, PARTICIPANT_FIELD)
    except InvalidValue as error:
        raise InvalidValue(PARTICIPANT_FIELD, full_path, error.problem) from None
    if number & U64_MAX:
        raise InvalidValue(PARTICIPANT_FIELD, full_path, "ULID low 64 bits must be zero")
    account_value = number >> 64
    if account_value == 0:
        raise InvalidValue(PARTICIPANT_FIELD, full_path, "the all-zero id is no account")
    return AccountId(account_value)
