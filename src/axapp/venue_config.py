"""The account registry: which accounts run a lane, in which mode, at which venue.

| variable | meaning |
| --- | --- |
| ``AX_ACCOUNTS_FILE`` | TOML file with ``[[accounts]]`` tables |
| ``AX_ACCOUNTS`` | the same as JSON: ``[{...}, ...]`` or ``{"accounts": [...]}`` |
| ``AX_ACCOUNT_LABEL``, ``AX_ACCOUNT_ID``, | single-account settings |
| ``AX_ACCOUNT_MODE``, ``AX_VENUE`` | (the fallback) |

Setting both registry variables is an error. With neither, one account is synthesized from
the single-account settings (each has a default), so a one-account deployment needs no
registry at all. Validation is strict: unknown keys, wrong types, duplicate labels or
accounts all fail with an error naming the variable, the entry and the field. Credentials
are never configured here (they live in the vault); a credential-looking key is refused
without echoing its value.
"""

from __future__ import annotations

import enum
import json
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs

from axdomain.errors import InvalidValue
from axdomain.ids import AccountId
from axdomain.venues.credentials import MAX_SUBACCOUNT_INDEX
from axdomain.venues.names import VenueId, require_label
from axdomain.venues.secret_text import REDACTED

ENV_ACCOUNTS_FILE = "AX_ACCOUNTS_FILE"
ENV_ACCOUNTS = "AX_ACCOUNTS"
ENV_ACCOUNT_LABEL = "AX_ACCOUNT_LABEL"
ENV_ACCOUNT_ID = "AX_ACCOUNT_ID"
ENV_ACCOUNT_MODE = "AX_ACCOUNT_MODE"
ENV_VENUE = "AX_VENUE"
DEFAULT_LABEL = "default"
DEFAULT_ACCOUNT_ID = "0000000000010000"  # the first id above the reserved system range
DEFAULT_VENUE = "fake"
MAX_ACCOUNTS = 64
MAX_REGISTRY_BYTES = 1 << 20
REQUIRED_KEYS = ("label", "account_id", "mode", "venue")
OPTIONAL_KEYS = ("subaccount_index", "enabled")
CREDENTIAL_KEYS = ("api_key", "secret_key", "api_secret", "secret", "password", "passphrase")


class AccountMode(enum.Enum):
    PAPER = "paper"
    LIVE = "live"


@attrs.frozen
class AccountEntry:
    label: str
    account_id: AccountId
    mode: AccountMode
    venue: VenueId
    subaccount_index: int = 0
    enabled: bool = True


@attrs.frozen
class AccountRegistry:
    entries: tuple[AccountEntry, ...]
    source: str

    def enabled(self) -> tuple[AccountEntry, ...]:
        return tuple(entry for entry in self.entries if entry.enabled)

    def by_label(self, label: str) -> AccountEntry | None:
        return next((entry for entry in self.entries if entry.label == label), None)


def load_registry(env: Mapping[str, str]) -> AccountRegistry:
    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    file_name, inline = get(ENV_ACCOUNTS_FILE), get(ENV_ACCOUNTS)
    if file_name is not None and inline is not None:
        raise InvalidValue(
            ENV_ACCOUNTS, "(set)", f"set {ENV_ACCOUNTS_FILE} or {ENV_ACCOUNTS}, not both"
        )
    if file_name is not None:
        return parse_registry_toml(_read_file(Path(file_name)), ENV_ACCOUNTS_FILE)
    if inline is not None:
        return parse_registry_json(inline, ENV_ACCOUNTS)
    return single_account_registry(env)


def single_account_registry(env: Mapping[str, str]) -> AccountRegistry:
    """The backward-compatible default: one enabled account from the single-account settings."""

    def get(name: str, default: str) -> str:
        return env.get(name, "").strip() or default

    document = {
        "label": get(ENV_ACCOUNT_LABEL, DEFAULT_LABEL),
        "account_id": get(ENV_ACCOUNT_ID, DEFAULT_ACCOUNT_ID),
        "mode": get(ENV_ACCOUNT_MODE, AccountMode.PAPER.value),
        "venue": get(ENV_VENUE, DEFAULT_VENUE),
    }
    fields = {
        "label": ENV_ACCOUNT_LABEL,
        "account_id": ENV_ACCOUNT_ID,
        "mode": ENV_ACCOUNT_MODE,
        "venue": ENV_VENUE,
    }
    entry = _entry(document, lambda key: fields.get(key, key))
    return AccountRegistry((entry,), "single-account settings")


def _read_file(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_REGISTRY_BYTES:
            raise InvalidValue(
                ENV_ACCOUNTS_FILE, str(path), f"larger than {MAX_REGISTRY_BYTES} bytes"
            )
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidValue(
            ENV_ACCOUNTS_FILE, str(path), f"cannot read: {error.__class__.__name__}"
        ) from None


def parse_registry_toml(text: str, source: str) -> AccountRegistry:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidValue(source, "(file)", f"not valid TOML: {error}") from None
    extra = sorted(set(document) - {"accounts"})
    if extra:
        raise InvalidValue(
            f"{source} {extra[0]}", REDACTED, "unknown top-level key (only [[accounts]])"
        )
    return _registry(document.get("accounts"), source)


def parse_registry_json(text: str, source: str) -> AccountRegistry:
    if len(text) > MAX_REGISTRY_BYTES:
        raise InvalidValue(source, f"{len(text)} chars", f"larger than {MAX_REGISTRY_BYTES}")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidValue(
            source, "(json)", f"not valid JSON: {error.msg} at char {error.pos}"
        ) from None
    if isinstance(document, dict):
        extra = sorted(set(document) - {"accounts"})
        if extra:
            raise InvalidValue(f"{source} {extra[0]}", REDACTED, "unknown top-level key")
        document = document.get("accounts")
    return _registry(document, source)


def _registry(accounts: object, source: str) -> AccountRegistry:
    if not isinstance(accounts, list) or not accounts:
        raise InvalidValue(
            f"{source} accounts", type(accounts).__name__, "must be a non-empty list"
        )
    if len(accounts) > MAX_ACCOUNTS:
        raise InvalidValue(f"{source} accounts", len(accounts), f"at most {MAX_ACCOUNTS} accounts")
    entries: list[AccountEntry] = []
    for index, document in enumerate(accounts):
        where = f"{source} accounts[{index}]"
        if not isinstance(document, dict):
            raise InvalidValue(where, type(document).__name__, "must be a table/object")
        entry = _entry(document, _prefixed(where))
        for other in entries:
            if other.label == entry.label:
                raise InvalidValue(f"{where}.label", entry.label, "duplicate label")
            if other.account_id == entry.account_id:
                raise InvalidValue(
                    f"{where}.account_id", str(entry.account_id), "one lane per account: duplicate"
                )
        entries.append(entry)
    return AccountRegistry(tuple(entries), source)


def _prefixed(where: str) -> Callable[[str], str]:
    return lambda key: f"{where}.{key}"


def _entry(document: Mapping[str, object], field: Callable[[str], str]) -> AccountEntry:
    for key in document:
        if key in CREDENTIAL_KEYS:
            raise InvalidValue(
                field(key), REDACTED, "credentials belong in the vault, not the registry"
            )
        if key not in REQUIRED_KEYS and key not in OPTIONAL_KEYS:
            allowed = ", ".join(REQUIRED_KEYS + OPTIONAL_KEYS)
            raise InvalidValue(field(key), REDACTED, f"unknown key (allowed: {allowed})")
    for key in REQUIRED_KEYS:
        if key not in document:
            raise InvalidValue(field(key), None, "required")
    try:
        label = require_label(document["label"])
    except InvalidValue as error:
        raise InvalidValue(field("label"), error.value, error.problem) from None
    try:
        account_id = AccountId.from_hex(document["account_id"])
    except InvalidValue as error:
        raise InvalidValue(field("account_id"), error.value, error.problem) from None
    try:
        venue = VenueId(document["venue"])  # type: ignore[arg-type]
    except InvalidValue as error:
        raise InvalidValue(field("venue"), error.value, error.problem) from None
    mode_text = document["mode"]
    if mode_text not in {mode.value for mode in AccountMode}:
        raise InvalidValue(field("mode"), mode_text, "must be 'paper' or 'live'")
    subaccount = document.get("subaccount_index", 0)
    if (
        isinstance(subaccount, bool)
        or not isinstance(subaccount, int)
        or not 0 <= subaccount <= MAX_SUBACCOUNT_INDEX
    ):
        raise InvalidValue(
            field("subaccount_index"), subaccount, f"must be an int in [0, {MAX_SUBACCOUNT_INDEX}]"
        )
    enabled = document.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidValue(field("enabled"), enabled, "must be true or false")
    return AccountEntry(label, account_id, AccountMode(mode_text), venue, subaccount, enabled)
