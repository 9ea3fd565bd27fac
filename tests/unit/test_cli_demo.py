from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from axapp.cli import main
from axapp.config import Config
from axapp.demo import run_demo


def test_demo_runs_end_to_end_with_zero_violations(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_demo(out, Config(data_dir=tmp_path)) == 0
    text = out.getvalue()
    for expected in (
        "reason=NOT_PERMITTED",
        "reason=NO_GRANT",
        "reason=KEY_SCOPE",
        "reason=ALLOWED",
        "reason=CLOSE_ONLY",
        "retry with the same key returns the first transfer: True",
        "OrderRejected: no such instrument",
        "OrderRejected: delisted",
        "delist allowed: False",
        "delist allowed after settlement: True",
        "InsufficientFunds",
        "the key is disarmed at once",
        "G1=0  G2=0  G3=0  U1=0  U2=0  U3=0  U4=0  U5=0  P1=0  P2=0  P3=0  P4=0",
        "resume(scan) == live state: True",
        "order log == book: True",
        "total violations: 0",
    ):
        assert expected in text, expected
    disarmed = text.split("the key is disarmed at once")[1]
    assert "DENY  bob key" in disarmed and "reason=NO_GRANT" in disarmed
    assert (tmp_path / "demo" / "ledger.journal").stat().st_size > 0
    assert (tmp_path / "demo" / "ax.sqlite").exists()


def test_demo_can_run_twice_in_the_same_data_folder(tmp_path: Path) -> None:
    for _ in range(2):
        assert run_demo(io.StringIO(), Config(data_dir=tmp_path)) == 0


def test_cli_rejects_unknown_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-command"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_ax_entry_point_runs_the_demo_in_a_subprocess(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AX_")}
    env["AX_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "axapp.cli", "demo"],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "total violations: 0" in done.stdout
