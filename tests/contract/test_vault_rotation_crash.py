"""``ax credentials rotate`` killed (SIGKILL) inside a batch, then run again, on SQLite and
real PostgreSQL: committed batches stay rotated, the batch in progress rolls back whole,
every row stays readable throughout, and the re-run finishes the job."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from axadapters.sql.engine import create_sql_engine
from axadapters.sql.migrate import upgrade
from axadapters.vault.keyring import CredentialKeyring
from axadapters.vault.sql import SqlCredentialVault
from axdomain import AccountId
from axdomain.venues import CredentialKey, CredentialRef, SecretText, VenueCredential, VenueId
from tests.contract.sql_support import PostgresDatabases

ROOT = Path(__file__).resolve().parents[2]
ROWS, BATCH, BLOCK_AT_SEAL = 40, 5, 13  # two batches commit, the third is in flight
OLD = "k1:" + base64.b64encode(bytes(range(32))).decode()
NEW = "k2:" + base64.b64encode(bytes(range(100, 132))).decode()


def credentials() -> list[VenueCredential]:
    return [
        VenueCredential(
            CredentialRef(CredentialKey(AccountId(0x0190_0000_0000_1000 + n), VenueId("fake"))),
            api_key=SecretText(f"pk-{n}"),
            api_secret=SecretText(f"rotation-secret-{n}"),
        )
        for n in range(ROWS)
    ]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AX_")}
    env["AX_CREDENTIAL_KEYS"] = f"{NEW},{OLD}"
    return env


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'rotation.db'}"
        engine = create_sql_engine(url)
        upgrade(engine)
        engine.dispose()
        return url
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    return databases.new_url()


def test_rotation_killed_mid_batch_then_rerun(database_url: str) -> None:
    engine = create_sql_engine(database_url)
    try:
        stored = credentials()
        old_vault = SqlCredentialVault(engine, CredentialKeyring.parse(OLD))
        for credential in stored:
            old_vault.put_credential(credential)

        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.contract.rotation_child",
                database_url,
                str(BLOCK_AT_SEAL),
                str(BATCH),
            ],
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        lines = []
        for line in child.stdout:
            lines.append(line.strip())
            if line.strip() == "BLOCKED":
                break
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        assert lines == ["BATCH", "BATCH", "BLOCKED"]

        both = SqlCredentialVault(engine, CredentialKeyring.parse(f"{NEW},{OLD}"))
        assert dict(both.key_usage()) == {"k1": ROWS - 2 * BATCH, "k2": 2 * BATCH}
        assert [both.get_credential(c.key) for c in stored] == stored

        rerun = subprocess.run(
            [sys.executable, "-m", "axapp.cli", "credentials", "rotate", "--batch-size", "7"],
            cwd=ROOT,
            env={**child_env(), "AX_DATABASE_URL": database_url},
            capture_output=True,
            text=True,
            check=False,
        )
        assert rerun.returncode == 0, rerun.stderr
        reports = [json.loads(line) for line in rerun.stdout.splitlines()]
        assert reports[0] == {"before": {"k1": ROWS - 2 * BATCH, "k2": 2 * BATCH}}
        assert reports[-1] == {"after": {"k2": ROWS}}
        assert "rotation-secret" not in rerun.stdout + rerun.stderr

        only_new = SqlCredentialVault(engine, CredentialKeyring.parse(NEW))
        assert [only_new.get_credential(c.key) for c in stored] == stored
    finally:
        engine.dispose()


def test_rotate_without_keys_is_a_clear_misconfiguration(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AX_")}
    env["AX_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "axapp.cli", "credentials", "rotate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "AX_CREDENTIAL_KEYS is not set" in done.stdout
