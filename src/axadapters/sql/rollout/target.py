"""The rollout's target: the migrated tables as the library's revision 0002 leaves them.

Written out in full (like a migration script) rather than taken from ``schema.py``: the
rollout converges on a released revision, then hands the database to the library's own
Alembic history (``upgrade`` to head), so a later revision that changes one of these
tables applies to a rolled-out database exactly as to a fresh one. SQLite uses these
definitions to rebuild a table whose key changes; PostgreSQL reaches the same shape with
``ALTER TABLE``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.types import CHAR

from axadapters.sql.schema import ID_CHARS, Int128
from axdomain.permissions import Permissions

REVISION = "0002"

target_metadata = MetaData()


def _id(name: str, *args: object, **kwargs: object) -> Column[str]:
    return Column(name, CHAR(ID_CHARS), *args, **kwargs)  # type: ignore[arg-type]


# Referenced tables, so the foreign keys below resolve; their shape is not rebuilt.
Table("users", target_metadata, _id("user_id", primary_key=True))

trading_accounts = Table(
    "trading_accounts",
    target_metadata,
    _id("account_id", primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    _id("ubo_user_id", ForeignKey("users.user_id"), nullable=True),
    Column("is_frozen", Boolean, nullable=False),
    Column("is_close_only", Boolean, nullable=False),
    Column("maker_fee_bps", Integer, nullable=False),
    Column("taker_fee_bps", Integer, nullable=False),
    Column("max_open_positions", BigInteger, nullable=False),
    Column("max_notional_micro_usd", BigInteger, nullable=False),
    Column("monthly_loss_limit_micro_usd", BigInteger, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    CheckConstraint("kind IN ('customer', 'system')", name="ck_trading_accounts_kind"),
    CheckConstraint(
        "(kind = 'system') = (ubo_user_id IS NULL)", name="ck_trading_accounts_ubo_by_kind"
    ),
)

api_keys = Table(
    "api_keys",
    target_metadata,
    _id("key_id", primary_key=True),
    _id("user_id", ForeignKey("users.user_id"), nullable=False),
    _id("account_id", nullable=False),
    Column("is_legacy", Boolean, nullable=False),
    *[Column(name, Boolean, nullable=False) for name in Permissions.FLAG_NAMES],
    Column("secret_hash", String(128), nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("revoked_at_ns", BigInteger, nullable=True),
    Column("expires_at_ns", BigInteger, nullable=True),
    Column("allowed_cidrs", String(1400), nullable=True),
    Index("ix_api_keys_user", "user_id", "key_id"),
)

current_balances = Table(
    "current_balances",
    target_metadata,
    _id("account_id", primary_key=True),
    Column("balance_micro_usd", Int128, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
)

monthly_loss_limits = Table(
    "monthly_loss_limits",
    target_metadata,
    _id("account_id", primary_key=True),
    Column("limit_micro_usd", BigInteger, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
)

loan_to_value_monitors = Table(
    "loan_to_value_monitors",
    target_metadata,
    _id("account_id", primary_key=True),
    Column("margin_call_ltv_bps", Integer, nullable=False),
    Column("liquidation_ltv_bps", Integer, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
)

blockchain_deposit_addresses = Table(
    "blockchain_deposit_addresses",
    target_metadata,
    _id("account_id", nullable=False),
    Column("blockchain", String(32), nullable=False),
    Column("asset", String(32), nullable=False),
    Column("address", String(128), nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "blockchain", "asset", name="pk_deposit_addresses"),
    UniqueConstraint("blockchain", "address", name="uq_deposit_addresses_chain_address"),
)

leaderboard = Table(
    "leaderboard",
    target_metadata,
    Column("metric", String(64), nullable=False),
    Column("cadence", String(64), nullable=False),
    Column("period_start_ns", BigInteger, nullable=False),
    _id("account_id", nullable=False),
    Column("score", BigInteger, nullable=False),
    PrimaryKeyConstraint(
        "metric", "cadence", "period_start_ns", "account_id", name="pk_leaderboard"
    ),
    Index("ix_leaderboard_rank", "metric", "cadence", "period_start_ns", "score"),
)

account_permissions = Table(
    "account_permissions",
    target_metadata,
    _id("user_id", ForeignKey("users.user_id"), nullable=False),
    _id("account_id", ForeignKey("trading_accounts.account_id"), nullable=False),
    *[Column(name, Boolean, nullable=False) for name in Permissions.FLAG_NAMES],
    PrimaryKeyConstraint("user_id", "account_id", name="pk_account_permissions"),
    Index("ix_account_permissions_account", "account_id", "user_id"),
)

# The tables whose key the rollout rewrites, in the seed's classes.
CLASS_A = (current_balances, monthly_loss_limits, loan_to_value_monitors)
CLASS_B = (blockchain_deposit_addresses, leaderboard)
# Every table the rollout migrates in place; ``adopt`` creates the library's others.
MIGRATED_TABLES = (
    "users",
    "trading_accounts",
    "account_permissions",
    "api_keys",
    *(table.name for table in (*CLASS_A, *CLASS_B)),
)
