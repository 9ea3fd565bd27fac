"""Crash test: a real subprocess runs a random workload (deposits, orders and their fills,
cancels, two-phase withdrawals and their posts and voids, transfers, funding) on SQLite +
the journaled twin, and on PostgreSQL + the twin, and is SIGKILLed at random points. After
every kill the exchange must start, every invariant must hold, the projections must equal a
ledger replay, the order log must equal the book, no acknowledged request may be lost, and
re-sending requests with their idempotency keys must change nothing.

``AX_CRASH_KILLS`` sets the kills per store (default 20, which keeps the suite inside its time
budget on two cores; ``bench/bench_crash.py`` runs 100).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from axapp.bootstrap import application
from axapp.config import Config
from axapp.repair import projection_drift
from axapp.runtime import open_runtime
from tests.contract.sql_support import PostgresDatabases
from tests.crash.workload import perform, principals

KILLS = int(os.environ.get("AX_CRASH_KILLS", "20"))
READY_TIMEOUT_S = 120.0
ROOT = Path(__file__).resolve().parents[2]


def read_log(folder: Path) -> list[dict[str, Any]]:
    path = folder / "requests.log"
    if not path.exists():
        return []
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            lines.append(json.loads(raw))
        except json.JSONDecodeError:
            break  # a line torn by the kill: nothing after it was written
    return lines


def run_until_killed(folder: Path, seed: int, env: dict[str, str], rng: random.Random) -> None:
    """Start the workload, wait until it is serving, let it run a random while, SIGKILL it."""
    before = len(read_log(folder))
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.crash.workload", str(folder), str(seed)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not any("ready" in line for line in read_log(folder)[before:]):
        if process.poll() is not None:
            raise AssertionError(f"workload exited early: {process.stderr.read()!r}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("workload never became ready")
        time.sleep(0.02)
    time.sleep(rng.uniform(0.0, 0.8))
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()  # type: ignore[union-attr]


def check_restart(folder: Path, config: Config, seed: int) -> float:
    """One restart: returns its duration (seconds) after asserting every guarantee."""
    started = time.monotonic()
    with open_runtime(config) as runtime:
        app = application(runtime)
        took = time.monotonic() - started
        exchange = app.exchange
        assert exchange.check_invariants() == []
        assert exchange.resume_matches_live()
        assert exchange.book_matches_log()
        assert projection_drift(app.stores, runtime.ledger) == []
        cast = json.loads((folder / "cast.json").read_text())
        ops, sessions = principals(app, cast)
        log = [line for line in read_log(folder) if line.get("seed", seed) == seed]
        sent = {line["sent"]["n"]: line["sent"] for line in log if "sent" in line}
        acked = {line["ack"]: line["answer"] for line in log if "ack" in line}
        # an interrupted request completes (or stays refused) on retry, then is stable
        for n in sorted(set(sent) - set(acked)):
            first = perform(app, ops, sessions, cast, sent[n])
            if "refused" not in first and sent[n]["kind"] != "cancel":
                assert perform(app, ops, sessions, cast, sent[n]) == first
        transfers = len(runtime.ledger.scan_transfers())
        orders = len(app.stores.orders.all_orders())
        for n, answer in sorted(acked.items()):
            request = sent[n]
            if "refused" in answer or request["kind"] == "cancel":
                continue  # only acknowledged effects carry an idempotency record
            assert perform(app, ops, sessions, cast, request) == answer, request
        assert len(runtime.ledger.scan_transfers()) == transfers  # nothing posted twice
        assert len(app.stores.orders.all_orders()) == orders
        assert exchange.check_invariants() == []
        assert exchange.book_matches_log()
    return took


def crash_loop(folder: Path, config: Config, env: dict[str, str]) -> list[float]:
    rng = random.Random(20261122)
    restarts = []
    for seed in range(KILLS):
        run_until_killed(folder, seed, env, rng)
        restarts.append(check_restart(folder, config, seed))
    return restarts


def base_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AX_")}
    env["AX_DATA_DIR"] = str(folder)
    env["PYTHONPATH"] = str(ROOT)
    return env


def report(store: str, restarts: list[float]) -> None:
    ordered = sorted(restarts)
    print(
        f"\n{store}: {len(restarts)} kills, {len(restarts)} clean restarts; restart "
        f"p50 {ordered[len(ordered) // 2]:.2f} s, max {ordered[-1]:.2f} s"
    )


@pytest.mark.crash
def test_sqlite_and_twin_survive_sigkill_anywhere(tmp_path: Path) -> None:
    restarts = crash_loop(tmp_path, Config(data_dir=tmp_path), base_env(tmp_path))
    assert len(restarts) == KILLS
    report("SQLite + journaled twin", restarts)


@pytest.mark.crash
@pytest.mark.postgres
def test_postgres_and_twin_survive_sigkill_anywhere(
    tmp_path: Path, postgres_databases: PostgresDatabases
) -> None:
    url = postgres_databases.new_url()
    env = {**base_env(tmp_path), "AX_DATABASE_URL": url}
    config = Config(data_dir=tmp_path, database_url=url)
    restarts = crash_loop(tmp_path, config, env)
    assert len(restarts) == KILLS
    report("PostgreSQL + journaled twin", restarts)
