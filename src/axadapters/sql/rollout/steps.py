"""The SQL steps of seed 000's rollout, in the seed's order, each with its backfill and its
verification query.

The steps, what each guarantees and where writers must pause are tabled in
docs/rollout.md.

Every step is idempotent: it inspects the schema and data and does only what is missing,
so running it again (after a kill, or after it finished) changes nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs
from sqlalchemy import Connection, Engine, Table, inspect, text

from axadapters.sql.rollout import target
from axadapters.sql.rollout.ddl import (
    RolloutContext,
    RolloutRefused,
    batched_update,
    check_names,
    columns,
    count,
    pg_constraint,
    pg_unique_index_concurrently,
    pk_name,
    sqlite_rebuild,
    table_columns,
    walk_batches,
)
from axadapters.sql.rollout.verification import Check, Verification, not_applied
from axdomain.errors import InvalidValue
from axdomain.ids import AccountId
from axdomain.participant import generate_participant
from axdomain.permissions import Permissions

UBO_CHECK = "ck_trading_accounts_ubo_by_kind"
UBO_FK = "trading_accounts_ubo_user_id_fkey"  # PostgreSQL's own name for it in a fresh database
ALL_FIVE = " AND ".join(Permissions.ORIGINAL_FLAG_NAMES)
ALL_SEVEN = " AND ".join(Permissions.FLAG_NAMES)
NEW_FLAGS = tuple(name for name in Permissions.FLAG_NAMES if name not in ALL_FIVE)
# What Class C removes from ``users`` (seed §2c.1): account facts duplicated on the user.
DUPLICATED_USER_COLUMNS = (
    "ep3_username",
    "ep3_account",
    "is_close_only",
    "is_frozen",
    "maker_fee",
    "taker_fee",
)
# A user's default account has the user's id (SPEC §3): the 1:1 backfill rule.
DEFAULT_ACCOUNT = "kind = 'customer' AND ubo_user_id = account_id"
MAX_EXAMPLES = 5

Apply = Callable[[RolloutContext], list[str]]
Verify = Callable[[Engine], Verification]


@attrs.frozen
class Step:
    name: str
    seed_ref: str
    title: str
    requires: tuple[str, ...]
    apply: Apply
    verify: Verify


def _select(table: Table, expressions: Mapping[str, str], source: str) -> str:
    """``SELECT`` of ``table``'s columns in order; a column not in ``expressions`` copies."""
    listed = ", ".join(expressions.get(column.name, column.name) for column in table.columns)
    return f"SELECT {listed} FROM {source}"


def _examples(connection: Connection, sql: str) -> str:
    return ", ".join(str(value) for value in connection.execute(text(sql)).scalars())


# --- Class 0 -----------------------------------------------------------------------------


def apply_class_0(ctx: RolloutContext) -> list[str]:
    changes = []
    present = table_columns(ctx.engine, "trading_accounts")
    pending = "kind = 'customer'" + (" AND ubo_user_id IS NULL" if "ubo_user_id" in present else "")
    with ctx.engine.connect() as connection:
        orphans = _examples(
            connection,
            f"SELECT account_id FROM trading_accounts t WHERE {pending} AND NOT EXISTS "
            "(SELECT 1 FROM users u WHERE u.user_id = t.account_id) "
            f"ORDER BY account_id LIMIT {MAX_EXAMPLES}",
        )
    if orphans:
        raise RolloutRefused(
            "trading_accounts",
            orphans,
            "customer accounts with no user of the same id: "
            "the 1:1 backfill has no UBO for them; set ubo_user_id by hand first",
        )
    if "ubo_user_id" not in present:
        with ctx.transaction() as connection:
            if ctx.postgres:  # the foreign key NOT VALID now, validated without blocking later
                connection.execute(
                    text("ALTER TABLE trading_accounts ADD COLUMN ubo_user_id CHAR(16)")
                )
                connection.execute(
                    text(
                        f"ALTER TABLE trading_accounts ADD CONSTRAINT {UBO_FK} FOREIGN KEY "
                        "(ubo_user_id) REFERENCES users (user_id) NOT VALID"
                    )
                )
            else:
                connection.execute(
                    text(
                        "ALTER TABLE trading_accounts "
                        "ADD COLUMN ubo_user_id CHAR(16) REFERENCES users (user_id)"
                    )
                )
        changes.append("trading_accounts: added ubo_user_id (nullable, FK users)")
    filled = batched_update(
        ctx,
        table="trading_accounts",
        key=("account_id",),
        set_sql="ubo_user_id = account_id",
        pending_sql="kind = 'customer' AND ubo_user_id IS NULL",
        label="trading_accounts.ubo_user_id",
    )
    changes.append(f"trading_accounts: ubo_user_id backfilled 1:1 on {filled} customer accounts")
    catch_up = "UPDATE trading_accounts SET ubo_user_id = account_id " + (
        "WHERE kind = 'customer' AND ubo_user_id IS NULL"
    )
    check = "CHECK ((kind = 'system') = (ubo_user_id IS NULL))"
    if ctx.postgres:
        with ctx.engine.connect() as connection:
            state = pg_constraint(connection, "trading_accounts", UBO_CHECK)
        if state is None:
            with ctx.exclusive("trading_accounts") as connection:
                connection.execute(text(catch_up))
                connection.execute(
                    text(
                        f"ALTER TABLE trading_accounts ADD CONSTRAINT {UBO_CHECK} {check} NOT VALID"
                    )
                )
        for constraint in (UBO_FK, UBO_CHECK):
            with ctx.engine.connect() as connection:
                validated = pg_constraint(connection, "trading_accounts", constraint)
            if not validated:
                # VALIDATE takes SHARE UPDATE EXCLUSIVE: readers and writers carry on.
                with ctx.engine.begin() as connection:
                    connection.execute(
                        text(f"ALTER TABLE trading_accounts VALIDATE CONSTRAINT {constraint}")
                    )
                changes.append(f"trading_accounts: {constraint} validated")
    else:
        with ctx.engine.connect() as connection:
            missing = UBO_CHECK not in check_names(connection, "trading_accounts")
        if missing:
            expression = "CASE WHEN kind = 'customer' THEN COALESCE(ubo_user_id, account_id) END"
            sqlite_rebuild(
                ctx,
                target.trading_accounts,
                _select(target.trading_accounts, {"ubo_user_id": expression}, "trading_accounts"),
            )
            changes.append(f"trading_accounts: rebuilt with {UBO_CHECK}")
    return changes


def verify_class_0(engine: Engine) -> Verification:
    with engine.connect() as connection:
        if "ubo_user_id" not in columns(connection, "trading_accounts"):
            return not_applied("trading_accounts.ubo_user_id")
        checks = [
            Check(
                "customer accounts without a UBO",
                count(
                    connection,
                    "SELECT COUNT(*) FROM trading_accounts "
                    "WHERE kind = 'customer' AND ubo_user_id IS NULL",
                ),
            ),
            Check(
                "system accounts with a UBO",
                count(
                    connection,
                    "SELECT COUNT(*) FROM trading_accounts "
                    "WHERE kind = 'system' AND ubo_user_id IS NOT NULL",
                ),
            ),
            Check(
                "default accounts (id of a user) owned by another user",
                count(
                    connection,
                    "SELECT COUNT(*) FROM trading_accounts t JOIN users u "
                    "ON u.user_id = t.account_id WHERE t.ubo_user_id <> t.account_id",
                ),
            ),
        ]
        if engine.dialect.name == "postgresql":
            present = all(
                pg_constraint(connection, "trading_accounts", name) for name in (UBO_FK, UBO_CHECK)
            )
        else:
            present = UBO_CHECK in check_names(connection, "trading_accounts")
        checks.append(
            Check(f"UBO foreign key / {UBO_CHECK} missing or not validated", 0 if present else 1)
        )
    return Verification(tuple(checks))


# --- Class A and Class B: rewrite a key from user_id to account_id ------------------------


def _target_key(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.primary_key.columns)


def _legacy_key(table: Table) -> tuple[str, ...]:
    return tuple("user_id" if name == "account_id" else name for name in _target_key(table))


def rekey(ctx: RolloutContext, table: Table) -> list[str]:
    """Additive ``account_id``, batched 1:1 backfill, verify, then the key swap.

    PostgreSQL keeps the lock of the swap independent of the table's size: while the 1:1-era
    writers still write ``user_id`` only, a row trigger fills ``account_id`` for them; a
    ``CHECK (account_id IS NOT NULL)`` is added ``NOT VALID`` and validated without
    blocking writers, and the new unique index is built ``CONCURRENTLY``. The swap is then
    one short ``ACCESS EXCLUSIVE`` transaction of catalog changes only: ``SET NOT NULL``
    (proved by the validated CHECK, no scan), the index promoted to primary key, ``user_id``
    and the trigger dropped. SQLite rebuilds the table in one transaction.
    """
    name = table.name
    present = table_columns(ctx.engine, name)
    if "user_id" not in present:
        return []
    changes = []
    if ctx.postgres:
        changes += _pg_fill_account_id(ctx, name, present)
    elif "account_id" not in present:
        with ctx.transaction() as connection:
            connection.execute(text(f"ALTER TABLE {name} ADD COLUMN account_id CHAR(16)"))
        changes.append(f"{name}: added account_id (nullable)")
    filled = batched_update(
        ctx,
        table=name,
        key=_legacy_key(table),
        set_sql="account_id = user_id",
        pending_sql="account_id IS NULL",
        label=f"{name}.account_id",
    )
    with ctx.engine.connect() as connection:
        wrong = _examples(
            connection,
            f"SELECT user_id FROM {name} WHERE account_id <> user_id "
            f"ORDER BY user_id LIMIT {MAX_EXAMPLES}",
        )
    if wrong:
        raise RolloutRefused(
            name, wrong, "rows whose account_id is not their user's default account"
        )
    old, new = ", ".join(_legacy_key(table)), ", ".join(_target_key(table))
    if ctx.postgres:
        _pg_swap(ctx, table)
    else:
        sqlite_rebuild(
            ctx, table, _select(table, {"account_id": "COALESCE(account_id, user_id)"}, name)
        )
    changes.append(f"{name}: {filled} rows backfilled; key ({old}) -> ({new}), user_id dropped")
    return changes


def _fill_names(name: str) -> tuple[str, str, str]:
    """The rollout's temporary objects on a table: fill function, trigger, NOT NULL check."""
    return f"{name}_rollout_fill", f"{name}_rollout_fill", f"{name}_rollout_account_id"


def _pg_fill_account_id(
    ctx: RolloutContext, name: str, present: Mapping[str, Mapping[str, object]]
) -> list[str]:
    if "account_id" in present and not present["account_id"]["nullable"]:
        return []  # already NOT NULL (current_balances, A-2946): its writers write it
    function, trigger, check = _fill_names(name)
    with ctx.transaction() as connection:
        connection.execute(text(f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS account_id CHAR(16)"))
        connection.execute(
            text(
                f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN IF NEW.account_id IS NULL THEN NEW.account_id := NEW.user_id; END IF; "
                "RETURN NEW; END $$"
            )
        )
        connection.execute(text(f"DROP TRIGGER IF EXISTS {trigger} ON {name}"))
        connection.execute(
            text(
                f"CREATE TRIGGER {trigger} BEFORE INSERT OR UPDATE ON {name} "
                f"FOR EACH ROW EXECUTE FUNCTION {function}()"
            )
        )
        if pg_constraint(connection, name, check) is None:
            connection.execute(
                text(
                    f"ALTER TABLE {name} ADD CONSTRAINT {check} "
                    "CHECK (account_id IS NOT NULL) NOT VALID"
                )
            )
    return [f"{name}: account_id (filled for 1:1-era writers by a trigger until the swap)"]


def _pg_swap(ctx: RolloutContext, table: Table) -> None:
    name = table.name
    function, trigger, check = _fill_names(name)
    with ctx.engine.connect() as connection:
        validated = pg_constraint(connection, name, check)
    if validated is False:
        # VALIDATE scans with SHARE UPDATE EXCLUSIVE: readers and writers carry on.
        with ctx.engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {name} VALIDATE CONSTRAINT {check}"))
    index = f"{name}_rollout_key"
    pg_unique_index_concurrently(ctx, index, name, _target_key(table))
    with ctx.exclusive(name) as connection:
        legacy_pk = pk_name(connection, name)
        if legacy_pk is not None:
            connection.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {legacy_pk}"))
        primary = table.primary_key.name or f"{name}_pkey"
        connection.execute(
            text(
                f"ALTER TABLE {name} ALTER COLUMN account_id SET NOT NULL, "
                f"ADD CONSTRAINT {primary} PRIMARY KEY USING INDEX {index}"
            )
        )
        if validated is not None:
            connection.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {check}"))
        connection.execute(text(f"DROP TRIGGER IF EXISTS {trigger} ON {name}"))
        connection.execute(text(f"DROP FUNCTION IF EXISTS {function}()"))
        connection.execute(text(f"ALTER TABLE {name} DROP COLUMN user_id"))


def verify_rekeyed(engine: Engine, table: Table, *, historical: bool) -> list[Check]:
    name = table.name
    with engine.connect() as connection:
        present = columns(connection, name)
        if "user_id" in present:
            return list(not_applied(f"{name} still keyed by user_id").checks)
        key = inspect(connection).get_pk_constraint(name)["constrained_columns"]
        orphans = count(
            connection,
            f"SELECT COUNT(*) FROM {name} r WHERE NOT EXISTS "
            "(SELECT 1 FROM trading_accounts t WHERE t.account_id = r.account_id)",
        )
        nulls = count(connection, f"SELECT COUNT(*) FROM {name} WHERE account_id IS NULL")
    return [
        Check(
            f"{name}: primary key is not ({', '.join(_target_key(table))})",
            0 if tuple(key) == _target_key(table) else 1,
        ),
        Check(f"{name}: rows without account_id", nulls),
        Check(
            f"{name}: rows naming no trading account"
            + (" (historical rows, kept)" if historical else ""),
            orphans,
            informational=historical,
        ),
    ]


def apply_class_a(ctx: RolloutContext) -> list[str]:
    return [change for table in target.CLASS_A for change in rekey(ctx, table)]


def verify_class_a(engine: Engine) -> Verification:
    return Verification(
        tuple(c for t in target.CLASS_A for c in verify_rekeyed(engine, t, historical=False))
    )


def apply_class_b(ctx: RolloutContext) -> list[str]:
    return [change for table in target.CLASS_B for change in rekey(ctx, table)]


def verify_class_b(engine: Engine) -> Verification:
    checks = [
        *verify_rekeyed(engine, target.blockchain_deposit_addresses, historical=False),
        *verify_rekeyed(engine, target.leaderboard, historical=True),
    ]
    return Verification(tuple(checks))


# --- Permissions: the two new flags and the #2353 backfill --------------------------------


def apply_permissions(ctx: RolloutContext) -> list[str]:
    changes = []
    present = table_columns(ctx.engine, "account_permissions")
    if ctx.postgres:
        if any(flag not in present for flag in NEW_FLAGS):
            adds = ", ".join(
                f"ADD COLUMN IF NOT EXISTS {flag} BOOLEAN NOT NULL DEFAULT FALSE"
                for flag in NEW_FLAGS
            )
            with ctx.transaction() as connection:
                connection.execute(text(f"ALTER TABLE account_permissions {adds}"))
            changes.append(f"account_permissions: added {', '.join(NEW_FLAGS)}")
        upgraded = batched_update(
            ctx,
            table="account_permissions",
            key=("user_id", "account_id"),
            set_sql=", ".join(f"{flag} = TRUE" for flag in NEW_FLAGS),
            pending_sql=f"{ALL_FIVE} AND NOT ({' AND '.join(NEW_FLAGS)})",
            label="account_permissions (all five flags -> FULL_ACCESS)",
        )
        drops = ", ".join(f"ALTER COLUMN {flag} DROP DEFAULT" for flag in NEW_FLAGS)
        with ctx.transaction() as connection:
            connection.execute(text(f"ALTER TABLE account_permissions {drops}"))
        changes.append(f"account_permissions: {upgraded} all-five grants read as FULL_ACCESS")
    elif any(flag not in present for flag in NEW_FLAGS):
        table = target.account_permissions
        expressions = dict.fromkeys(NEW_FLAGS, f"({ALL_FIVE})")
        sqlite_rebuild(ctx, table, _select(table, expressions, "account_permissions"))
        changes.append(f"account_permissions: rebuilt with {', '.join(NEW_FLAGS)}")
    changes.append(f"#2353 backfill: {_backfill_grants(ctx)} UBOs granted FULL_ACCESS")
    return changes


_GRANTLESS = (
    "kind = 'customer' AND NOT EXISTS "
    "(SELECT 1 FROM account_permissions p WHERE p.account_id = t.account_id)"
)


def _backfill_grants(ctx: RolloutContext) -> int:
    """``axdomain.backfill.plan_permission_backfill`` as set-based SQL, in batches: each
    grant-less customer account's UBO gets FULL_ACCESS; an account with any grant, and every
    system account, is left alone. Each batch holds the grants table against concurrent
    grant writers (so an account gaining a grant meanwhile is never also backfilled)."""
    with ctx.engine.connect() as connection:
        total = count(connection, f"SELECT COUNT(*) FROM trading_accounts t WHERE {_GRANTLESS}")
    if total == 0:
        return 0
    flags = ", ".join(Permissions.FLAG_NAMES)
    trues = ", ".join("TRUE" for _ in Permissions.FLAG_NAMES)

    def run(connection: Connection, range_sql: str, params: dict[str, object]) -> int:
        result = connection.execute(
            text(
                f"INSERT INTO account_permissions (user_id, account_id, {flags}) "
                f"SELECT t.ubo_user_id, t.account_id, {trues} FROM trading_accounts t "
                f"WHERE {range_sql} AND {_GRANTLESS}"
            ),
            params,
        )
        return max(result.rowcount, 0)

    return walk_batches(
        ctx,
        table="trading_accounts",
        key=("account_id",),
        run=run,
        total=total,
        label="grant-less accounts",
        lock_sql="LOCK TABLE account_permissions IN SHARE ROW EXCLUSIVE MODE",
    )


def verify_permissions(engine: Engine) -> Verification:
    with engine.connect() as connection:
        if any(flag not in columns(connection, "account_permissions") for flag in NEW_FLAGS):
            return not_applied("account_permissions.can_transfer / can_manage")
        return Verification(
            (
                Check(
                    "customer accounts without any grant",
                    count(
                        connection, f"SELECT COUNT(*) FROM trading_accounts t WHERE {_GRANTLESS}"
                    ),
                ),
                Check(
                    "grants holding all five original flags but not FULL_ACCESS",
                    count(
                        connection,
                        "SELECT COUNT(*) FROM account_permissions "
                        f"WHERE {ALL_FIVE} AND NOT ({ALL_SEVEN})",
                    ),
                ),
            )
        )


# --- API keys ------------------------------------------------------------------------------


def apply_api_keys(ctx: RolloutContext) -> list[str]:
    """Legacy keys are grandfathered to their user's default account with the legacy scope
    (FULL_ACCESS, intersected with the user's live grant at every request)."""
    present = table_columns(ctx.engine, "api_keys")
    if not ctx.postgres:
        if "account_id" in present:
            return []
        table = target.api_keys
        expressions = {
            "account_id": "user_id",
            "is_legacy": "TRUE",
            "expires_at_ns": "NULL",
            "allowed_cidrs": "NULL",
            **dict.fromkeys(Permissions.FLAG_NAMES, "TRUE"),
        }
        sqlite_rebuild(ctx, table, _select(table, expressions, "api_keys"))
        return ["api_keys: rebuilt with account_id (legacy: default account), scope, expiry"]
    changes = []
    if "account_id" not in present:
        # Every existing key is legacy: the defaults describe them exactly, and adding a
        # column with a constant default rewrites nothing on PostgreSQL 11+.
        adds = ", ".join(
            [
                "ADD COLUMN IF NOT EXISTS account_id CHAR(16)",
                "ADD COLUMN IF NOT EXISTS is_legacy BOOLEAN NOT NULL DEFAULT TRUE",
                *(
                    f"ADD COLUMN IF NOT EXISTS {flag} BOOLEAN NOT NULL DEFAULT TRUE"
                    for flag in Permissions.FLAG_NAMES
                ),
                "ADD COLUMN IF NOT EXISTS expires_at_ns BIGINT",
                "ADD COLUMN IF NOT EXISTS allowed_cidrs VARCHAR(1400)",
            ]
        )
        with ctx.transaction() as connection:
            connection.execute(text(f"ALTER TABLE api_keys {adds}"))
        changes.append("api_keys: added account_id, is_legacy, scope flags, expiry, networks")
        present = table_columns(ctx.engine, "api_keys")
    filled = batched_update(
        ctx,
        table="api_keys",
        key=("key_id",),
        set_sql="account_id = user_id",
        pending_sql="account_id IS NULL",
        label="api_keys.account_id",
    )
    if present["account_id"]["nullable"]:
        drops = ", ".join(
            f"ALTER COLUMN {name} DROP DEFAULT" for name in ("is_legacy", *Permissions.FLAG_NAMES)
        )
        with ctx.exclusive("api_keys") as connection:
            filled += connection.execute(
                text("UPDATE api_keys SET account_id = user_id WHERE account_id IS NULL")
            ).rowcount
            connection.execute(
                text(f"ALTER TABLE api_keys ALTER COLUMN account_id SET NOT NULL, {drops}")
            )
    changes.append(f"api_keys: {filled} legacy keys grandfathered to their default account")
    return changes


def verify_api_keys(engine: Engine) -> Verification:
    with engine.connect() as connection:
        present = columns(connection, "api_keys")
        if "account_id" not in present or present["account_id"]["nullable"]:
            return not_applied("api_keys.account_id NOT NULL")
        return Verification(
            (
                Check(
                    "legacy keys not on their user's default account",
                    count(
                        connection,
                        "SELECT COUNT(*) FROM api_keys WHERE is_legacy AND account_id <> user_id",
                    ),
                ),
                Check(
                    "legacy keys whose scope is not the legacy FULL_ACCESS",
                    count(
                        connection,
                        f"SELECT COUNT(*) FROM api_keys WHERE is_legacy AND NOT ({ALL_SEVEN})",
                    ),
                ),
            )
        )


# --- Step 10b: close-only / freeze move to the account -------------------------------------


_FLAG_DRIFT = (
    f"{DEFAULT_ACCOUNT} AND EXISTS (SELECT 1 FROM users u "
    "WHERE u.user_id = trading_accounts.account_id AND "
    "(u.is_frozen <> trading_accounts.is_frozen "
    "OR u.is_close_only <> trading_accounts.is_close_only))"
)
_COPY_FLAGS = (
    "is_frozen = (SELECT u.is_frozen FROM users u WHERE u.user_id = trading_accounts.account_id), "
    "is_close_only = (SELECT u.is_close_only FROM users u "
    "WHERE u.user_id = trading_accounts.account_id)"
)


# One join (UPDATE ... FROM, SQLite 3.33+) for the catch-up under SQLite's write lock.
_CATCH_UP_FLAGS = (
    "UPDATE trading_accounts SET is_frozen = u.is_frozen, is_close_only = u.is_close_only "
    "FROM users u WHERE u.user_id = trading_accounts.account_id "
    "AND trading_accounts.kind = 'customer' "
    "AND trading_accounts.ubo_user_id = trading_accounts.account_id "
    "AND (u.is_frozen <> trading_accounts.is_frozen "
    "OR u.is_close_only <> trading_accounts.is_close_only)"
)


MIRROR_FLAGS = "users_rollout_mirror_flags"  # PostgreSQL function and trigger name


def apply_close_only_freeze(ctx: RolloutContext) -> list[str]:
    """Copy the user-level flags (the enforced truth until now) onto each user's default
    account, in batches, so that no flag written meanwhile is lost. From then on
    enforcement reads the account.

    PostgreSQL: a trigger on ``users`` mirrors every flag write onto the default account
    from before the first batch until Class C drops the user columns, and a second batched
    pass repairs a write that raced a batch; no lock beyond creating the trigger. SQLite:
    the batches, then one catch-up join under its write lock.
    """
    if "is_frozen" not in table_columns(ctx.engine, "users"):
        return []
    if ctx.postgres:
        with ctx.transaction() as connection:
            connection.execute(
                text(
                    f"CREATE OR REPLACE FUNCTION {MIRROR_FLAGS}() RETURNS trigger "
                    "LANGUAGE plpgsql AS $$ BEGIN UPDATE trading_accounts SET "
                    "is_frozen = NEW.is_frozen, is_close_only = NEW.is_close_only "
                    "WHERE account_id = NEW.user_id AND kind = 'customer' "
                    "AND ubo_user_id = account_id; RETURN NULL; END $$"
                )
            )
            connection.execute(text(f"DROP TRIGGER IF EXISTS {MIRROR_FLAGS} ON users"))
            connection.execute(
                text(
                    f"CREATE TRIGGER {MIRROR_FLAGS} AFTER UPDATE OF is_frozen, is_close_only "
                    f"ON users FOR EACH ROW EXECUTE FUNCTION {MIRROR_FLAGS}()"
                )
            )
    passes = 2 if ctx.postgres else 1
    copied = 0
    for _ in range(passes):
        copied += batched_update(
            ctx,
            table="trading_accounts",
            key=("account_id",),
            set_sql=_COPY_FLAGS,
            pending_sql=_FLAG_DRIFT,
            label="trading_accounts.is_frozen/is_close_only",
        )
    if not ctx.postgres:
        with ctx.exclusive("users") as connection:
            copied += connection.execute(text(_CATCH_UP_FLAGS)).rowcount
    return [f"trading_accounts: close-only/frozen copied from the user on {copied} accounts"]


def verify_close_only_freeze(engine: Engine) -> Verification:
    with engine.connect() as connection:
        if "is_frozen" not in columns(connection, "users"):
            return Verification(
                (Check("users columns retired by Class C; accounts hold the truth", 0),)
            )
        drift = count(connection, f"SELECT COUNT(*) FROM trading_accounts WHERE {_FLAG_DRIFT}")
    return Verification((Check("default accounts whose flags differ from their user's", drift),))


# --- Class C: drop the duplicated users columns --------------------------------------------


def _class_c_refusals(ctx: RolloutContext, present: Mapping[str, object]) -> None:
    with ctx.engine.connect() as connection:
        if "maker_fee" in present:
            drifted = _examples(
                connection,
                "SELECT u.user_id FROM users u JOIN trading_accounts t ON t.account_id = u.user_id "
                "WHERE u.maker_fee <> t.maker_fee_bps OR u.taker_fee <> t.taker_fee_bps "
                f"ORDER BY u.user_id LIMIT {MAX_EXAMPLES}",
            )
            if drifted:
                raise RolloutRefused(
                    "users.maker_fee/taker_fee",
                    drifted,
                    "differ from the default account's fee schedule; reconcile before dropping",
                )
        if "ep3_username" in present:
            rows = connection.execute(
                text("SELECT user_id, ep3_username FROM users WHERE ep3_username IS NOT NULL")
            )
            for user_hex, name in rows:
                expected = generate_participant(
                    AccountId(int(user_hex, 16)), ctx.participant_prefix
                )
                if name != expected:
                    raise RolloutRefused(
                        "users.ep3_username",
                        user_hex,
                        f"is {name!r}, not the account-keyed {expected!r}: not value-preserving",
                    )


def apply_class_c(ctx: RolloutContext) -> list[str]:
    present = table_columns(ctx.engine, "users")
    dropping = [name for name in DUPLICATED_USER_COLUMNS if name in present]
    if not dropping:
        return []
    _class_c_refusals(ctx, present)
    with ctx.exclusive("users") as connection:
        if ctx.postgres:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {MIRROR_FLAGS} ON users"))
            connection.execute(text(f"DROP FUNCTION IF EXISTS {MIRROR_FLAGS}()"))
            drops = ", ".join(f"DROP COLUMN IF EXISTS {name}" for name in dropping)
            connection.execute(text(f"ALTER TABLE users {drops}"))
        else:
            for name in dropping:
                connection.execute(text(f"ALTER TABLE users DROP COLUMN {name}"))
    return [f"users: dropped {', '.join(dropping)}"]


def verify_class_c(engine: Engine) -> Verification:
    with engine.connect() as connection:
        present = columns(connection, "users")
    left = [name for name in DUPLICATED_USER_COLUMNS if name in present]
    return Verification((Check(f"duplicated users columns left ({', '.join(left)})", len(left)),))


def require_step(steps: Mapping[str, Step], name: str) -> Step:
    if name not in steps:
        raise InvalidValue("step", name, f"must be one of: {', '.join(steps)}, all")
    return steps[name]
