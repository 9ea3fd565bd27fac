"""The 1:1-era schema a live exchange starts the rollout from (seed 000 §2c.1).

In that era ``user_id`` meant everything: a user's one account had the user's bit pattern,
money tables were keyed by ``user_id``, close-only / frozen and the fee schedule lived on
``users``, and an API key belonged to a user only. This module describes exactly that
state as SQLAlchemy tables, so ``create_legacy_schema`` builds it on PostgreSQL and on
SQLite alike. It is a fixture of the rollout kit, never part of the library's Alembic
history.

Names follow the library's conventions wherever the rollout does not change a column
(``user_id`` rather than ``id``, units in names such as ``period_start_ns``): a deployment
whose names differ renames them before step 1; the rollout is about keys, not spelling.
What differs from the library's schema is exactly what the rollout migrates;

which step changes which table is tabled in docs/rollout.md.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    inspect,
)
from sqlalchemy.types import CHAR

from axadapters.sql.schema import ID_CHARS, Int128
from axdomain.errors import Conflict
from axdomain.permissions import Permissions

legacy_metadata = MetaData()


def _id(name: str, *args: object, **kwargs: object) -> Column[str]:
    return Column(name, CHAR(ID_CHARS), *args, **kwargs)  # type: ignore[arg-type]


def _original_flags() -> list[Column[bool]]:
    return [Column(name, Boolean, nullable=False) for name in Permissions.ORIGINAL_FLAG_NAMES]


users = Table(
    "users",
    legacy_metadata,
    _id("user_id", primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("created_at_ns", BigInteger, nullable=False),
    # Account facts kept on the user in the 1:1 era (the db/postgres/1.sql:30 TODO).
    Column("is_frozen", Boolean, nullable=False),
    Column("is_close_only", Boolean, nullable=False),
    Column("maker_fee", Integer, nullable=False),  # basis points
    Column("taker_fee", Integer, nullable=False),  # basis points
    Column("ep3_username", String(64), nullable=True),
    Column("ep3_account", String(64), nullable=True),
)

trading_accounts = Table(
    "trading_accounts",
    legacy_metadata,
    _id("account_id", primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("is_frozen", Boolean, nullable=False),
    Column("is_close_only", Boolean, nullable=False),
    Column("maker_fee_bps", Integer, nullable=False),
    Column("taker_fee_bps", Integer, nullable=False),
    Column("max_open_positions", BigInteger, nullable=False),
    Column("max_notional_micro_usd", BigInteger, nullable=False),
    Column("monthly_loss_limit_micro_usd", BigInteger, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    CheckConstraint("kind IN ('customer', 'system')", name="ck_trading_accounts_kind"),
)

account_permissions = Table(
    "account_permissions",
    legacy_metadata,
    _id("user_id", ForeignKey("users.user_id"), nullable=False),
    _id("account_id", ForeignKey("trading_accounts.account_id"), nullable=False),
    *_original_flags(),
    PrimaryKeyConstraint("user_id", "account_id", name="pk_account_permissions"),
    Index("ix_account_permissions_account", "account_id", "user_id"),
)

api_keys = Table(
    "api_keys",
    legacy_metadata,
    _id("key_id", primary_key=True),
    _id("user_id", ForeignKey("users.user_id"), nullable=False),
    Column("secret_hash", String(128), nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("revoked_at_ns", BigInteger, nullable=True),
    Index("ix_api_keys_user", "user_id", "key_id"),
)

current_balances = Table(
    "current_balances",
    legacy_metadata,
    _id("user_id", primary_key=True),
    _id("account_id", nullable=False),  # A-2946: added NOT NULL with a 1:1 backfill
    Column("balance_micro_usd", Int128, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
)

monthly_loss_limits = Table(
    "monthly_loss_limits",
    legacy_metadata,
    _id("user_id", ForeignKey("users.user_id"), primary_key=True),
    Column("limit_micro_usd", BigInteger, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
)

loan_to_value_monitors = Table(
    "loan_to_value_monitors",
    legacy_metadata,
    _id("user_id", ForeignKey("users.user_id"), primary_key=True),
    Column("margin_call_ltv_bps", Integer, nullable=False),
    Column("liquidation_ltv_bps", Integer, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
)

blockchain_deposit_addresses = Table(
    "blockchain_deposit_addresses",
    legacy_metadata,
    _id("user_id", ForeignKey("users.user_id"), nullable=False),
    Column("blockchain", String(32), nullable=False),
    Column("asset", String(32), nullable=False),
    Column("address", String(128), nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    PrimaryKeyConstraint("user_id", "blockchain", "asset", name="pk_deposit_addresses"),
    UniqueConstraint("blockchain", "address", name="uq_deposit_addresses_chain_address"),
)

# Historical rows: no foreign key, a ranking outlives the row of the user it ranked.
leaderboard = Table(
    "leaderboard",
    legacy_metadata,
    Column("metric", String(64), nullable=False),
    Column("cadence", String(64), nullable=False),
    Column("period_start_ns", BigInteger, nullable=False),
    _id("user_id", nullable=False),
    Column("score", BigInteger, nullable=False),
    PrimaryKeyConstraint("metric", "cadence", "period_start_ns", "user_id", name="pk_leaderboard"),
    Index("ix_leaderboard_rank", "metric", "cadence", "period_start_ns", "score"),
)

LEGACY_TABLES = tuple(legacy_metadata.tables)


def create_legacy_schema(engine: Engine) -> None:
    """Create the 1:1-era tables in an empty database (refuses a database that has any)."""
    present = sorted(set(inspect(engine).get_table_names()) & set(LEGACY_TABLES))
    if present:
        raise Conflict("database", ", ".join(present), "already has tables; use an empty one")
    legacy_metadata.create_all(engine)
