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
    kill = ["lanes", "kill", "alpha", "--operator-id", "op-3", "--operator-name", "Sam"]
    assert main([*kill, "--reason", "drill"]) == 0
    assert main(["lanes", "status"]) == 0
    status = capsys.readouterr().out
    alpha_line = next(line for line in status.splitlines() if line.startswith("alpha"))
    beta_line = next(line for line in status.splitlines() if line.startswith("beta"))
    assert "KILLED by Sam (op-3)" in alpha_line and "never-ran" in alpha_line
    assert " no " in beta_line and beta_line.endswith("off")
    release = ["lanes", "release", "alpha", "--operator-id", "op-3", "--operator-name", "Sam"]
    assert main([*release, "--reason", "done"]) == 0
    assert main(["lanes", "status"]) == 0
    assert "KILLED" not in capsys.readouterr().out
    assert (
        main(
            [
                "lanes",
                "kill",
                "gamma",
                "--operator-id",
                "o",
                "--operator-name",
                "n",
                "--reason",
                "r",
            ]
        )
        == 2
    )


def test_a_bad_registry_is_reported_as_a_typed_error(tmp_path: Path) -> None:
    done = _run(tmp_path, "lanes", "status", AX_ACCOUNTS='[{"label": "x"}]')
    assert done.returncode == 1
    assert "InvalidValue: AX_ACCOUNTS accounts[0].account_id=None: required" in done.stderr
    assert "Traceback" not in done.stderr


def test_lanes_demo_entry_point(tmp_path: Path) -> None:
    done = _run(tmp_path, "lanes", "demo")
    assert done.returncode == 0, done.stderr
    assert "orders placed:" in done.stdout
