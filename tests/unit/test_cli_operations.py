"""The operational commands through the real entry point: backfill and Redis rekey."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from axadapters.sql.stores import open_sql_stores
from axapp.cli import main
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
