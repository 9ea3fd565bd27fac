"""``ax clickhouse ...``: the rekey playbooks, drop-old, status, and the legacy fixture.

The adapter modules are imported only when a ClickHouse command runs, so the rest of the
command line works without the ClickHouse extra installed.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, TextIO

from axapp.config import Config

if TYPE_CHECKING:
    from axadapters.clickhouse.client import Session

COMMAND = "clickhouse"
DEFAULT_DATABASE = "ax"
DEFAULT_FIXTURE_ACCOUNTS = 100
DEFAULT_FIXTURE_POSITIONS = 24
# Fixture rows start on 2026-01-01 and step 5 days, so 24 rows span four monthly partitions.
FIXTURE_START_NS = 1_767_225_600 * 1_000_000_000
FIXTURE_STEP_NS = 5 * 24 * 3600 * 1_000_000_000


def add_clickhouse_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    parser = subparsers.add_parser(COMMAND, help="ClickHouse analytics: rekey playbooks")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="ClickHouse database")
    actions = parser.add_subparsers(dest="clickhouse_command", required=True)
    rekey = actions.add_parser("rekey", help="move a user-keyed table to the account key")
    modes = rekey.add_subparsers(dest="rekey_mode", required=True)
    rebuild = modes.add_parser("rebuild", help="copy by partition into a new table, then swap")
    rebuild.add_argument("table")
    drain = modes.add_parser("drain", help="cut writers over to a new table, TTL drains the old")
    drain.add_argument("table")
    drop = actions.add_parser("drop-old", help="drop *_old tables (drained ones once expired)")
    drop.add_argument("--force", action="store_true", help="drop drained tables before TTL")
    actions.add_parser("status", help="which tables are on which key")
    fixture = actions.add_parser("legacy-fixture", help="create the user-keyed legacy layout")
    fixture.add_argument("--accounts", type=int, default=DEFAULT_FIXTURE_ACCOUNTS)
    fixture.add_argument("--positions-per-account", type=int, default=DEFAULT_FIXTURE_POSITIONS)


def run_clickhouse(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    from axadapters.clickhouse.client import Session, connect
    from axadapters.clickhouse.rekey import Playbooks
    from axapp.analytics import analytics_dsn

    session = Session(connect(analytics_dsn(config)))
    try:
        playbooks = Playbooks(session, args.database)
        now_ns = time.time_ns()
        if args.clickhouse_command == "rekey":
            run = playbooks.rebuild if args.rekey_mode == "rebuild" else playbooks.drain
            lines = run(args.table, now_ns=now_ns).lines()
        elif args.clickhouse_command == "drop-old":
            lines = playbooks.drop_old(now_ns=now_ns, force=args.force)
        elif args.clickhouse_command == "status":
            lines = playbooks.status()
        else:
            lines = _legacy_fixture(session, args, now_ns)
    finally:
        session.close()
    for line in lines:
        out.write(line + "\n")
    return 0


def _legacy_fixture(session: Session, args: argparse.Namespace, now_ns: int) -> list[str]:
    from axadapters.clickhouse.rekey import create_legacy_schema, load_legacy_rows

    create_legacy_schema(session, args.database)
    if session.scalar(f"SELECT count() FROM `{args.database}`.`positions`"):
        return [f"{args.database}: legacy tables exist and hold rows; nothing loaded"]
    base = 0x0190_0000_0000_0000
    rows = load_legacy_rows(
        session,
        args.database,
        accounts=[base + i for i in range(args.accounts)],
        positions_per_account=args.positions_per_account,
        start_ns=FIXTURE_START_NS,
        step_ns=FIXTURE_STEP_NS,
        snapshots_start_ns=now_ns - 3600 * 1_000_000_000,
    )
    return [f"{args.database}: legacy user-keyed layout with {rows} position rows"]
