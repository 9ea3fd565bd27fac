"""Helpers of the rollout tests: empty databases, the fixed reads, whole-database snapshots."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, inspect, text

from axadapters.sql.rollout.plan import PLAN
from axadapters.sql.rollout.reads import read_all
from axadapters.sql.rollout.tracker import read_states

SAMPLE_PLAIN_USERS = 40


def sample_accounts(engine: Engine) -> list[str]:
    """Plain accounts plus every edge case the generator makes: frozen or close-only users,
    grant-less accounts, 128-bit balances, system accounts."""
    queries = (
        f"SELECT account_id FROM trading_accounts WHERE kind = 'customer' "
        f"ORDER BY account_id LIMIT {SAMPLE_PLAIN_USERS}",
        "SELECT user_id FROM users WHERE is_frozen OR is_close_only",
        "SELECT account_id FROM trading_accounts t WHERE NOT EXISTS "
        "(SELECT 1 FROM account_permissions p WHERE p.account_id = t.account_id)",
        "SELECT user_id FROM current_balances WHERE LENGTH(CAST(balance_micro_usd AS TEXT)) > 19",
    )
    found: set[str] = set()
    with engine.connect() as connection:
        for sql in queries:
            found.update(connection.execute(text(sql)).scalars())
    return sorted(found)


def sample_keys(engine: Engine, accounts: list[str]) -> list[str]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT key_id, user_id FROM api_keys")).all()
    wanted = set(accounts)
    return sorted(key for key, user in rows if user in wanted)


def fixed_reads(engine: Engine, accounts: list[str], keys: list[str]) -> dict[str, Any]:
    """Balance, loss limit, LTV, deposit addresses, leaderboard ranks, owner, flags of each
    account, and each key's principal, each asked as the application of that moment would
    (``reads``: a step's new columns are used once it is done)."""
    done = frozenset(name for name, state in read_states(engine).items() if state.done)
    return read_all(engine, accounts, keys, done)


def snapshot(engine: Engine) -> dict[str, Any]:
    """Every table's shape and sorted rows: equal snapshots mean nothing changed."""
    result: dict[str, Any] = {}
    with engine.connect() as connection:
        inspector = inspect(connection)
        for table in sorted(inspector.get_table_names()):
            shape = (
                [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
                inspector.get_pk_constraint(table)["constrained_columns"],
                sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)),
            )
            rows = sorted(
                tuple(str(value) for value in row)
                for row in connection.execute(text(f"SELECT * FROM {table}"))
            )
            result[table] = (shape, rows)
    return result


def step_names() -> list[str]:
    return [step.name for step in PLAN]
