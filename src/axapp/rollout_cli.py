"""``ax rollout``: the phased migration of a live 1:1 database (docs/rollout.md).

``plan`` lists the steps, ``status`` shows the tracker, ``apply STEP|all`` runs steps,
``verify STEP|all`` runs their verification queries, ``generate-legacy`` builds a 1:1-era
database to rehearse on. The database is ``AX_DATABASE_URL`` like every command; the
rollout never migrates it implicitly (the library's own migrations run in ``adopt``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from axapp.config import Config

ROLLOUT = "rollout"


def add_rollout_commands(subparsers: Any) -> None:
    """Register ``ax rollout ...`` on the top-level ``argparse`` subparsers."""
    from axadapters.sql.rollout.ddl import DEFAULT_BATCH_ROWS, DEFAULT_LOCK_TIMEOUT_MS

    rollout = subparsers.add_parser(ROLLOUT, help="migrate a 1:1 database step by step")
    commands = rollout.add_subparsers(dest="rollout_command", required=True)
    commands.add_parser("plan", help="the steps in order, with their prerequisites")
    commands.add_parser("status", help="the tracker: done / in progress / pending")
    apply = commands.add_parser("apply", help="run a step (or all), then verify it")
    apply.add_argument("step")
    apply.add_argument(
        "--batch-rows", type=int, default=DEFAULT_BATCH_ROWS, help="rows per backfill transaction"
    )
    apply.add_argument(
        "--pause-ms", type=int, default=0, help="sleep between batches, to spare a busy primary"
    )
    apply.add_argument(
        "--lock-timeout-ms",
        type=int,
        default=DEFAULT_LOCK_TIMEOUT_MS,
        help="give up (and retry later) rather than queue behind a long lock",
    )
    apply.add_argument(
        "--participant-prefix",
        default="ax",
        help="venue participant prefix (Class C checks ep3_username with it)",
    )
    verify = commands.add_parser("verify", help="run a step's verification (or all)")
    verify.add_argument("step")
    generate = commands.add_parser("generate-legacy", help="create a 1:1-era database")
    generate.add_argument("--users", type=int, required=True)
    generate.add_argument("--seed", type=int, default=0)


def run_rollout_command(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    """Dispatch ``ax rollout ...``; a database error is one line naming the variable."""
    from sqlalchemy.exc import SQLAlchemyError

    from axadapters.sql.engine import create_sql_engine

    engine = create_sql_engine(config.effective_database_url)
    try:
        return _dispatch(args, engine, out)
    except SQLAlchemyError as error:
        origin = getattr(error, "orig", None) or error
        first_line = str(origin).strip().splitlines()[0] if str(origin).strip() else ""
        sys.stderr.write(f"ax: AX_DATABASE_URL: {type(origin).__name__}: {first_line}\n")
        return 1
    finally:
        engine.dispose()


def _dispatch(args: argparse.Namespace, engine: Any, out: TextIO) -> int:
    from axadapters.sql.rollout import plan
    from axadapters.sql.rollout.ddl import RolloutContext
    from axadapters.sql.rollout.generator import generate_legacy

    command = args.rollout_command
    if command == "plan":
        out.writelines(line + "\n" for line in plan.plan_lines())
        return 0
    if command == "status":
        out.writelines(line + "\n" for line in plan.status_lines(engine))
        return 0
    if command == "generate-legacy":
        made = generate_legacy(engine, args.users, args.seed)
        for table, rows in made.rows.items():
            out.write(f"{table}: {rows} rows\n")
        return 0
    names = [step.name for step in plan.PLAN] if args.step == plan.ALL else [args.step]
    if command == "verify":
        failed = False
        for name in names:
            verification = plan.verify_step(engine, name)
            out.write(f"== verify {name}: {'ok' if verification.ok else 'FAILED'}\n")
            out.writelines(f"  {line}\n" for line in verification.lines())
            failed = failed or not verification.ok
        return 1 if failed else 0

    def say(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    ctx = RolloutContext(
        engine,
        say,
        batch_rows=args.batch_rows,
        pause_ms=args.pause_ms,
        lock_timeout_ms=args.lock_timeout_ms,
        participant_prefix=args.participant_prefix,
    )
    for name in names:
        outcome = plan.apply_step(ctx, name)
        if not outcome.ran:
            say(f"== {name}: already done")
        for change in outcome.changes:
            say(f"  changed: {change}")
        say(f"  verification: {'ok' if outcome.verification.ok else 'FAILED'}")
        for line in outcome.verification.lines():
            say(f"    {line}")
        say(
            f"  time {outcome.elapsed_ms:.0f} ms, longest writer pause "
            f"{outcome.longest_pause_ms:.1f} ms, longest batch {outcome.longest_batch_ms:.1f} ms"
        )
        if not outcome.verification.ok:
            return 1
    return 0
