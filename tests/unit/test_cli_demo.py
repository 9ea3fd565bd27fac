from __future__ import annotations

import io
import subprocess
import sys

import pytest

from axapp.cli import main
from axapp.demo import run_demo


def test_demo_shows_allowed_and_denied_decisions_with_reasons() -> None:
    out = io.StringIO()
    assert run_demo(out) == 0
    text = out.getvalue()
    for expected in (
        "reason=NOT_PERMITTED",
        "reason=NO_GRANT",
        "reason=KEY_SCOPE",
        "reason=ALLOWED",
        "the key is disarmed at once",
    ):
        assert expected in text
    disarmed = text.split("the key is disarmed at once")[1]
    assert "DENY  alice key" in disarmed and "reason=NO_GRANT" in disarmed


def test_cli_rejects_unknown_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-command"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_ax_entry_point_runs_the_demo_in_a_subprocess() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "axapp.cli", "demo"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "audit trail:" in done.stdout
