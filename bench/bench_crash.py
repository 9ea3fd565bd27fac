"""Crash benchmark: SIGKILL the random workload of ``tests/crash`` many more times than the
test does and report kills, clean restarts and restart times. Prints figures, asserts
nothing beyond what every restart check asserts.

    .venv/bin/python bench/bench_crash.py [KILLS] [--postgres URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.crash.test_crash_restart import base_env, crash_loop  # noqa: E402

from axapp.config import Config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kills", type=int, nargs="?", default=200)
    parser.add_argument("--postgres", help="a fresh PostgreSQL database URL")
    args = parser.parse_args()
    import tests.crash.test_crash_restart as crash

    crash.KILLS = args.kills
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        env = base_env(data)
        config = Config(data_dir=data)
        if args.postgres:
            env["AX_DATABASE_URL"] = args.postgres
            config = Config(data_dir=data, database_url=args.postgres)
        started = time.monotonic()
        restarts = crash_loop(data, config, env)
        took = time.monotonic() - started
    store = "PostgreSQL" if args.postgres else "SQLite"
    ordered = sorted(restarts)
    print(f"store: {store} + journaled twin")
    print(f"kills: {len(restarts)}  clean restarts: {len(restarts)} (100 %)  wall: {took:.0f} s")
    print(
        f"restart (open + catch-up + book): p50 {statistics.median(ordered):.3f} s, "
        f"p95 {ordered[int(len(ordered) * 0.95) - 1]:.3f} s, max {ordered[-1]:.3f} s"
    )


if __name__ == "__main__":
    main()
