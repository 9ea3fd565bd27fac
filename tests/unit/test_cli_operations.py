"""The operational commands through the real entry point: backfill and Redis rekey."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from axadapters.sql.stores import open_sql_stores
from axapp.bootstrap import application
from axapp.cli import main
from axapp.config import Config
from axapp.gateway import AuthenticationError
from axapp.runtime import open_runtime
from axdomain import Account, AccountId, AccountKind, Permissions, User, UserId
from tests.conftest import unavailable_service

ALICE = UserId(0x0190_0000_0000_0001)
ISOLATED_REDIS_DB_URL = "redis://127.0.0.1:6379/15"


def test_backfill_permissions_grants_the_ubo_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'ax.sqlite'}"
    stores = open_sql_stores(url)
    stores.users.add_user(User(ALICE, "alice", 0))
    desk = AccountId(0x0190_0000_0000_00D0)
    stores.accounts.add_account(Account(desk, "desk", AccountKind.CUSTOMER, ALICE, 0))
    stores.close()
    monkeypatch.setenv("AX_DATABASE_URL", url)
    assert main(["backfill-permissions"]) == 0
    assert "grants created: 1" in capsys.readouterr().out
    assert main(["backfill-permissions"]) == 0
    assert "grants created: 0" in capsys.readouterr().out
    stores = open_sql_stores(url)
    grant = stores.grants.get_grant(ALICE, desk)
    stores.close()
    assert grant is not None and grant.permissions == Permissions.FULL_ACCESS


def test_rekey_redis_dry_run_reports_counts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import redis

    client = redis.Redis.from_url(ISOLATED_REDIS_DB_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        unavailable_service("Redis", str(error))
    client.flushdb()
    client.set("risk:not-an-id", b"{}")
    monkeypatch.setenv("AX_REDIS_URL", ISOLATED_REDIS_DB_URL)
    try:
        assert main(["rekey-redis", "--dry-run"]) == 0
        report = json.loads(capsys.readouterr().out.splitlines()[-1])
        assert report["scanned"] == 1
        assert report["skipped_invalid"] == 1
        assert client.get("risk:not-an-id") == b"{}"
    finally:
        client.flushdb()
        client.close()


def test_rekey_redis_needs_a_redis_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AX_REDIS_URL", raising=False)
    assert main(["rekey-redis"]) == 2
    assert "AX_REDIS_URL is not set" in capsys.readouterr().out


def test_config_reads_the_environment_and_rejects_a_bad_cluster_id() -> None:
    from axapp.config import Config
    from axdomain import InvalidValue

    config = Config.from_env(
        {"AX_DATA_DIR": "d", "AX_REDIS_URL": " redis://x ", "AX_TIGERBEETLE_CLUSTER_ID": "7"}
    )
    assert (config.data_dir, config.redis_url, config.database_url) == (
        Path("d"),
        "redis://x",
        None,
    )
    assert config.tigerbeetle_cluster_id == 7
    assert config.effective_database_url == "sqlite:///d/ax.sqlite"
    with pytest.raises(InvalidValue) as error:
        Config.from_env({"AX_TIGERBEETLE_CLUSTER_ID": "-1"})
    assert error.value.field == "AX_TIGERBEETLE_CLUSTER_ID"


def test_operator_create_prints_only_the_token_and_revoke_disarms_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AX_")}
    env["AX_DATA_DIR"] = str(tmp_path)

    def ax(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "axapp.cli", *argv],
            check=False,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    created = ax("operator", "create", "night-desk")
    assert created.returncode == 0, created.stderr
    lines = created.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("axo_") and len(lines[0]) > 80
    with open_runtime(Config(data_dir=tmp_path)) as runtime:
        app = application(runtime)
        assert app.gateway.authenticate(lines[0]).name == "night-desk"  # type: ignore[union-attr]
    assert ax("operator", "create", "night-desk").returncode == 1  # one name, one operator
    assert ax("operator", "revoke", "night-desk").returncode == 0
    with open_runtime(Config(data_dir=tmp_path)) as runtime:
        app = application(runtime)
        with pytest.raises(AuthenticationError):
            app.gateway.authenticate(lines[0])


def test_repair_reports_drift_per_account_and_reprojects_from_the_ledger(tmp_path: Path) -> None:
    import sqlite3

    from axapp.demo import run_demo

    assert run_demo(io.StringIO(), Config(data_dir=tmp_path)) == 0
    data = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AX_")}
    env["AX_DATA_DIR"] = str(data)

    def ax(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "axapp.cli", *argv],
            check=False,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    clean = ax("repair", "--check")
    assert clean.returncode == 0 and "drift: 0 finding(s)" in clean.stdout
    with sqlite3.connect(data / "ax.sqlite") as db:
        account = db.execute("SELECT account_id FROM account_events LIMIT 1").fetchone()[0]
        db.execute("DELETE FROM account_events WHERE account_id = ?", (account,))
        db.execute("DELETE FROM position_records")
    drifted = ax("repair", "--check")
    assert drifted.returncode == 1
    assert f"{account}: sequence numbers: missing [1" in drifted.stdout
    assert "position records" in drifted.stdout
    repaired = ax("repair")
    assert repaired.returncode == 0 and "drift now: 0" in repaired.stdout
    assert ax("repair", "--check").returncode == 0
