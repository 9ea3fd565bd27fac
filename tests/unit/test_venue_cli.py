"""``ax lanes demo|status|kill|release`` through the real command line."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from axapp.cli import main
from axapp.lanes.showcase import run_lanes_demo

ROOT = Path(__file__).resolve().parents[2]


def test_lanes_demo_shows_two_trading_lanes_a_read_only_share_and_a_recovery() -> None:
    out = io.StringIO()
    assert run_lanes_demo(out) == 0
    text = out.getvalue()
    for expected in (
        "trade     -> level_too_low",
        "read      -> allowed",
        "lane_failed",
        "lane_recovered",
        "order_blocked_kill_switch",
        "order_blocked_credential",
        "[ok] alpha kept trading during beta's outage",
        "[ok] the read-only watcher placed no order",
    ):
        assert expected in text, expected
    assert "FAILED" not in text


def _run(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AX_")}
    env.update({"AX_DATA_DIR": str(tmp_path), **extra})
    return subprocess.run(
        [sys.executable, "-m", "axapp.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def operator_token(data_dir: Path, name: str) -> str:
    """An operator minted the way ``ax operator create`` does, in the same data folder."""
    from axapp.bootstrap import create_operator, load_pepper
    from axapp.config import Config
    from axapp.runtime import open_runtime

    config = Config(data_dir=data_dir)
    with open_runtime(config) as runtime:
        return create_operator(runtime.stores, name, load_pepper(config))


def test_status_kill_and_release_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = (
        '[{"label": "alpha", "account_id": "0190000000000a01", "mode": "paper", "venue": "fake"},'
        ' {"label": "beta", "account_id": "0190000000000b02", "mode": "paper", "venue": "fake",'
        ' "enabled": false}]'
    )
    for name in [k for k in os.environ if k.startswith("AX_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AX_ACCOUNTS", accounts)
    kill = ["lanes", "kill", "alpha"]
    assert main([*kill, "--reason", "drill"]) == 2  # no operator token: refused
    monkeypatch.setenv("AX_OPERATOR_TOKEN", "axo_" + "0" * 16 + "_" + "ab" * 32)
    assert main([*kill, "--reason", "drill"]) == 2  # not a live operator
    monkeypatch.setenv("AX_OPERATOR_TOKEN", operator_token(tmp_path, "Sam"))
    assert main([*kill, "--reason", "drill"]) == 0
    assert main(["lanes", "status"]) == 0
    status = capsys.readouterr().out
    alpha_line = next(line for line in status.splitlines() if line.startswith("alpha"))
    beta_line = next(line for line in status.splitlines() if line.startswith("beta"))
    assert "KILLED by Sam (" in alpha_line and "never-ran" in alpha_line
    assert " no " in beta_line and beta_line.endswith("off")
    release = ["lanes", "release", "alpha"]
    assert main([*release, "--reason", "done"]) == 0
    assert main(["lanes", "status"]) == 0
    assert "KILLED" not in capsys.readouterr().out
    assert (
        main(
            [
                "lanes",
                "kill",
                "gamma",
                "--reason",
                "r",
            ]
        )
        == 2
    )


def test_a_bad_registry_is_reported_as_a_typed_error(tmp_path: Path) -> None:
    done = _run(tmp_path, "lanes", "status", AX_ACCOUNTS='[{"label": "x"}]')
    assert done.returncode == 2  # a misconfiguration: one line naming the variable, exit 2
    assert "ax: AX_ACCOUNTS accounts[0].account_id=None: required" in done.stderr
    assert "Traceback" not in done.stderr


def test_lanes_demo_entry_point(tmp_path: Path) -> None:
    done = _run(tmp_path, "lanes", "demo")
    assert done.returncode == 0, done.stderr
    assert "orders placed:" in done.stdout


def test_lanes_on_the_sql_database_are_seen_and_steered_by_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from axapp.config import Config
    from axapp.lanes import FakeVenue
    from axapp.lanes.manual_clock import ManualClock
    from axapp.lanes.runtime import open_lane_runtime
    from axdomain import AccountId
    from axdomain.venues import (
        CredentialKey,
        CredentialRef,
        LaneEventKind,
        SecretText,
        VenueCredential,
        VenueId,
    )

    for name in [k for k in os.environ if k.startswith("AX_")]:
        monkeypatch.delenv(name)
    env = {
        "AX_DATA_DIR": str(tmp_path),
        "AX_ACCOUNT_LABEL": "solo",
        "AX_ACCOUNT_ID": "0190000000000a01",
        "AX_CREDENTIAL_KEYS": "k1:" + "A" * 43 + "=",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    venue = FakeVenue()
    credential = VenueCredential(
        CredentialRef(CredentialKey(AccountId(0x0190_0000_0000_0A01), VenueId("fake")), "fx-1"),
        api_key=SecretText("pk"),
        api_secret=SecretText("sk"),
    )
    venue.provision("fx-1", credential)
    clock = ManualClock(1)
    with open_lane_runtime(Config.from_env(env), env, connector=venue, clock=clock) as runtime:
        runtime.vault.put_credential(credential)
        for _ in range(3):
            runtime.supervisor.run_round()
            venue.advance()
        monkeypatch.setenv("AX_OPERATOR_TOKEN", operator_token(tmp_path, "Kim"))
        assert main(["lanes", "kill", "solo", "--reason", "halt"]) == 0
        runtime.supervisor.run_round()
        assert len(runtime.events.events("solo", LaneEventKind.ORDER_PLACED)) == 3
        assert runtime.events.events("solo", LaneEventKind.ORDER_BLOCKED_KILL_SWITCH)
    capsys.readouterr()
    assert main(["lanes", "status"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("solo"))
    assert "healthy" in line and "KILLED by Kim (" in line
    assert line.split()[7:9] == ["3", "3"]  # orders placed, last cursor
