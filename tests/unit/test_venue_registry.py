"""Account registry config: TOML file, AX_ACCOUNTS JSON, strict errors, one-account fallback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from axapp.venue_config import (
    DEFAULT_ACCOUNT_ID,
    AccountMode,
    load_registry,
    parse_registry_json,
)
from axdomain import AccountId, InvalidValue
from axdomain.venues import VenueId

TOML = """
[[accounts]]
label = "alpha"
account_id = "0190000000000a01"
mode = "paper"
venue = "fake"

[[accounts]]
label = "beta"
account_id = "0190000000000b02"
mode = "live"
venue = "backpack"
subaccount_index = 3
enabled = false
"""


def entry(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "label": "alpha",
        "account_id": "0190000000000a01",
        "mode": "paper",
        "venue": "fake",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(TOML)
    registry = load_registry({"AX_ACCOUNTS_FILE": str(path)})
    assert registry.source == "AX_ACCOUNTS_FILE"
    alpha, beta = registry.entries
    assert alpha.account_id == AccountId(0x0190_0000_0000_0A01) and alpha.enabled
    assert (beta.mode, beta.venue, beta.subaccount_index) == (
        AccountMode.LIVE,
        VenueId("backpack"),
        3,
    )
    assert registry.enabled() == (alpha,)
    assert registry.by_label("beta") == beta and registry.by_label("gamma") is None


def test_json_list_and_object_forms_agree() -> None:
    listed = load_registry({"AX_ACCOUNTS": json.dumps([entry()])})
    wrapped = load_registry({"AX_ACCOUNTS": json.dumps({"accounts": [entry()]})})
    assert listed.entries == wrapped.entries and len(listed.entries) == 1


def test_single_account_fallback_with_nothing_set() -> None:
    registry = load_registry({})
    (only,) = registry.entries
    assert registry.source == "single-account settings"
    assert (only.label, str(only.account_id), only.mode, only.venue.name) == (
        "default",
        DEFAULT_ACCOUNT_ID,
        AccountMode.PAPER,
        "fake",
    )
    assert only.enabled


def test_single_account_fallback_reads_the_single_account_settings() -> None:
    env = {
        "AX_ACCOUNT_LABEL": "desk",
        "AX_ACCOUNT_ID": "0190000000000d04",
        "AX_ACCOUNT_MODE": "live",
        "AX_VENUE": "backpack",
    }
    (only,) = load_registry(env).entries
    assert (only.label, only.account_id, only.mode, only.venue) == (
        "desk",
        AccountId(0x0190_0000_0000_0D04),
        AccountMode.LIVE,
        VenueId("backpack"),
    )


def test_a_bad_single_account_setting_names_its_variable() -> None:
    with pytest.raises(InvalidValue, match="AX_ACCOUNT_MODE") as err:
        load_registry({"AX_ACCOUNT_MODE": "yolo"})
    assert err.value.value == "yolo"


@pytest.mark.parametrize(
    ("accounts", "field", "problem"),
    [
        ([entry(mode="yolo")], "AX_ACCOUNTS accounts[0].mode", "paper"),
        ([entry(label=None)], "AX_ACCOUNTS accounts[0].label", "required"),
        ([entry(label="Alpha")], "AX_ACCOUNTS accounts[0].label", "a-z"),
        ([entry(account_id="0x1")], "AX_ACCOUNTS accounts[0].account_id", "16 lower-case"),
        ([entry(venue="")], "AX_ACCOUNTS accounts[0].venue", "a-z"),
        ([entry(enabled="yes")], "AX_ACCOUNTS accounts[0].enabled", "true or false"),
        ([entry(subaccount_index=True)], "AX_ACCOUNTS accounts[0].subaccount_index", "int"),
        ([entry(subaccount_index=-1)], "AX_ACCOUNTS accounts[0].subaccount_index", "int"),
        ([entry(colour="red")], "AX_ACCOUNTS accounts[0].colour", "unknown key"),
        ([entry(secret_key="s")], "AX_ACCOUNTS accounts[0].secret_key", "vault"),
        (
            [entry(), entry(account_id="0190000000000b02")],
            "AX_ACCOUNTS accounts[1].label",
            "duplicate",
        ),
        ([entry(), entry(label="beta")], "AX_ACCOUNTS accounts[1].account_id", "one lane"),
        ([], "AX_ACCOUNTS accounts", "non-empty"),
        (["alpha"], "AX_ACCOUNTS accounts[0]", "table/object"),
        ({"accounts": [entry()], "extra": 1}, "AX_ACCOUNTS extra", "unknown top-level"),
    ],
)
def test_registry_errors_name_the_field(accounts: object, field: str, problem: str) -> None:
    with pytest.raises(InvalidValue, match=problem) as err:
        parse_registry_json(json.dumps(accounts), "AX_ACCOUNTS")
    assert err.value.field == field


def test_a_credential_in_the_registry_is_refused_without_echoing_it() -> None:
    with pytest.raises(InvalidValue) as err:
        parse_registry_json(json.dumps([entry(api_key="registry-leak-7f3a")]), "AX_ACCOUNTS")
    assert "registry-leak-7f3a" not in str(err.value)


def test_malformed_documents_and_sources(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match="not valid JSON"):
        load_registry({"AX_ACCOUNTS": "[{"})
    bad = tmp_path / "bad.toml"
    bad.write_text("[[accounts]\n")
    with pytest.raises(InvalidValue, match="not valid TOML"):
        load_registry({"AX_ACCOUNTS_FILE": str(bad)})
    with pytest.raises(InvalidValue, match="cannot read") as err:
        load_registry({"AX_ACCOUNTS_FILE": str(tmp_path / "missing.toml")})
    assert err.value.field == "AX_ACCOUNTS_FILE"
    top = tmp_path / "top.toml"
    top.write_text('owner = "x"\n' + TOML)
    with pytest.raises(InvalidValue, match="unknown top-level"):
        load_registry({"AX_ACCOUNTS_FILE": str(top)})


def test_setting_both_registry_variables_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match="not both"):
        load_registry({"AX_ACCOUNTS_FILE": str(tmp_path / "a.toml"), "AX_ACCOUNTS": "[]"})
