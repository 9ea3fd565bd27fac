"""The ``ax`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from axapp.clickhouse_cli import COMMAND as CLICKHOUSE
from axapp.clickhouse_cli import add_clickhouse_commands, run_clickhouse
from axapp.config import Config
from axapp.rollout_cli import ROLLOUT, add_rollout_commands, run_rollout_command
from axapp.services import ServiceUnavailable, preflight, unavailable_from
from axapp.venue_cli import VENUE_COMMANDS, register_venue_commands, run_venue_command
from axdomain.errors import DomainError, InvalidValue
from axdomain.ledger.port import LedgerUnavailable

# Exit codes: 1 = the command ran and found a problem (a violation, a refusal);
# 2 = it could not run (configuration or a backing service).
EXIT_FAILED = 1
EXIT_UNUSABLE = 2

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
    """Move ``risk:<user_id>`` and untagged ``risk:<account_id>`` snapshots to the hash-tagged
    ``risk:{<account_id>}``, resumably, TTLs kept; on a cluster, every primary."""
    if config.redis_url is None:
        out.write("AX_REDIS_URL is not set: the embedded cache has no legacy keys\n")
        return 2
    from axadapters.redis import open_redis
    from axadapters.redis.rekey import rekey_risk_keys

    stores = open_redis(config.redis_url, cluster=config.redis_cluster)
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


def _repair(config: Config, out: TextIO, *, check: bool) -> int:
    """Drift per account between the stored projections and a ledger replay; without
    ``--check`` the projections are rewritten and checked again."""
    from axapp.repair import projection_drift, reproject
    from axapp.runtime import open_runtime

    with open_runtime(config) as runtime:
        drift = projection_drift(runtime.stores, runtime.ledger)
        for item in drift:
            out.write(item.line() + "\n")
        out.write(f"drift: {len(drift)} finding(s)\n")
        if check:
            return 1 if drift else 0
        written = reproject(runtime.stores, runtime.ledger)
        left = projection_drift(runtime.stores, runtime.ledger)
        out.write(f"re-projected {written} ledger event(s); drift now: {len(left)}\n")
        return 1 if left else 0


def _ledger_serve(config: Config, url: str | None, out: TextIO) -> int:
    """The journaled twin of the data folder, served to every ``ax serve`` that names the
    same ``AX_LEDGER_URL``; the single writer of the journal, until SIGTERM."""
    import signal

    from axadapters.ledger_service import LedgerServer
    from axadapters.ledger_twin import LedgerTwin

    url = url or config.ledger_url
    if url is None:
        raise InvalidValue("--url", None, "give --url or set AX_LEDGER_URL")
    config.data_dir.mkdir(parents=True, exist_ok=True)
    with LedgerTwin.open(
        config.ledger_journal_path, batch_events_max=config.tigerbeetle_batch_max
    ) as twin:
        server = LedgerServer(twin, url)

        def stop(_signal: int, _frame: object) -> None:
            import threading

            threading.Thread(target=server.shutdown, daemon=True).start()

        previous = signal.signal(signal.SIGTERM, stop)
        try:
            out.write(f"ax ledger-serve: serving {config.ledger_journal_path} at {server.url}\n")
            out.flush()
            server.serve_forever()
        finally:
            signal.signal(signal.SIGTERM, previous)
    return 0


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


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("axdomain")
    except PackageNotFoundError:  # pragma: no cover (running from a source tree)
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ax", description="axdomain reference exchange core")
    parser.add_argument("--version", action="version", version=f"ax {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    register_venue_commands(commands)
    commands.add_parser("demo", help="run the end-to-end scenario on embedded defaults")
    commands.add_parser("backfill-permissions", help="grant UBOs FULL_ACCESS on grantless accounts")
    rekey = commands.add_parser("rekey-redis", help="move risk keys to risk:{<account_id>}")
    rekey.add_argument("--dry-run", action="store_true", help="report only, change nothing")
    repair = commands.add_parser("repair", help="re-project the stores from the ledger")
    repair.add_argument("--check", action="store_true", help="report the drift, change nothing")
    operator = commands.add_parser("operator", help="operator credentials (exchange staff)")
    operator_commands = operator.add_subparsers(dest="operator_command", required=True)
    create = operator_commands.add_parser("create", help="mint one; prints only the token")
    create.add_argument("name")
    revoke = operator_commands.add_parser("revoke", help="revoke one at once")
    revoke.add_argument("name")
    serve = commands.add_parser("serve", help="run the HTTP shell until SIGTERM")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    ledger = commands.add_parser("ledger-serve", help="serve the ledger to several ax serve")
    ledger.add_argument("--url", help="unix:///path or tcp://127.0.0.1:PORT (AX_LEDGER_URL)")
    audit = commands.add_parser("audit", help="check the twelve invariants; exit 1 on violation")
    audit_commands = audit.add_subparsers(dest="audit_command")
    who = audit_commands.add_parser("who-could", help="who could do what on an account at a time")
    who.add_argument("--account", required=True, help="the account id (16 hex digits)")
    who.add_argument("--at", required=True, help="integer ns since the epoch, or ISO 8601")
    add_clickhouse_commands(commands)
    add_rollout_commands(commands)
    args = parser.parse_args(argv)
    return _guarded(args)


def _guarded(args: argparse.Namespace) -> int:
    """Every failure the command line can meet becomes one line on stderr."""
    config: Config | None = None
    try:
        config = Config.from_env(os.environ)
        preflight(config)
        return _run(args, config)
    except ServiceUnavailable as error:
        sys.stderr.write(f"ax: {error.line()}\n")
        return EXIT_UNUSABLE
    except DomainError as error:
        if error.field.startswith(("AX_", "--")) or config is None:
            sys.stderr.write(f"ax: {error.field}={error.value!r}: {error.problem}\n")
            return EXIT_UNUSABLE
        sys.stderr.write(f"ax: {type(error).__name__}: {error}\n")
        return EXIT_FAILED
    except LedgerUnavailable as error:
        where = "AX_LEDGER_URL" if config and config.ledger_url else "AX_TIGERBEETLE_ADDRESSES"
        sys.stderr.write(f"ax: cannot use the ledger at {where}: {error}\n")
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        unavailable = None if config is None else unavailable_from(error, config)
        if unavailable is None:
            sys.stderr.write(f"ax: internal error: {type(error).__name__}: {error}\n")
            return EXIT_UNUSABLE
        sys.stderr.write(f"ax: {unavailable.line()}\n")
        return EXIT_UNUSABLE


def _run(args: argparse.Namespace, config: Config) -> int:
    if args.command in VENUE_COMMANDS:
        return run_venue_command(args, config, os.environ, sys.stdout)
    if args.command == "demo":
        from axapp.demo import run_demo

        return run_demo(sys.stdout, config)
    if args.command == "backfill-permissions":
        return _backfill(config, sys.stdout)
    if args.command == "repair":
        return _repair(config, sys.stdout, check=args.check)
    if args.command == CLICKHOUSE:
        return run_clickhouse(args, config, sys.stdout)
    if args.command == ROLLOUT:
        return run_rollout_command(args, config, sys.stdout)
    if args.command == "operator":
        return _operator(config, args.operator_command, args.name, sys.stdout)
    if args.command == "serve":
        from axapp.http.server import serve

        return serve(config, host=args.host, port=args.port)
    if args.command == "ledger-serve":
        return _ledger_serve(config, args.url, sys.stdout)
    if args.command == "audit":
        from axapp.audit_report import run_audit, run_who_could

        if args.audit_command == "who-could":
            return run_who_could(config, sys.stdout, account=args.account, at=args.at)
        return run_audit(config, sys.stdout)
    return _rekey_redis(config, sys.stdout, dry_run=args.dry_run)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
