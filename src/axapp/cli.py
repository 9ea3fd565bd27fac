"""The ``ax`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from axapp.config import Config
from axapp.rollout_cli import ROLLOUT, add_rollout_commands, run_rollout_command
from axdomain.errors import DomainError

MAX_REKEY_ROUNDS = 10_000


def _backfill(config: Config, out: TextIO) -> int:
    """Grant each customer account's UBO FULL_ACCESS where the account has no grant at all."""
    from axadapters.sql.stores import open_sql_stores

    stores = open_sql_stores(config.effective_database_url)
    try:
        report = stores.backfill_permissions()
    finally:
        stores.close()
    out.write(
        f"accounts scanned: {report.accounts_scanned}, grants created: {report.grants_created}\n"
    )
    for account_id in report.account_ids:
        out.write(f"  FULL_ACCESS for the UBO of {account_id}\n")
    return 0


def _rekey_redis(config: Config, out: TextIO, *, dry_run: bool) -> int:
    """Move ``risk:{user_id}`` snapshots to ``risk:{account_id}``, resumably, TTLs kept."""
    if config.redis_url is None:
        out.write("AX_REDIS_URL is not set: the embedded cache has no legacy keys\n")
        return 2
    from axadapters.redis import open_redis
    from axadapters.redis.rekey import rekey_risk_keys

    stores = open_redis(config.redis_url)
    try:
        cursor = 0
        for _ in range(MAX_REKEY_ROUNDS):
            report = rekey_risk_keys(stores.client, dry_run=dry_run, cursor=cursor)
            out.write(json.dumps(report.as_dict(), sort_keys=True) + "\n")
            if report.complete:
                return 0
            cursor = report.next_cursor
        out.write("stopped after the round limit; run again to continue\n")
        return 1
    finally:
        stores.close()


def _operator(config: Config, command: str, name: str, out: TextIO) -> int:
    """``create`` prints the token alone on one line (shown once, stored hashed)."""
    from axapp.bootstrap import create_operator, load_pepper, revoke_operator
    from axapp.runtime import open_runtime

    with open_runtime(config) as runtime:
        if command == "create":
            out.write(create_operator(runtime.stores, name, load_pepper(config)) + "\n")
            return 0
        operator = revoke_operator(runtime.stores, name)
        if operator is None:
            sys.stderr.write(f"ax: no operator named {name!r}\n")
            return 1
        out.write(f"revoked operator {name}\n")
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ax", description="axdomain reference exchange core")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run the end-to-end scenario on embedded defaults")
    commands.add_parser("backfill-permissions", help="grant UBOs FULL_ACCESS on grantless accounts")
    rekey = commands.add_parser("rekey-redis", help="re-key risk:{user_id} to risk:{account_id}")
    rekey.add_argument("--dry-run", action="store_true", help="report only, change nothing")
    operator = commands.add_parser("operator", help="operator credentials (exchange staff)")
    operator_commands = operator.add_subparsers(dest="operator_command", required=True)
    create = operator_commands.add_parser("create", help="mint one; prints only the token")
    create.add_argument("name")
    revoke = operator_commands.add_parser("revoke", help="revoke one at once")
    revoke.add_argument("name")
    add_rollout_commands(commands)
    args = parser.parse_args(argv)
    try:
        return _run(args, Config.from_env(os.environ))
    except DomainError as error:
        sys.stderr.write(f"ax: {type(error).__name__}: {error}\n")
        return 1


def _run(args: argparse.Namespace, config: Config) -> int:
    if args.command == "demo":
        from axapp.demo import run_demo

        return run_demo(sys.stdout, config)
    if args.command == "backfill-permissions":
        return _backfill(config, sys.stdout)
    if args.command == ROLLOUT:
        return run_rollout_command(args, config, sys.stdout)
    if args.command == "operator":
        return _operator(config, args.operator_command, args.name, sys.stdout)
    return _rekey_redis(config, sys.stdout, dry_run=args.dry_run)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
