"""A fixed set of reads that must answer the same before and after every step.

Each read is asked the way the application of that moment asks it: keyed by the user's
id while a table is still user-keyed (the 1:1 era's derivation: the default account's id
is the user's), by ``account_id`` once the step has rekeyed it. Close-only / frozen come
from the user row until step 10b is done and from the account after; the owner is the
bit pattern until Class 0 is done and ``ubo_user_id`` after; a key's account and scope
come from its new columns once the API-key rework is done (a step's new columns are
half-filled while it runs: the application switches to them when the step is done).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, text

from axadapters.sql.rollout.ddl import columns
from axdomain.permissions import Permissions

Reads = dict[str, Any]


KEYED_TABLES = (
    "current_balances",
    "monthly_loss_limits",
    "loan_to_value_monitors",
    "blockchain_deposit_addresses",
    "leaderboard",
)


def _keys(connection: Connection) -> dict[str, str]:
    """Per table, the column a read keys on right now (``user_id`` until rekeyed)."""
    return {
        table: "user_id" if "user_id" in columns(connection, table) else "account_id"
        for table in KEYED_TABLES
    }


def read_all(
    engine: Engine, accounts: Sequence[str], keys: Sequence[str], done: frozenset[str]
) -> Reads:
    """The fixed reads of ``accounts`` and the principals of ``keys``, by id."""
    with engine.connect() as connection:
        keyed = _keys(connection)
        reads: Reads = {a: _account_reads(connection, keyed, a, done) for a in accounts}
        reads.update({f"key:{k}": _key_principal(connection, k, done) for k in keys})
    return reads


def _one(connection: Connection, sql: str, **params: object) -> Any:
    """The first row as a tuple of plain values (numbers as ``int``), or ``None``."""
    row = connection.execute(text(sql), params).first()
    if row is None:
        return None
    return tuple(v if isinstance(v, str | bool) or v is None else int(v) for v in row)


def _account_reads(
    connection: Connection, keyed: dict[str, str], account_hex: str, done: frozenset[str]
) -> Reads:
    flags_on_account = "close-only-freeze" in done
    balance_key = keyed["current_balances"]
    reads: Reads = {
        # Text on SQLite (128-bit values), NUMERIC on PostgreSQL: compare as integers.
        "balance": _one(
            connection,
            "SELECT CAST(balance_micro_usd AS TEXT) FROM "
            f"current_balances WHERE {balance_key} = :a",
            a=account_hex,
        ),
        "loss_limit": _one(
            connection,
            "SELECT limit_micro_usd FROM monthly_loss_limits "
            f"WHERE {keyed['monthly_loss_limits']} = :a",
            a=account_hex,
        ),
        "ltv": _one(
            connection,
            "SELECT margin_call_ltv_bps, liquidation_ltv_bps FROM "
            f"loan_to_value_monitors WHERE {keyed['loan_to_value_monitors']}"
            " = :a",
            a=account_hex,
        ),
    }
    deposit_key = keyed["blockchain_deposit_addresses"]
    reads["deposit_addresses"] = sorted(
        tuple(row)
        for row in connection.execute(
            text(
                "SELECT blockchain, asset, address FROM blockchain_deposit_addresses "
                f"WHERE {deposit_key} = :a"
            ),
            {"a": account_hex},
        )
    )
    board_key = keyed["leaderboard"]
    reads["leaderboard_ranks"] = sorted(
        (metric, cadence, int(start), int(score), int(rank))
        for metric, cadence, start, score, rank in connection.execute(
            text(
                "SELECT l.metric, l.cadence, l.period_start_ns, l.score, 1 + (SELECT COUNT(*) "
                "FROM leaderboard o WHERE o.metric = l.metric AND o.cadence = l.cadence "
                "AND o.period_start_ns = l.period_start_ns AND o.score > l.score) "
                f"FROM leaderboard l WHERE l.{board_key} = :a"
            ),
            {"a": account_hex},
        )
    )
    if "class-0" in done:
        owner = _one(
            connection,
            "SELECT ubo_user_id FROM trading_accounts WHERE account_id = :a",
            a=account_hex,
        )
    else:  # the 1:1 era: the bit pattern, for a customer account whose user exists
        owner = _one(
            connection,
            "SELECT u.user_id FROM users u JOIN trading_accounts t "
            "ON t.account_id = u.user_id WHERE t.kind = 'customer' "
            "AND t.account_id = :a",
            a=account_hex,
        )
    reads["owner"] = None if owner is None else owner[0]
    flag_sql = (
        "SELECT is_frozen, is_close_only FROM trading_accounts WHERE account_id = :a"
        if flags_on_account
        else "SELECT is_frozen, is_close_only FROM users WHERE user_id = :a"
    )
    flags = connection.execute(text(flag_sql), {"a": account_hex}).first()
    if flags is None:  # no user behind it (a system account): only the account's copy
        flags = connection.execute(
            text("SELECT is_frozen, is_close_only FROM trading_accounts WHERE account_id = :a"),
            {"a": account_hex},
        ).first()
    reads["frozen_close_only"] = None if flags is None else (bool(flags[0]), bool(flags[1]))
    return reads


def _key_principal(
    connection: Connection, key_hex: str, done: frozenset[str]
) -> tuple[str, str, tuple[str, ...]] | None:
    """(user, account it acts on, scope): a legacy key acts on its user's default account
    with the legacy scope, before and after the API-key rework alike."""
    if "api-keys" not in done:
        row = _one(connection, "SELECT user_id FROM api_keys WHERE key_id = :k", k=key_hex)
        if row is None:
            return None
        return (row[0], row[0], tuple(Permissions.FLAG_NAMES))
    found = connection.execute(
        text(
            f"SELECT user_id, account_id, {', '.join(Permissions.FLAG_NAMES)} "
            "FROM api_keys WHERE key_id = :k"
        ),
        {"k": key_hex},
    ).first()
    if found is None:
        return None
    scope = tuple(name for name, on in zip(Permissions.FLAG_NAMES, found[2:], strict=True) if on)
    return (found[0], found[1], scope)
