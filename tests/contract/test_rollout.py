"""The rollout kit on SQLite and on a real PostgreSQL: a generated 1:1 database goes
through every step with the fixed reads unchanged, survives a SIGKILL mid-step, does
nothing the second time, and ends exactly where a fresh database at head is."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from axadapters.sql import SqlStores
from axadapters.sql.engine import create_sql_engine
from axadapters.sql.migrate import current_revision, head_revision
from axadapters.sql.rollout import RolloutContext, RolloutRefused, apply_step, generate_legacy
from axadapters.sql.rollout.adopt import schema_drift, structure_drift
from axadapters.sql.rollout.plan import ALL, PLAN, verify_step
from axadapters.sql.rollout.tracker import read_states
from axapp.cli import main
from axdomain import AccountId, InvalidValue, Permissions, UserId
from tests.contract.rollout_support import (
    fixed_reads,
    sample_accounts,
    sample_keys,
    snapshot,
    step_names,
)
from tests.contract.sql_support import PostgresServer, database_url

USERS = 400  # enough rows for several batches of every backfilled table
SMALL_BATCH_ROWS = 40
SUBPROCESS_PAUSE_MS = 150
PROGRESS_LINES_BEFORE_KILL = 3
REPO_SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def legacy_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on either backend (the legacy schema is the test's to create)."""
    if request.param == "sqlite":
        yield f"sqlite:///{(tmp_path / 'legacy.db').as_posix()}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_template")
    name = f"{server.run_prefix}_rollout_{uuid.uuid4().hex[:8]}"
    server.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        server.drop(name)


@pytest.fixture
def legacy(legacy_url: str) -> Iterator[Engine]:
    engine = create_sql_engine(legacy_url)
    generate_legacy(engine, USERS, seed=7)
    yield engine
    engine.dispose()


def context(engine: Engine, lines: list[str] | None = None) -> RolloutContext:
    sink = lines if lines is not None else []
    return RolloutContext(engine, sink.append, batch_rows=SMALL_BATCH_ROWS * 5)


def run_all(engine: Engine) -> None:
    for name in step_names():
        outcome = apply_step(context(engine), name)
        assert outcome.verification.ok, outcome.verification.lines()


def test_every_step_verifies_and_keeps_the_fixed_reads(legacy: Engine) -> None:
    accounts = sample_accounts(legacy)
    keys = sample_keys(legacy, accounts)
    assert len(accounts) > 60 and keys  # the edge cases are in the sample
    before = fixed_reads(legacy, accounts, keys)
    for name in step_names():
        outcome = apply_step(context(legacy), name)
        assert outcome.ran, name
        assert outcome.verification.ok, (name, outcome.verification.lines())
        assert read_states(legacy)[name].done
        assert fixed_reads(legacy, accounts, keys) == before, name
    # The library itself now reads the migrated rows.
    stores = SqlStores.on(legacy)
    for account in accounts:
        balance = stores.balances.get_balance(AccountId.from_hex(account))
        expected = before[account]["balance"]
        assert (balance is None) == (expected is None)
        assert balance is None or balance.balance_micro_usd == int(expected[0])


def test_grants_read_the_same_and_grantless_ubos_get_full_access(legacy: Engine) -> None:
    with legacy.connect() as connection:
        legacy_grants = connection.execute(
            text(
                "SELECT user_id, account_id, can_list, can_read, can_set_limits, "
                "can_reduce_or_close, can_trade FROM account_permissions"
            )
        ).all()
        grantless = (
            connection.execute(
                text(
                    "SELECT account_id FROM trading_accounts t WHERE kind = 'customer' AND NOT "
                    "EXISTS (SELECT 1 FROM account_permissions p WHERE p.account_id = t.account_id)"
                )
            )
            .scalars()
            .all()
        )
    assert grantless
    run_all(legacy)
    grants = SqlStores.on(legacy).grants
    for user, account, *flags in legacy_grants:
        names = {n for n, on in zip(Permissions.ORIGINAL_FLAG_NAMES, flags, strict=True) if on}
        expected = Permissions.FULL_ACCESS if len(names) == 5 else Permissions.from_flags(names)
        grant = grants.get_grant(UserId.from_hex(user), AccountId.from_hex(account))
        assert grant is not None and grant.permissions == expected
    for account in grantless:
        grant = grants.get_grant(UserId.from_hex(account), AccountId.from_hex(account))
        assert grant is not None and grant.permissions == Permissions.FULL_ACCESS


def test_the_end_state_is_the_library_schema_at_head(legacy: Engine) -> None:
    run_all(legacy)
    assert current_revision(legacy) == head_revision()
    assert schema_drift(legacy) == []
    assert structure_drift(legacy) == []
    product = SqlStores.on(legacy).products.create_product("ROLLED-OUT", 1)
    assert product.product_id.value == 1001  # the allocation guard came along


def test_running_the_whole_plan_twice_changes_nothing(legacy: Engine) -> None:
    run_all(legacy)
    first = snapshot(legacy)
    lines: list[str] = []
    for name in step_names():
        outcome = apply_step(context(legacy, lines), name)
        assert not outcome.ran and outcome.verification.ok
    assert lines == []
    assert snapshot(legacy) == first


@pytest.mark.parametrize(
    ("step", "progress"),
    [
        ("class-0", "trading_accounts.ubo_user_id:"),
        ("class-a", "monthly_loss_limits.account_id:"),
        ("class-b", "leaderboard.account_id:"),
    ],
)
def test_a_step_killed_mid_backfill_finishes_when_run_again(
    legacy: Engine, legacy_url: str, step: str, progress: str
) -> None:
    accounts = sample_accounts(legacy)
    keys = sample_keys(legacy, accounts)
    before = fixed_reads(legacy, accounts, keys)
    for name in step_names()[: step_names().index(step)]:
        apply_step(context(legacy), name)
    env = {**os.environ, "AX_DATABASE_URL": legacy_url, "PYTHONPATH": str(REPO_SRC)}
    args = [
        "rollout",
        "apply",
        step,
        "--batch-rows",
        str(SMALL_BATCH_ROWS),
        "--pause-ms",
        str(SUBPROCESS_PAUSE_MS),
    ]
    child = subprocess.Popen(
        [sys.executable, "-m", "axapp.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    seen = 0
    for line in child.stdout:
        seen += line.strip().startswith(progress)
        if seen == PROGRESS_LINES_BEFORE_KILL:
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait()
    assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""
    state = read_states(legacy)[step]
    assert not state.done  # killed in the middle: recorded as started only
    assert fixed_reads(legacy, accounts, keys) == before
    outcome = apply_step(context(legacy), step)
    assert outcome.ran and outcome.verification.ok, outcome.verification.lines()
    assert fixed_reads(legacy, accounts, keys) == before
    run_all(legacy)
    assert fixed_reads(legacy, accounts, keys) == before
    assert schema_drift(legacy) == [] and structure_drift(legacy) == []


def test_rows_a_legacy_writer_adds_during_the_backfill_are_caught_up(legacy: Engine) -> None:
    apply_step(context(legacy), "class-0")
    late_user = f"{0x0180_0000_0000_0001:016x}"
    with legacy.begin() as connection:
        connection.execute(
            text("INSERT INTO users VALUES (:u, 'late', 1, FALSE, FALSE, 0, 5, NULL, NULL)"),
            {"u": late_user},
        )
        connection.execute(  # onboarding after Class 0 writes the UBO (the CHECK needs it)
            text(
                "INSERT INTO trading_accounts (account_id, name, kind, ubo_user_id, is_frozen, "
                "is_close_only, maker_fee_bps, taker_fee_bps, max_open_positions, "
                "max_notional_micro_usd, monthly_loss_limit_micro_usd, created_at_ns) "
                "VALUES (:u, 'late', 'customer', :u, FALSE, FALSE, 0, 5, 10, 10, 10, 1)"
            ),
            {"u": late_user},
        )
    written: list[str] = []

    def legacy_writer(line: str) -> None:
        if line.strip().startswith("monthly_loss_limits.account_id:") and not written:
            with legacy.begin() as connection:  # the 1:1-era application: user_id only
                connection.execute(
                    text(
                        "INSERT INTO monthly_loss_limits (user_id, limit_micro_usd, "
                        "updated_at_ns) VALUES (:u, 777, 1)"
                    ),
                    {"u": late_user},
                )
            written.append(line)

    outcome = apply_step(
        RolloutContext(legacy, legacy_writer, batch_rows=SMALL_BATCH_ROWS), "class-a"
    )
    assert written and outcome.verification.ok
    with legacy.connect() as connection:
        limit = connection.execute(
            text("SELECT limit_micro_usd FROM monthly_loss_limits WHERE account_id = :a"),
            {"a": late_user},
        ).scalar_one()
    assert limit == 777


def test_steps_refuse_to_run_before_their_prerequisites(legacy: Engine) -> None:
    first = snapshot(legacy)
    for name in ("class-a", "class-b", "api-keys", "class-c", "adopt"):
        with pytest.raises(RolloutRefused) as refused:
            apply_step(context(legacy), name)
        assert refused.value.field == "step" and refused.value.value == name
    after = snapshot(legacy)
    after.pop("ax_rollout_steps")
    assert after == first


def test_class_c_refuses_to_drop_a_fee_the_account_does_not_hold(legacy: Engine) -> None:
    for name in step_names()[: step_names().index("class-c")]:
        apply_step(context(legacy), name)
    with legacy.begin() as connection:
        victim = connection.execute(text("SELECT MIN(user_id) FROM users")).scalar_one()
        connection.execute(
            text("UPDATE users SET maker_fee = maker_fee + 1 WHERE user_id = :u"), {"u": victim}
        )
    before = snapshot(legacy)
    with pytest.raises(RolloutRefused) as refused:
        apply_step(context(legacy), "class-c")
    assert victim in str(refused.value.value)
    assert not verify_step(legacy, "class-c").ok
    after = snapshot(legacy)
    assert {k: v for k, v in after.items() if k != "ax_rollout_steps"} == {
        k: v for k, v in before.items() if k != "ax_rollout_steps"
    }


def test_the_command_line_walks_the_plan(
    legacy_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AX_DATABASE_URL", legacy_url)
    assert main(["rollout", "generate-legacy", "--users", "50"]) == 0
    assert main(["rollout", "apply", "class-b"]) == 1  # refused: prerequisites
    assert "needs class-a done first" in capsys.readouterr().err
    assert main(["rollout", "apply", ALL]) == 0
    assert main(["rollout", "verify", ALL]) == 0
    capsys.readouterr()
    assert main(["rollout", "status"]) == 0
    status = capsys.readouterr().out
    assert status.startswith("Rollout tracker: 8/8 steps done, 100%")
    assert status.count(" done ") == len(step_names())


def test_an_unreachable_database_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AX_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    assert main(["rollout", "status"]) == 2  # the pre-flight check refuses, one line
    err = capsys.readouterr().err
    assert err.startswith("ax: ") and "AX_DATABASE_URL" in err and err.count("\n") == 1


def test_the_plan_is_in_the_seed_order_and_bounds_its_batches(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert step_names() == [
        "class-0",
        "class-a",
        "permissions",
        "class-b",
        "api-keys",
        "close-only-freeze",
        "class-c",
        "adopt",
    ]
    for step in PLAN:  # every prerequisite comes earlier in the plan
        assert all(
            step_names().index(need) < step_names().index(step.name) for need in step.requires
        )
    assert main(["rollout", "plan"]) == 0
    assert [line.split()[1] for line in capsys.readouterr().out.splitlines()] == step_names()
    engine = create_sql_engine(f"sqlite:///{(tmp_path / 'x.db').as_posix()}")
    for field, bad in (("batch_rows", 0), ("batch_rows", 10**6), ("pause_ms", -1)):
        with pytest.raises(InvalidValue) as caught:
            RolloutContext(engine, print, **{field: bad})
        assert caught.value.field == field
    engine.dispose()


def test_a_user_frozen_during_the_10b_copy_is_frozen_on_the_account(legacy: Engine) -> None:
    for name in step_names()[: step_names().index("close-only-freeze")]:
        apply_step(context(legacy), name)
    with legacy.connect() as connection:
        victim = connection.execute(
            text("SELECT MIN(user_id) FROM users WHERE NOT is_frozen AND NOT is_close_only")
        ).scalar_one()
    frozen: list[str] = []

    def legacy_admin(line: str) -> None:  # freezes a user the copy has already passed
        if line.strip().startswith("trading_accounts.is_frozen") and not frozen:
            with legacy.begin() as connection:
                connection.execute(
                    text("UPDATE users SET is_frozen = TRUE WHERE user_id = :u"), {"u": victim}
                )
            frozen.append(line)

    outcome = apply_step(
        RolloutContext(legacy, legacy_admin, batch_rows=SMALL_BATCH_ROWS), "close-only-freeze"
    )
    assert frozen and outcome.verification.ok
    account = SqlStores.on(legacy).accounts.get_account(AccountId.from_hex(victim))
    assert account is not None and account.is_frozen
