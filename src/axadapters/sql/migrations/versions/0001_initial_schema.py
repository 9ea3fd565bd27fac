"""Initial schema: identity, ownership, membership, products, orders, audit, money records.

Written out in full rather than generated from ``schema.py`` so that later edits to the
Python tables can never rewrite history; ``tests/contract`` checks the two agree.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

FLAGS = ("can_list", "can_read", "can_set_limits", "can_reduce_or_close", "can_trade")
APP_ROLE = "ax_app"
APPEND_ONLY = "products is append-only"
# Tables the application may change freely; audit_log and products are insert-only.
MUTABLE_TABLES = (
    "users",
    "trading_accounts",
    "account_permissions",
    "api_keys",
    "instruments",
    "orders",
    "account_sequences",
    "current_balances",
    "monthly_loss_limits",
    "loan_to_value_monitors",
    "blockchain_deposit_addresses",
    "leaderboard",
)


def _id(name: str, *args: object, **kwargs: object) -> sa.Column[str]:
    return sa.Column(name, sa.CHAR(16), *args, **kwargs)  # type: ignore[arg-type]


def _flags(prefix: str, *, nullable: bool) -> list[sa.Column[bool]]:
    return [sa.Column(f"{prefix}{flag}", sa.Boolean, nullable=nullable) for flag in FLAGS]


def _seq() -> sa.Column[int]:
    return sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )


def _int128() -> sa.types.TypeEngine[Any]:
    if op.get_bind().dialect.name == "sqlite":
        return sa.String(40)  # decimal text: SQLite would turn a big NUMERIC into a float
    return sa.Numeric(39, 0)


def upgrade() -> None:
    _identity_tables()
    _product_tables()
    _log_tables()
    _money_tables()
    if op.get_bind().dialect.name == "postgresql":
        _postgres_products_guard()
        _postgres_role_grants()
    else:
        _sqlite_products_guard()


def _identity_tables() -> None:
    op.create_table(
        "users",
        _id("user_id", primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at_ns", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "trading_accounts",
        _id("account_id", primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        _id("ubo_user_id", sa.ForeignKey("users.user_id"), nullable=True),
        sa.Column("is_frozen", sa.Boolean, nullable=False),
        sa.Column("is_close_only", sa.Boolean, nullable=False),
        sa.Column("maker_fee_bps", sa.Integer, nullable=False),
        sa.Column("taker_fee_bps", sa.Integer, nullable=False),
        sa.Column("max_open_positions", sa.BigInteger, nullable=False),
        sa.Column("max_notional_micro_usd", sa.BigInteger, nullable=False),
        sa.Column("monthly_loss_limit_micro_usd", sa.BigInteger, nullable=False),
        sa.Column("created_at_ns", sa.BigInteger, nullable=False),
        sa.CheckConstraint("kind IN ('customer', 'system')", name="ck_trading_accounts_kind"),
        sa.CheckConstraint(
            "(kind = 'system') = (ubo_user_id IS NULL)", name="ck_trading_accounts_ubo_by_kind"
        ),
    )
    op.create_table(
        "account_permissions",
        _id("user_id", sa.ForeignKey("users.user_id"), nullable=False),
        _id("account_id", sa.ForeignKey("trading_accounts.account_id"), nullable=False),
        *_flags("", nullable=False),
        sa.PrimaryKeyConstraint("user_id", "account_id", name="pk_account_permissions"),
    )
    op.create_index(
        "ix_account_permissions_account", "account_permissions", ["account_id", "user_id"]
    )
    op.create_table(
        "api_keys",
        _id("key_id", primary_key=True),
        _id("user_id", sa.ForeignKey("users.user_id"), nullable=False),
        _id("account_id", nullable=False),
        sa.Column("is_legacy", sa.Boolean, nullable=False),
        *_flags("", nullable=False),
        sa.Column("secret_hash", sa.String(128), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger, nullable=False),
        sa.Column("revoked_at_ns", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_api_keys_user", "api_keys", ["user_id", "key_id"])


def _product_tables() -> None:
    op.create_table(
        "products",
        sa.Column("product_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at_ns", sa.BigInteger, nullable=False),
        sa.CheckConstraint("product_id % 2 = 1", name="ck_products_product_id_odd"),
    )
    op.create_table(
        "product_id_allocation",
        sa.Column("singleton", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_product_id", sa.BigInteger, nullable=False),
        sa.CheckConstraint("singleton = 1", name="ck_product_id_allocation_singleton"),
    )
    op.create_table(
        "instruments",
        sa.Column("symbol", sa.String(64), primary_key=True),
        sa.Column(
            "product_id", sa.BigInteger, sa.ForeignKey("products.product_id"), nullable=False
        ),
        sa.Column("contract_date", sa.Integer, nullable=False),
        sa.Column("contract_id", sa.BigInteger, nullable=False, unique=True),
        sa.Column("expiration_ns", sa.BigInteger, nullable=True),
    )


def _log_tables() -> None:
    op.create_table(
        "audit_log",
        _seq(),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("at_ns", sa.BigInteger, nullable=False),
        _id("actor_user_id", nullable=False),
        _id("account_id", nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("allowed", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        *_flags("grant_", nullable=True),
        _id("key_id", nullable=True),
        *_flags("key_", nullable=True),
    )
    op.create_index("ix_audit_log_account", "audit_log", ["account_id", "seq"])
    op.create_table(
        "orders",
        _seq(),
        _id("order_id", nullable=False, unique=True),
        _id("account_id", nullable=False),
        _id("user_id", nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("contract_id", sa.BigInteger, nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("qty_lots", sa.BigInteger, nullable=False),
        sa.Column("limit_price_micro_usd", sa.BigInteger, nullable=False),
        sa.Column("time_in_force", sa.String(8), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reduce_only", sa.Boolean, nullable=False),
        sa.UniqueConstraint(
            "account_id", "client_order_id", name="uq_orders_account_client_order_id"
        ),
    )
    op.create_index("ix_orders_contract_status", "orders", ["contract_id", "status", "seq"])
    op.create_table(
        "account_sequences",
        _id("account_id", primary_key=True),
        sa.Column("last_allocated", sa.BigInteger, nullable=False),
        sa.CheckConstraint("last_allocated >= 0", name="ck_account_sequences_nonneg"),
    )


def _money_tables() -> None:
    op.create_table(
        "current_balances",
        _id("account_id", primary_key=True),
        sa.Column("balance_micro_usd", _int128(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "monthly_loss_limits",
        _id("account_id", primary_key=True),
        sa.Column("limit_micro_usd", sa.BigInteger, nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "loan_to_value_monitors",
        _id("account_id", primary_key=True),
        sa.Column("margin_call_ltv_bps", sa.Integer, nullable=False),
        sa.Column("liquidation_ltv_bps", sa.Integer, nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "blockchain_deposit_addresses",
        _id("account_id", nullable=False),
        sa.Column("blockchain", sa.String(32), nullable=False),
        sa.Column("asset", sa.String(32), nullable=False),
        sa.Column("address", sa.String(128), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "blockchain", "asset", name="pk_deposit_addresses"),
        sa.UniqueConstraint("blockchain", "address", name="uq_deposit_addresses_chain_address"),
    )
    op.create_table(
        "leaderboard",
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("cadence", sa.String(64), nullable=False),
        sa.Column("period_start_ns", sa.BigInteger, nullable=False),
        _id("account_id", nullable=False),
        sa.Column("score", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "metric", "cadence", "period_start_ns", "account_id", name="pk_leaderboard"
        ),
    )
    op.create_index(
        "ix_leaderboard_rank", "leaderboard", ["metric", "cadence", "period_start_ns", "score"]
    )


def _postgres_products_guard() -> None:
    """RFC 004 "Write-once product IDs": a never-reissued odd sequence plus triggers."""
    op.execute("CREATE SEQUENCE product_id_seq AS BIGINT START 1001 INCREMENT 2 MINVALUE 1001")
    op.execute(
        f"""
        CREATE FUNCTION products_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{APPEND_ONLY}' USING ERRCODE = 'integrity_constraint_violation';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER products_no_update_or_delete BEFORE UPDATE OR DELETE ON products "
        "FOR EACH ROW EXECUTE FUNCTION products_append_only()"
    )
    # TRUNCATE bypasses row triggers, so it needs its own statement trigger.
    op.execute(
        "CREATE TRIGGER products_no_truncate BEFORE TRUNCATE ON products "
        "FOR EACH STATEMENT EXECUTE FUNCTION products_append_only()"
    )


def _postgres_role_grants() -> None:
    """The application role may read and insert products, never change or remove them.

    The role is cluster-wide, so creating it tolerates a concurrent creator and a migrating
    user without CREATEROLE (then the grants are left to the operator; docs/storage.md).
    """
    mutable = ", ".join(MUTABLE_TABLES)
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                BEGIN
                    CREATE ROLE {APP_ROLE} NOLOGIN;
                EXCEPTION
                    WHEN duplicate_object OR unique_violation THEN NULL;
                    WHEN insufficient_privilege THEN
                        RAISE NOTICE 'cannot create role {APP_ROLE}; grant it by hand';
                        RETURN;
                END;
            END IF;
            REVOKE ALL ON products FROM PUBLIC;
            GRANT SELECT, INSERT ON products TO {APP_ROLE};
            GRANT USAGE, SELECT ON SEQUENCE product_id_seq TO {APP_ROLE};
            GRANT SELECT, INSERT ON audit_log TO {APP_ROLE};
            GRANT USAGE, SELECT ON SEQUENCE audit_log_seq_seq, orders_seq_seq TO {APP_ROLE};
            GRANT SELECT, INSERT, UPDATE, DELETE ON {mutable} TO {APP_ROLE};
        END $$
        """
    )


def _sqlite_products_guard() -> None:
    op.execute("INSERT INTO product_id_allocation (singleton, last_product_id) VALUES (1, 999)")
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER products_no_{event.lower()} BEFORE {event} ON products "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )
    op.execute(
        "CREATE TRIGGER product_id_allocation_forward_only BEFORE UPDATE ON product_id_allocation "
        "WHEN NEW.last_product_id < OLD.last_product_id "
        "BEGIN SELECT RAISE(ABORT, 'product ids are never reissued'); END"
    )
    op.execute(
        "CREATE TRIGGER product_id_allocation_no_delete BEFORE DELETE ON product_id_allocation "
        "BEGIN SELECT RAISE(ABORT, 'product ids are never reissued'); END"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS products_no_truncate ON products")
        op.execute("DROP TRIGGER IF EXISTS products_no_update_or_delete ON products")
        op.execute("DROP FUNCTION IF EXISTS products_append_only()")
    for table in (
        "leaderboard",
        "blockchain_deposit_addresses",
        "loan_to_value_monitors",
        "monthly_loss_limits",
        "current_balances",
        "account_sequences",
        "orders",
        "audit_log",
        "instruments",
        "product_id_allocation",
        "products",
        "api_keys",
        "account_permissions",
        "trading_accounts",
        "users",
    ):
        op.drop_table(table)
    if bind.dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS product_id_seq")
