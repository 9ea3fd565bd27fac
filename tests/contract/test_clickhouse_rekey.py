"""The rekey playbooks on embedded chDB, from the legacy user-keyed fixture.

Crash tests run the playbook in a child process that SIGKILLs itself at a chosen step (the
parent holds no chDB client meanwhile: one process per folder), then finish it here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from axadapters.clickhouse import ClickHouseAnalyticsStore, chdb_dsn, connect, open_clickhouse
from axadapters.clickhouse.client import Session
from axadapters.clickhouse.rekey import (
    TARGETS,
    Playbooks,
    create_legacy_schema,
    load_legacy_rows,
)
from axapp.cli import main
from axdomain.analytics import NS_PER_DAY, Rollup
from axdomain.cache import RiskSnapshot
from axdomain.errors import Conflict, InvalidValue
from axdomain.ids import AccountId

DATABASE = "legacy"
ACCOUNTS = [0x0190_0000_0000_0000 + i for i in range(40)]
START_NS = 1_767_225_600 * 1_000_000_000  # 2026-01-01
STEP_NS = 9 * NS_PER_DAY  # 12 rows per account over ~4 months: several partitions
NOW_NS = time.time_ns()
END_NS = 1 << 62


def open_session(folder: Path) -> Session:
    return Session(connect(chdb_dsn(folder)))


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    """A chDB folder holding the legacy fixture; no client left open."""
    session = open_session(tmp_path / "chdb")
    create_legacy_schema(session, DATABASE)
    load_legacy_rows(
        session,
        DATABASE,
        accounts=ACCOUNTS,
        positions_per_account=12,
        start_ns=START_NS,
        step_ns=STEP_NS,
        snapshots_start_ns=NOW_NS - 2 * 3600 * 1_000_000_000,
    )
    session.close()
    yield tmp_path / "chdb"


def reader_answers(session: Session) -> list[object]:
    store = ClickHouseAnalyticsStore(session.client, DATABASE)
    answers: list[object] = []
    for value in ACCOUNTS[::7]:
        account = AccountId(value)
        answers.append(
            (
                store.latest_positions(account),
                store.positions_between(account, 0, END_NS),
                store.transactions_between(account, 0, END_NS),
                store.risk_snapshots_between(account, 0, END_NS),
                store.risk_rollups(account, Rollup.HOUR, 0, END_NS),
                store.risk_rollups(account, Rollup.DAY, 0, END_NS),
            )
        )
    return answers


def per_partition(session: Session, table: str) -> dict[str, tuple[int, int]]:
    key = ", ".join(TARGETS[table.removesuffix("_old")].natural_key)
    rows = session.rows(
        f"SELECT _partition_id, count(), uniqExact(({key})) FROM `{DATABASE}`.`{table}` "
        "GROUP BY _partition_id ORDER BY _partition_id"
    )
    return {str(p): (int(n), int(k)) for p, n, k in rows}


def sorting_key(session: Session, table: str) -> str | None:
    return Playbooks(session, DATABASE).sorting_key(table)


def run_until_killed(folder: Path, mode: str, table: str, step: str) -> int:
    """Run one playbook in a child that SIGKILLs itself when ``step`` is reached."""
    script = textwrap.dedent(
        f"""
        import os, signal, time
        from axadapters.clickhouse import chdb_dsn, connect
        from axadapters.clickhouse.client import Session
        from axadapters.clickhouse.rekey import Playbooks
        from pathlib import Path

        def hook(name):
            if name == {step!r}:
                os.kill(os.getpid(), signal.SIGKILL)

        session = Session(connect(chdb_dsn(Path({str(folder)!r}))))
        playbooks = Playbooks(session, {DATABASE!r}, hook=hook)
        getattr(playbooks, {mode!r})({table!r}, now_ns=time.time_ns())
        print("finished without reaching the kill point")
        """
    )
    child = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert child.returncode == -signal.SIGKILL, (child.returncode, child.stdout, child.stderr)
    return child.returncode


# ---------------------------------------------------------------------- rebuild


def test_rebuild_positions_keeps_every_row_and_every_answer(folder: Path) -> None:
    session = open_session(folder)
    try:
        before_answers = reader_answers(session)
        before = per_partition(session, "positions")
        assert len(before) >= 3
        report = Playbooks(session, DATABASE).rebuild("positions", now_ns=NOW_NS)
        assert [c.partition_id for c in report.partitions] == sorted(before)
        assert all(c.old_rows == c.new_rows for c in report.partitions)
        assert sorting_key(session, "positions") == (
            "account_id, timestamp_ns, sequence_number, symbol"
        )
        assert sorting_key(session, "positions_old") == (
            "user_id, timestamp_ns, sequence_number, symbol"
        )
        assert per_partition(session, "positions") == before
        assert per_partition(session, "positions_old") == before
        assert reader_answers(session) == before_answers
        again = Playbooks(session, DATABASE).rebuild("positions", now_ns=NOW_NS)
        assert not again.changed
        assert again.lines() == ["positions: nothing to do (rebuild already complete)"]
    finally:
        session.close()


@pytest.mark.parametrize("step", ["created", "cleared:202602", "copied:202602", "exchanged"])
def test_rebuild_killed_then_rerun_finishes_without_duplicates(folder: Path, step: str) -> None:
    session = open_session(folder)
    before = per_partition(session, "transactions")
    before_answers = reader_answers(session)
    session.close()
    run_until_killed(folder, "rebuild", "transactions", step)
    session = open_session(folder)
    try:
        report = Playbooks(session, DATABASE).rebuild("transactions", now_ns=NOW_NS)
        assert report.changed
        assert sorting_key(session, "transactions") == "timestamp, account_id, sequence_number"
        after = per_partition(session, "transactions")
        assert after == before
        assert all(rows == keys for rows, keys in after.values())  # no duplicate rows
        assert reader_answers(session) == before_answers
        assert not Playbooks(session, DATABASE).rebuild("transactions", now_ns=NOW_NS).changed
    finally:
        session.close()


def test_a_partial_partition_copy_is_replaced_not_added_to(folder: Path) -> None:
    session = open_session(folder)
    try:
        playbooks = Playbooks(session, DATABASE, hook=_stop_at("copied:202601"))
        with pytest.raises(_Stopped):
            playbooks.rebuild("positions", now_ns=NOW_NS)
        # A killed INSERT leaves part of a partition: simulate half of one.
        session.command(
            f"INSERT INTO `{DATABASE}`.positions_new SELECT * FROM `{DATABASE}`.positions "
            "WHERE _partition_id = '202602' AND sequence_number % 2 = 0"
        )
        Playbooks(session, DATABASE).rebuild("positions", now_ns=NOW_NS)
        after = per_partition(session, "positions")
        assert after == per_partition(session, "positions_old")
        assert all(rows == keys for rows, keys in after.values())
    finally:
        session.close()


class _Stopped(Exception):
    pass


def _stop_at(step: str) -> Callable[[str], None]:
    def hook(name: str) -> None:
        if name == step:
            raise _Stopped(name)

    return hook


# ---------------------------------------------------------------------- drain


def drain_family(session: Session) -> None:
    playbooks = Playbooks(session, DATABASE)
    with pytest.raises(Conflict):
        playbooks.drain("risk_snapshots", now_ns=NOW_NS)  # its views still read user_id
    playbooks.drain("risk_snapshots_1h", now_ns=NOW_NS)
    playbooks.rebuild("risk_snapshots_1d", now_ns=NOW_NS)
    playbooks.drain("risk_snapshots", now_ns=NOW_NS)


def test_drain_repoints_views_and_keeps_old_rows_readable(folder: Path) -> None:
    session = open_session(folder)
    try:
        before_answers = reader_answers(session)
        drain_family(session)
        for table in ("risk_snapshots", "risk_snapshots_1h", "risk_snapshots_1d"):
            assert sorting_key(session, table) == TARGETS[table].spec.order_by[0] + (
                ", timestamp_ns" if table == "risk_snapshots" else ", bucket_timestamp_ns"
            )
        views = dict(
            session.rows(
                "SELECT name, create_table_query FROM system.tables "
                f"WHERE database = '{DATABASE}' AND engine = 'MaterializedView'"
            )
        )
        for rollup in ("risk_snapshots_1h", "risk_snapshots_1d"):
            ddl = views[f"{rollup}_mv"]
            assert f"TO {DATABASE}.{rollup} " in ddl
            assert "user_id" not in ddl
        assert session.scalar(f"SELECT count() FROM `{DATABASE}`.risk_snapshots") == 0
        assert reader_answers(session) == before_answers  # old rows read through *_old

        store = ClickHouseAnalyticsStore(session.client, DATABASE)
        account = AccountId(ACCOUNTS[0])
        fresh = RiskSnapshot(account, None, 5, 1, 1, 0, NOW_NS + 3_600_000_000_000)
        store.write_risk_snapshots([fresh])
        assert session.scalar(f"SELECT count() FROM `{DATABASE}`.risk_snapshots") == 1
        snapshots = store.risk_snapshots_between(account, 0, END_NS)
        assert snapshots[-1] == fresh
        assert len(snapshots) == 4  # three legacy rows from *_old, one new
        hours = store.risk_rollups(account, Rollup.HOUR, 0, END_NS)
        assert hours[-1].last_as_of_ns == fresh.as_of_ns
        assert hours[-1].equity_last_micro_usd == 5
        assert sum(h.samples for h in hours) == 4

        playbooks = Playbooks(session, DATABASE)
        for table in ("risk_snapshots", "risk_snapshots_1h"):
            assert not playbooks.drain(table, now_ns=NOW_NS).changed
        lines = playbooks.drop_old(now_ns=NOW_NS)
        assert "risk_snapshots_old: kept, 120 rows not yet past the 7-day TTL" in lines
        assert "risk_snapshots_1d_old: dropped" in lines
        assert (
            playbooks.drop_old(now_ns=NOW_NS + 8 * NS_PER_DAY)[0] == "risk_snapshots_old: dropped"
        )
        assert store.risk_snapshots_between(account, 0, END_NS) == [fresh]
        for table, target in TARGETS.items():  # after drop-old, every re-run is a no-op
            if table.startswith("risk_snapshots"):
                assert not getattr(playbooks, target.mode)(table, now_ns=NOW_NS).changed
    finally:
        session.close()


def test_playbooks_on_the_native_layout_do_nothing(tmp_path: Path) -> None:
    store = open_clickhouse(chdb_dsn(tmp_path / "chdb"), DATABASE)
    try:
        playbooks = Playbooks(store.session, DATABASE)
        for table, target in TARGETS.items():
            report = getattr(playbooks, target.mode)(table, now_ns=NOW_NS)
            assert report.lines() == [f"{table}: nothing to do ({target.mode} already complete)"]
        assert playbooks.drop_old(now_ns=NOW_NS) == ["no *_old table to drop"]
    finally:
        store.close()


@pytest.mark.parametrize("step", ["view_dropped", "exchanged", "renamed", "view_created"])
def test_drain_killed_then_rerun_finishes(folder: Path, step: str) -> None:
    session = open_session(folder)
    before_answers = reader_answers(session)
    session.close()
    run_until_killed(folder, "drain", "risk_snapshots_1h", step)
    session = open_session(folder)
    try:
        report = Playbooks(session, DATABASE).drain("risk_snapshots_1h", now_ns=NOW_NS)
        assert report.changed
        assert sorting_key(session, "risk_snapshots_1h") == "account_id, bucket_timestamp_ns"
        assert reader_answers(session) == before_answers
        assert not Playbooks(session, DATABASE).drain("risk_snapshots_1h", now_ns=NOW_NS).changed
    finally:
        session.close()


def test_playbooks_refuse_unknown_tables_and_modes(folder: Path) -> None:
    session = open_session(folder)
    try:
        with pytest.raises(InvalidValue):
            Playbooks(session, DATABASE).rebuild("risk_snapshots", now_ns=NOW_NS)
        with pytest.raises(InvalidValue):
            Playbooks(session, DATABASE).drain("positions", now_ns=NOW_NS)
    finally:
        session.close()


# ---------------------------------------------------------------------- command line


def test_cli_runs_the_playbooks_and_reports(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AX_DATA_DIR", str(folder.parent))
    monkeypatch.delenv("AX_CLICKHOUSE_DSN", raising=False)
    base = ["clickhouse", "--database", DATABASE]
    assert main([*base, "rekey", "rebuild", "positions"]) == 0
    out = capsys.readouterr().out
    assert "exchanged positions and positions_new" in out
    assert main([*base, "rekey", "rebuild", "positions"]) == 0
    assert capsys.readouterr().out == "positions: nothing to do (rebuild already complete)\n"
    assert main([*base, "status"]) == 0
    assert "positions: account key, positions_old present" in capsys.readouterr().out
    assert main([*base, "drop-old"]) == 0
    assert "positions_old: dropped" in capsys.readouterr().out
    assert main([*base, "rekey", "drain", "positions"]) == 1
    assert "InvalidValue" in capsys.readouterr().err
    assert os.path.isdir(folder)


def test_rows_written_during_the_copy_are_picked_up_by_the_final_pass(folder: Path) -> None:
    session = open_session(folder)
    fired: list[str] = []
    try:

        def writer(step: str) -> None:
            if step == "copied:202601" and not fired:  # a writer lands a row after the copy
                fired.append(step)
                session.command(
                    f"INSERT INTO `{DATABASE}`.positions SELECT user_id, account_id, 999, "
                    "timestamp_ns, symbol, contract_id, qty_lots, basis_micro_usd "
                    f"FROM `{DATABASE}`.positions WHERE _partition_id = '202601' LIMIT 1"
                )

        report = Playbooks(session, DATABASE, hook=writer).rebuild("positions", now_ns=NOW_NS)
        assert any("changed during the copy" in action for action in report.actions)
        after = per_partition(session, "positions")
        assert after == per_partition(session, "positions_old")
        assert (
            session.scalar(
                f"SELECT count() FROM `{DATABASE}`.positions WHERE sequence_number = 999"
            )
            == 1
        )
    finally:
        session.close()
