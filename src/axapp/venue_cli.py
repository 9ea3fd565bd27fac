"""``ax credentials ...`` and ``ax lanes ...``: the venue-account commands.

``cli.py`` calls ``register_venue_commands`` on its sub-parsers and hands any command named
in ``VENUE_COMMANDS`` to ``run_venue_command``; everything else about these commands lives
here.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO

from axapp.config import Config
from axdomain.ids import AccountId
from axdomain.venues.lanes import OperatorRef
from axdomain.venues.ports import MAX_ROTATION_BATCH

VENUE_COMMANDS = ("credentials", "lanes")
DEFAULT_ROTATION_BATCH = 100
MAX_ROTATION_ROUNDS = 1_000_000
EXIT_MISCONFIGURED = 2


def register_venue_commands(commands: Any) -> None:
    """Add the venue commands to ``ax``'s sub-parsers (an ``add_subparsers`` result)."""
    credentials = commands.add_parser("credentials", help="venue credentials vault")
    credential_commands = credentials.add_subparsers(dest="credentials_command", required=True)
    rotate = credential_commands.add_parser(
        "rotate", help="re-encrypt every credential under the first AX_CREDENTIAL_KEYS key"
    )
    rotate.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_ROTATION_BATCH,
        help=f"rows per committed batch (1..{MAX_ROTATION_BATCH})",
    )
    lanes = commands.add_parser("lanes", help="per-account execution lanes")
    lane_commands = lanes.add_subparsers(dest="lanes_command", required=True)
    lane_commands.add_parser("status", help="per-account health, last cursor, kill switch")
    lane_commands.add_parser("demo", help="two trading lanes, a read-only share, a failure")
    for name, action in (("kill", "engage"), ("release", "release")):
        switch = lane_commands.add_parser(name, help=f"{action} a lane's kill switch (audited)")
        switch.add_argument("label")
        switch.add_argument("--reason", required=True)


def run_venue_command(
    args: argparse.Namespace, config: Config, env: Mapping[str, str], out: TextIO
) -> int:
    if args.command == "credentials":
        return rotate_credentials(config, env, out, batch_size=args.batch_size)
    if args.lanes_command == "demo":
        from axapp.lanes.showcase import run_lanes_demo

        return run_lanes_demo(out)
    if args.lanes_command == "status":
        return lanes_status(config, env, out)
    return operator_flip(config, env, out, args.label, args.lanes_command == "kill", args.reason)


def operator_flip(  # noqa: PLR0917 (the command's own arguments, passed straight on)
    config: Config, env: Mapping[str, str], out: TextIO, label: str, engaged: bool, reason: str
) -> int:
    """A kill switch is an operator action: the token in ``AX_OPERATOR_TOKEN`` (never on the
    command line, where ``ps`` would show it) is authenticated like any request, and the
    flip is audited in the central audit trail as well as in the lane's own log."""
    from axapp.bootstrap import application
    from axapp.gateway import AuthenticationError
    from axapp.runtime import open_runtime
    from axdomain.permissions import Action

    token = env.get("AX_OPERATOR_TOKEN", "").strip()
    if not token:
        out.write("ax: AX_OPERATOR_TOKEN is not set: a kill switch needs an operator\n")
        return EXIT_MISCONFIGURED
    with open_runtime(config) as runtime:
        app = application(runtime)
        try:
            principal = app.gateway.authenticate(token)
        except AuthenticationError:
            out.write("ax: AX_OPERATOR_TOKEN is not a live operator token\n")
            return EXIT_MISCONFIGURED
        name = getattr(principal, "name", "?")
        operator_id = getattr(principal, "operator_id", 0)
        operator = OperatorRef(f"{operator_id:016x}", name)
        # The decision (audited, and refused for anyone but an operator) comes first, in
        # its own transaction; the lane's log is written after it on its own connection.
        app.gateway.run_operator(principal, Action.LANE_KILL_SWITCH, lambda: None)
    return flip_kill_switch(
        config, env, out, label, engaged=engaged, operator=operator, reason=reason
    )


@contextmanager
def _engine(config: Config) -> Iterator[Any]:
    from axadapters.sql.stores import open_sql_stores

    if config.database_url is None:
        config.data_dir.mkdir(parents=True, exist_ok=True)
    stores = open_sql_stores(config.effective_database_url)
    try:
        yield stores.engine
    finally:
        stores.close()


def rotate_credentials(
    config: Config, env: Mapping[str, str], out: TextIO, *, batch_size: int
) -> int:
    """Resumable: each batch commits alone; after a kill, run it again to continue."""
    from axadapters.vault.keyring import ENV_VAR, CredentialKeyring
    from axadapters.vault.sql import SqlCredentialVault

    keys = env.get(ENV_VAR, "").strip()
    if not keys:
        out.write(f"{ENV_VAR} is not set: nothing to rotate to\n")
        return EXIT_MISCONFIGURED
    keyring = CredentialKeyring.parse(keys)
    with _engine(config) as engine:
        vault = SqlCredentialVault(engine, keyring)
        out.write(json.dumps({"before": dict(vault.key_usage())}, sort_keys=True) + "\n")
        total = 0
        for _ in range(MAX_ROTATION_ROUNDS):
            done = vault.rotate_batch(batch_size)
            if done == 0:
                break
            total += done
            out.write(json.dumps({"rotated": total, "to": keyring.current_key_id}) + "\n")
            out.flush()
        usage = dict(vault.key_usage())
        out.write(json.dumps({"after": usage}, sort_keys=True) + "\n")
    stale = sum(count for key_id, count in usage.items() if key_id != keyring.current_key_id)
    return 0 if stale == 0 else 1


def lanes_status(config: Config, env: Mapping[str, str], out: TextIO) -> int:
    from axadapters.lane_state.sql import SqlLaneStateStore
    from axapp.lanes.status import render_status
    from axapp.venue_config import load_registry

    registry = load_registry(env)
    with _engine(config) as engine:
        render_status(registry, SqlLaneStateStore(engine), out)
    return 0


def flip_kill_switch(
    config: Config,
    env: Mapping[str, str],
    out: TextIO,
    label: str,
    *,
    engaged: bool,
    operator: OperatorRef,
    reason: str,
) -> int:
    from axadapters.lane_state.sql import SqlLaneStateStore
    from axadapters.system import SystemClock
    from axapp.lanes.kill_switch import KillSwitches
    from axapp.venue_config import load_registry

    registry = load_registry(env)
    entry = registry.by_label(label)
    if entry is None:
        out.write(f"no account labelled {label!r} in {registry.source}\n")
        return EXIT_MISCONFIGURED
    with _engine(config) as engine:
        switches = KillSwitches(SqlLaneStateStore(engine), SystemClock())
        flip = switches.engage if engaged else switches.release
        event = flip(label, AccountId(entry.account_id.value), operator, reason)
    verb = "engaged" if engaged else "released"
    out.write(
        f"kill switch of {label} {verb} by {operator.name} ({operator.operator_id}) "
        f"at {event.at_ns}\n"
    )
    return 0
