"""``ax serve`` through the entry point: starts on embedded defaults (schema created on first
start), answers with an operator token from ``ax operator create``, stops on SIGTERM; and
``ax audit who-could`` answers from the audit trail."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from axapp.bootstrap import application, create_operator, load_pepper
from axapp.cli import main
from axapp.config import Config
from axapp.runtime import open_runtime
from axdomain import Permissions

AX = str(Path(sys.executable).with_name("ax"))
WAIT_S = 60


def test_serve_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AX_")}
    env["AX_DATA_DIR"] = str(tmp_path / "data")
    token = subprocess.run(
        [AX, "operator", "create", "ops"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert token.count("\n") == 1
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [AX, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == f"ax serve: listening on http://127.0.0.1:{port}"
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/admin/invariants",
            headers={"Authorization": f"Bearer {token.strip()}"},
        )
        with urllib.request.urlopen(request, timeout=WAIT_S) as answer:
            report = json.loads(answer.read())
        assert report["violations"] == []
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json", timeout=WAIT_S) as r:
            assert json.loads(r.read())["openapi"].startswith("3.1")
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(WAIT_S)
    assert code == 0
    assert server.stderr is not None and "Traceback" not in server.stderr.read()


def test_who_could_names_the_users_and_their_grants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = Config(data_dir=tmp_path)
    with open_runtime(config) as runtime:
        app = application(runtime)
        ops = app.gateway.authenticate(create_operator(runtime.stores, "ops", load_pepper(config)))
        alice, alice_default = app.operator.onboard_user(ops, "alice")
        carol, _ = app.operator.onboard_user(ops, "carol")
        alice_s = app.gateway.authenticate(app.operator.issue_session(ops, alice.user_id))
        carol_s = app.gateway.authenticate(app.operator.issue_session(ops, carol.user_id))
        account = alice_default.account_id
        app.membership.grant(alice_s, account, carol.user_id, Permissions.READ_ONLY)
        app.reads.balances(carol_s, account)
        granted_at = runtime.stores.clock.now_ns()
        app.membership.revoke(alice_s, account, carol.user_id)
        with pytest.raises(Exception, match="no_grant"):
            app.reads.balances(carol_s, account)
    monkeypatch.setenv("AX_DATA_DIR", str(tmp_path))
    assert main(["audit", "who-could", "--account", str(account), "--at", str(granted_at)]) == 0
    then = capsys.readouterr().out
    assert f"user {carol.user_id}: list,read via grant" in then
    assert f"user {alice.user_id}: list,read,set_limits" in then
    assert main(["audit", "who-could", "--account", str(account), "--at", "2999-01-01T00:00Z"]) == 0
    later = capsys.readouterr().out
    assert f"user {carol.user_id}: nothing (no grant" in later
    assert main(["audit", "who-could", "--account", "xyz", "--at", "1"]) == 1
