"""Every command-line failure is one line on stderr and exit 2, through the real entry
point (the ``ax`` console script), with no traceback and within a bounded time."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

AX = str(Path(sys.executable).with_name("ax"))
RUN_TIMEOUT_S = 60


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def run_ax(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AX_")}
    return subprocess.run(
        [AX, *args],
        env={**clean, "AX_DATA_DIR": str(cwd / "data"), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def one_line_exit_2(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("ax: ")
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


CASES = {
    "postgres port closed": (
        lambda port: {"AX_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/ax"},
        ("cannot reach PostgreSQL at AX_DATABASE_URL=postgresql://", "connection refused"),
    ),
    "database url not a url": (
        lambda port: {"AX_DATABASE_URL": "notaurl"},
        ("AX_DATABASE_URL=notaurl", "not a URL"),
    ),
    "redis port closed": (
        lambda port: {"AX_REDIS_URL": f"redis://127.0.0.1:{port}/0"},
        ("cannot reach Redis at AX_REDIS_URL=", "connection refused"),
    ),
    "tigerbeetle port closed": (
        lambda port: {"AX_TIGERBEETLE_ADDRESSES": f"127.0.0.1:{port}"},
        ("cannot reach TigerBeetle at AX_TIGERBEETLE_ADDRESSES=", "connection refused"),
    ),
    "tigerbeetle address garbage": (
        lambda port: {"AX_TIGERBEETLE_ADDRESSES": "localhost:http"},
        ("AX_TIGERBEETLE_ADDRESSES", "not [host:]port"),
    ),
    "cluster id superscript": (
        lambda port: {"AX_TIGERBEETLE_CLUSTER_ID": "\u00b2"},
        ("AX_TIGERBEETLE_CLUSTER_ID", "ASCII decimal digits"),
    ),
    "cluster id arabic-indic digits": (
        lambda port: {"AX_TIGERBEETLE_CLUSTER_ID": "\u0661\u0662\u0663"},
        ("AX_TIGERBEETLE_CLUSTER_ID", "ASCII decimal digits"),
    ),
    "cluster id over u128": (
        lambda port: {"AX_TIGERBEETLE_CLUSTER_ID": str(1 << 128)},
        ("AX_TIGERBEETLE_CLUSTER_ID",),
    ),
    "key pepper not hex": (
        lambda port: {"AX_KEY_PEPPER": "zz"},
        ("AX_KEY_PEPPER",),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_misconfigured_service_is_one_line_and_exit_2(case: str, tmp_path: Path) -> None:
    env_of, needles = CASES[case]
    one_line_exit_2(run_ax(["audit"], env_of(closed_port()), tmp_path), *needles)


@pytest.mark.parametrize(
    "command",
    [
        ["demo"],
        ["serve"],
        ["operator", "create", "ops"],
        ["audit", "who-could", "--account", "0190000000000001", "--at", "1"],
        ["backfill-permissions"],
    ],
)
@pytest.mark.parametrize("case", ["postgres port closed", "redis port closed"])
def test_every_command_reports_an_unreachable_service(
    case: str, command: list[str], tmp_path: Path
) -> None:
    env_of, needles = CASES[case]
    one_line_exit_2(run_ax(command, env_of(closed_port()), tmp_path), *needles)


def test_tigerbeetle_address_that_is_not_tigerbeetle_times_out(tmp_path: Path) -> None:
    """Something accepts TCP but never answers as a replica: a bounded wait, not a hang."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        result = run_ax(["audit"], {"AX_TIGERBEETLE_ADDRESSES": f"127.0.0.1:{port}"}, tmp_path)
    one_line_exit_2(result, "TigerBeetle", "no TigerBeetle answer")


def test_serve_on_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_ax(["serve", "--port", str(port)], {}, tmp_path)
    one_line_exit_2(result, "--host/--port", f"127.0.0.1:{port}")


def test_version_and_audit_on_embedded_defaults(tmp_path: Path) -> None:
    version = run_ax(["--version"], {}, tmp_path)
    assert version.returncode == 0
    assert version.stdout.startswith("ax ")
    audit = run_ax(["audit"], {}, tmp_path)
    assert audit.returncode == 0, audit.stderr
    assert "total violations: 0" in audit.stdout
    assert "G1=0" in audit.stdout


def test_operator_create_prints_only_the_token(tmp_path: Path) -> None:
    result = run_ax(["operator", "create", "ops"], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith("axo_")
