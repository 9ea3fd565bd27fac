"""Time and lock time of every rollout step on a generated 1:1 database (default 10^5 users).

For each backend (a SQLite file, a scratch PostgreSQL database) the script generates the
legacy database, then applies the steps in order with the default batch size and prints,
per step: wall time; the longest writer pause (a transaction holding a table lock, or
SQLite's write lock) and the sum of all pauses; the longest row-locking backfill batch;
the rows of the largest table the step touches; the longest pause extrapolated linearly
to a million such rows; and the floor measured in the same run just
before the step: one ``SELECT COUNT(*)`` pass over the same tables. No assertions.

Usage: python bench/bench_rollout.py [--users 100000] [--url postgresql://...postgres]
       [--skip-sqlite] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy
from sqlalchemy import Engine, text

from axadapters.sql.engine import create_sql_engine
from axadapters.sql.rollout import PLAN, RolloutContext, apply_step, generate_legacy
from axadapters.sql.rollout.ddl import NS_PER_MS

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MILLION = 1_000_000
STEP_TABLES = {
    "class-0": ("trading_accounts",),
    "class-a": ("current_balances", "monthly_loss_limits", "loan_to_value_monitors"),
    "permissions": ("account_permissions", "trading_accounts"),
    "class-b": ("blockchain_deposit_addresses", "leaderboard"),
    "api-keys": ("api_keys",),
    "close-only-freeze": ("trading_accounts", "users"),
    "class-c": ("users",),
    "adopt": ("users",),
}


def _rows(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def bench(engine: Engine, label: str, users: int) -> None:
    started = time.perf_counter_ns()
    made = generate_legacy(engine, users)
    generated_ms = (time.perf_counter_ns() - started) / NS_PER_MS
    print(
        f"\n== {label}: {users} users, {sum(made.rows.values())} legacy rows "
        f"generated in {generated_ms:.0f} ms"
    )
    print(
        f"{'step':<18} {'time ms':>8} {'pause ms':>9} {'all pauses':>10} {'batch ms':>9} "
        f"{'rows':>8} {'pause ms/1M rows':>17} {'floor: count(*) ms':>19}"
    )
    for step in PLAN:
        tables = STEP_TABLES[step.name]
        floor_started = time.perf_counter_ns()
        rows = max(_rows(engine, table) for table in tables)
        floor_ms = (time.perf_counter_ns() - floor_started) / NS_PER_MS
        ctx = RolloutContext(engine, lambda _line: None)
        outcome = apply_step(ctx, step.name)
        per_million = outcome.longest_pause_ms * MILLION / max(rows, 1)
        status = "" if outcome.verification.ok else "  VERIFICATION FAILED"
        print(
            f"{step.name:<18} {outcome.elapsed_ms:>8.0f} {outcome.longest_pause_ms:>9.1f} "
            f"{ctx.locks.total_pause_ms:>10.0f} {outcome.longest_batch_ms:>9.1f} {rows:>8} "
            f"{per_million:>17.0f} {floor_ms:>19.1f}{status}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--url", default=DEFAULT_ADMIN_URL, help="PostgreSQL admin URL")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            engine = create_sql_engine(f"sqlite:///{(Path(folder) / 'legacy.db').as_posix()}")
            try:
                bench(engine, "SQLite", args.users)
            finally:
                engine.dispose()
    if not args.skip_postgres:
        admin = sqlalchemy.create_engine(args.url, isolation_level="AUTOCOMMIT")
        name = f"ax_bench_rollout_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = sqlalchemy.make_url(args.url).set(database=name)
        engine = create_sql_engine(url.render_as_string(hide_password=False))
        try:
            bench(engine, "PostgreSQL", args.users)
        finally:
            engine.dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
