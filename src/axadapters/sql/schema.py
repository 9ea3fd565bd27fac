"""The SQL schema as SQLAlchemy Core tables: what the repositories query.

Migrations (``migrations/versions``) are the source of truth for what exists in a database;
this module must describe the same schema, and a test compares the two. Ids are the
canonical 16-hex text (``CHAR(16)``, SPEC §3) so a row reads the same in psql, logs and the
API; fixed width makes text order equal numeric order. Money is integer: ``BIGINT`` for
i64 quantities and ``NUMERIC(39,0)`` for 128-bit values, never a float.

On PostgreSQL the tables in ``PARTITIONED_TABLES`` are hash-partitioned by ``account_id``
(the ``partition_by_account`` migration, docs/scale.md, PostgreSQL); SQLite keeps the plain
layout. Where the two differ, a constraint or index is marked ``ddl_if(dialect=...)``: a
unique key of a partitioned table must contain ``account_id``. Some primary keys differ too
(``(account_id, seq)`` instead of ``seq`` on PostgreSQL): the ``seq`` keys declared below
are SQLite's, which only autoincrements an ``INTEGER PRIMARY KEY``, and
``primary_key_columns`` gives each dialect's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import CHAR, TypeDecorator, TypeEngine

from axdomain.permissions import Permissions

ID_CHARS = 16
ACCOUNT_KINDS = ("customer", "system")

metadata = MetaData()

PARTITION_KEY = "account_id"
# Hash-partitioned by account_id on PostgreSQL; each partition is ``<table>_p<remainder>``.
PARTITIONED_TABLES = (
    "current_balances",
    "monthly_loss_limits",
    "loan_to_value_monitors",
    "account_sequences",
    "idempotency_records",
    "blockchain_deposit_addresses",
    "leaderboard",
    "account_events",
    "position_records",
    "transaction_records",
    "orders",
    "fills",
    "account_flag_changes",
    "audit_log",
)
_PARTITION_NAME = re.compile(rf"^({'|'.join(PARTITIONED_TABLES)})_p[0-9]+$")

_Conditional = TypeVar("_Conditional", Index, UniqueConstraint)


def postgres_only(item: _Conditional) -> _Conditional:
    """A key or index of the partitioned layout (it includes ``account_id``)."""
    return item.ddl_if(dialect="postgresql")


def sqlite_only(item: _Conditional) -> _Conditional:
    """A key or index of the plain layout that partitioning replaces."""
    return item.ddl_if(dialect="sqlite")


def is_partition(table_name: str | None) -> bool:
    return table_name is not None and _PARTITION_NAME.match(table_name) is not None


# Where PostgreSQL's primary key differs from the one declared below (SQLite's): a
# partitioned table's key must hold account_id, and audit_log's account_id may be NULL.
_POSTGRES_PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "orders": (PARTITION_KEY, "seq"),
    "fills": (PARTITION_KEY, "seq"),
    "account_flag_changes": (PARTITION_KEY, "seq"),
    "audit_log": (),
}


def primary_key_columns(table: Table, dialect_name: str) -> list[str]:
    """The primary key a database of this dialect migrated to head has on ``table``."""
    if dialect_name == "postgresql" and table.name in _POSTGRES_PRIMARY_KEYS:
        return list(_POSTGRES_PRIMARY_KEYS[table.name])
    return [column.name for column in table.primary_key.columns]


def schema_comparison_filter(dialect_name: str) -> Callable[..., bool]:
    """An Alembic ``include_object`` hook: skips partitions (their parent is compared) and the
    objects ``ddl_if`` keeps off this dialect, which Alembic does not know about."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "table" and reflected and is_partition(name):
            return False
        condition = getattr(obj, "_ddl_if", None)
        return condition is None or condition.dialect in (None, dialect_name)

    return include


class Int128(TypeDecorator[int]):
    """A signed 128-bit integer: ``NUMERIC(39,0)`` on PostgreSQL, decimal text on SQLite.

    SQLite's NUMERIC affinity turns integers beyond 64 bits into REAL (a float); storing the
    decimal text keeps every digit.
    """

    impl = Numeric(39, 0)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(39, 0, asdecimal=True))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        assert isinstance(value, int) and not isinstance(value, bool), value
        return str(value) if dialect.name == "sqlite" else Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        number = Decimal(value)
        assert number == number.to_integral_value(), value
        return int(number)


def id_column(name: str, *args: Any, **kwargs: Any) -> Column[str]:
    return Column(name, CHAR(ID_CHARS), *args, **kwargs)


def surrogate_seq() -> Column[int]:
    """Insertion order; SQLite only autoincrements an ``INTEGER PRIMARY KEY``."""
    return Column(
        "seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


def flag_columns(prefix: str, *, nullable: bool) -> list[Column[bool]]:
    return [
        Column(f"{prefix}{name}", Boolean, nullable=nullable) for name in Permissions.FLAG_NAMES
    ]


users = Table(
    "users",
    metadata,
    id_column("user_id", primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("created_at_ns", BigInteger, nullable=False),
)

trading_accounts = Table(
    "trading_accounts",
    metadata,
    id_column("account_id", primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    id_column("ubo_user_id", ForeignKey("users.user_id"), nullable=True),
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

account_permissions = Table(
    "account_permissions",
    metadata,
    id_column("user_id", ForeignKey("users.user_id"), nullable=False),
    id_column("account_id", ForeignKey("trading_accounts.account_id"), nullable=False),
    *flag_columns("", nullable=False),
    PrimaryKeyConstraint("user_id", "account_id", name="pk_account_permissions"),
    Index("ix_account_permissions_account", "account_id", "user_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    id_column("key_id", primary_key=True),
    id_column("user_id", ForeignKey("users.user_id"), nullable=False),
    id_column("account_id", nullable=False),
    Column("is_legacy", Boolean, nullable=False),
    *flag_columns("", nullable=False),
    Column("secret_hash", String(128), nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("revoked_at_ns", BigInteger, nullable=True),
    Column("expires_at_ns", BigInteger, nullable=True),
    Column("allowed_cidrs", String(1400), nullable=True),  # comma-separated canonical CIDRs
    Index("ix_api_keys_user", "user_id", "key_id"),
)

operators = Table(
    "operators",
    metadata,
    id_column("operator_id", primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("secret_hash", String(128), nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("revoked_at_ns", BigInteger, nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    surrogate_seq(),
    Column("request_id", String(128), nullable=False),
    Column("at_ns", BigInteger, nullable=False),
    id_column("actor_user_id", nullable=True),
    id_column("account_id", nullable=True),
    Column("action", String(32), nullable=False),
    Column("allowed", Boolean, nullable=False),
    Column("reason", String(32), nullable=False),
    *flag_columns("grant_", nullable=True),
    id_column("key_id", nullable=True),
    *flag_columns("key_", nullable=True),
    id_column("actor_operator_id", nullable=True),
    Index("ix_audit_log_account", "account_id", "seq"),  # PostgreSQL: no key, see above
)

products = Table(
    "products",
    metadata,
    Column("product_id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(64), nullable=False, unique=True),
    Column("created_at_ns", BigInteger, nullable=False),
    CheckConstraint("product_id % 2 = 1", name="ck_products_product_id_odd"),
)

# SQLite has no sequences: one row holds the last product id handed out. Triggers forbid
# moving it backwards or deleting it, so an id is never reissued.
product_id_allocation = Table(
    "product_id_allocation",
    metadata,
    Column("singleton", Integer, primary_key=True, autoincrement=False),
    Column("last_product_id", BigInteger, nullable=False),
    CheckConstraint("singleton = 1", name="ck_product_id_allocation_singleton"),
)

instruments = Table(
    "instruments",
    metadata,
    Column("symbol", String(64), primary_key=True),
    Column("product_id", BigInteger, ForeignKey("products.product_id"), nullable=False),
    Column("contract_date", Integer, nullable=False),
    Column("contract_id", BigInteger, nullable=False, unique=True),
    Column("expiration_ns", BigInteger, nullable=True),
    Column("delisted_at_ns", BigInteger, nullable=True),
)

orders = Table(
    "orders",
    metadata,
    surrogate_seq(),
    id_column("order_id", nullable=False),
    id_column("account_id", nullable=False),
    id_column("user_id", nullable=False),
    Column("client_order_id", String(64), nullable=False),
    Column("contract_id", BigInteger, nullable=False),
    Column("side", String(8), nullable=False),
    Column("qty_lots", BigInteger, nullable=False),
    Column("limit_price_micro_usd", BigInteger, nullable=False),
    Column("time_in_force", String(8), nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reduce_only", Boolean, nullable=False),
    Column("filled_lots", BigInteger, nullable=False),
    Column("status_reason", String(128), nullable=True),
    sqlite_only(UniqueConstraint("order_id")),
    # Order ids derive from (account, idempotency key); SqlOrders.add_order still refuses an
    # id held by another account, which this key alone cannot see on PostgreSQL.
    postgres_only(UniqueConstraint("account_id", "order_id", name="uq_orders_account_order_id")),
    Index("ix_orders_contract_status", "contract_id", "status", "seq"),
    sqlite_only(Index("ix_orders_account", "account_id", "seq")),  # the key on PostgreSQL
    # A client order id is unique among the account's open orders; a closed one may be reused.
    Index(
        "uq_orders_account_open_client_order_id",
        "account_id",
        "client_order_id",
        unique=True,
        postgresql_where=text("status = 'open'"),
        sqlite_where=text("status = 'open'"),
    ),
)

fills = Table(
    "fills",
    metadata,
    surrogate_seq(),
    id_column("order_id", nullable=False),
    Column("qty_transfer_id", CHAR(32), nullable=False),
    id_column("account_id", nullable=False),
    Column("contract_id", BigInteger, nullable=False),
    Column("side", String(8), nullable=False),
    Column("qty_lots", BigInteger, nullable=False),
    Column("price_micro_usd", BigInteger, nullable=False),
    Column("fee_micro_usd", BigInteger, nullable=False),
    Column("is_maker", Boolean, nullable=False),
    Column("at_ns", BigInteger, nullable=False),
    sqlite_only(UniqueConstraint("order_id", "qty_transfer_id", name="uq_fills_order_transfer")),
    postgres_only(
        UniqueConstraint(
            "account_id", "order_id", "qty_transfer_id", name="uq_fills_account_order_transfer"
        )
    ),
    sqlite_only(Index("ix_fills_account", "account_id", "seq")),
)

idempotency_records = Table(
    "idempotency_records",
    metadata,
    id_column("account_id", nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("request_hash", CHAR(64), nullable=False),
    Column("operation", String(32), nullable=False),
    Column("response_json", Text, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "idempotency_key", name="pk_idempotency_records"),
)

account_sequences = Table(
    "account_sequences",
    metadata,
    id_column("account_id", primary_key=True),
    Column("last_allocated", BigInteger, nullable=False),
    CheckConstraint("last_allocated >= 0", name="ck_account_sequences_nonneg"),
)

current_balances = Table(
    "current_balances",
    metadata,
    id_column("account_id", primary_key=True),
    Column("balance_micro_usd", Int128, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
)

monthly_loss_limits = Table(
    "monthly_loss_limits",
    metadata,
    id_column("account_id", primary_key=True),
    Column("limit_micro_usd", BigInteger, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
)

loan_to_value_monitors = Table(
    "loan_to_value_monitors",
    metadata,
    id_column("account_id", primary_key=True),
    Column("margin_call_ltv_bps", Integer, nullable=False),
    Column("liquidation_ltv_bps", Integer, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
)

blockchain_deposit_addresses = Table(
    "blockchain_deposit_addresses",
    metadata,
    id_column("account_id", nullable=False),
    Column("blockchain", String(32), nullable=False),
    Column("asset", String(32), nullable=False),
    Column("address", String(128), nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "blockchain", "asset", name="pk_deposit_addresses"),
    # An address funds one account: on PostgreSQL the adapter checks it under an advisory
    # lock, since a unique key of a partitioned table must include account_id.
    sqlite_only(
        UniqueConstraint("blockchain", "address", name="uq_deposit_addresses_chain_address")
    ),
    postgres_only(Index("ix_deposit_addresses_chain_address", "blockchain", "address")),
)

leaderboard = Table(
    "leaderboard",
    metadata,
    Column("metric", String(64), nullable=False),
    Column("cadence", String(64), nullable=False),
    Column("period_start_ns", BigInteger, nullable=False),
    id_column("account_id", nullable=False),
    Column("score", BigInteger, nullable=False),
    PrimaryKeyConstraint(
        "metric", "cadence", "period_start_ns", "account_id", name="pk_leaderboard"
    ),
    Index("ix_leaderboard_rank", "metric", "cadence", "period_start_ns", "score"),
)

account_events = Table(
    "account_events",
    metadata,
    id_column("account_id", nullable=False),
    Column("sequence_number", BigInteger, nullable=False),
    Column("first_transfer_id", CHAR(32), nullable=False),
    PrimaryKeyConstraint("account_id", "sequence_number", name="pk_account_events"),
)

position_records = Table(
    "position_records",
    metadata,
    id_column("account_id", nullable=False),
    Column("sequence_number", BigInteger, nullable=False),
    Column("contract_id", BigInteger, nullable=False),
    Column("qty_lots", Int128, nullable=False),
    Column("basis_micro_usd", Int128, nullable=False),
    Column("timestamp_ns", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "sequence_number", name="pk_position_records"),
)

transaction_records = Table(
    "transaction_records",
    metadata,
    id_column("account_id", nullable=False),
    Column("sequence_number", BigInteger, nullable=False),
    Column("amounts_json", Text, nullable=False),
    Column("transfer_ids_json", Text, nullable=False),
    Column("timestamp_ns", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "sequence_number", name="pk_transaction_records"),
)

projection_cursor = Table(
    "projection_cursor",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("transfers_projected", BigInteger, nullable=False),
    Column("last_transfer_id", CHAR(32), nullable=False),
)

account_flag_changes = Table(
    "account_flag_changes",
    metadata,
    surrogate_seq(),
    id_column("account_id", nullable=False),
    Column("at_ns", BigInteger, nullable=False),
    Column("is_frozen", Boolean, nullable=False),
    Column("is_close_only", Boolean, nullable=False),
    sqlite_only(Index("ix_account_flag_changes_account", "account_id", "seq")),
)

pending_fills = Table(
    "pending_fills",
    metadata,
    id_column("taker_order_id", nullable=False),
    Column("fill_key", BigInteger, nullable=False),
    id_column("maker_order_id", nullable=False),
    Column("qty_lots", BigInteger, nullable=False),
    Column("price_micro_usd", BigInteger, nullable=False),
    Column("first_transfer_id", CHAR(32), nullable=False),
    PrimaryKeyConstraint("taker_order_id", "fill_key", name="pk_pending_fills"),
)

# Venue credentials (SPEC §14): secrets only as an AES-GCM blob (nonce || ciphertext) under
# ``key_id``; the associated data is (account_id, venue, subaccount_index), so the primary
# key of the row is also what authenticates its blob.
venue_credentials = Table(
    "venue_credentials",
    metadata,
    id_column("account_id", nullable=False),
    Column("venue", String(32), nullable=False),
    Column("subaccount_index", Integer, nullable=False),
    Column("exchange_account_id", String(128), nullable=True),
    Column("is_active", Boolean, nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    PrimaryKeyConstraint("account_id", "venue", "subaccount_index", name="pk_venue_credentials"),
    CheckConstraint("subaccount_index >= 0", name="ck_venue_credentials_subaccount"),
    Index("ix_venue_credentials_key_id", "key_id", "account_id"),
)

venue_credential_shares = Table(
    "venue_credential_shares",
    metadata,
    id_column("primary_account_id", nullable=False),
    id_column("shared_account_id", nullable=False),
    Column("venue", String(32), nullable=False),
    Column("level", String(16), nullable=False),
    PrimaryKeyConstraint("primary_account_id", "venue", name="pk_venue_credential_shares"),
    CheckConstraint(
        "primary_account_id <> shared_account_id", name="ck_venue_credential_shares_not_self"
    ),
    CheckConstraint(
        "level IN ('full', 'read_only', 'positions_only')", name="ck_venue_credential_shares_level"
    ),
    Index("ix_venue_credential_shares_holder", "shared_account_id", "primary_account_id"),
)

lane_cursors = Table(
    "lane_cursors",
    metadata,
    Column("source", String(80), primary_key=True),
    Column("cursor_value", String(128), nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
)

lane_health = Table(
    "lane_health",
    metadata,
    Column("label", String(32), primary_key=True),
    id_column("account_id", nullable=False),
    Column("state", String(16), nullable=False),
    Column("consecutive_failures", BigInteger, nullable=False),
    Column("total_failures", BigInteger, nullable=False),
    Column("last_error", String(500), nullable=True),
    Column("last_error_at_ns", BigInteger, nullable=True),
    Column("next_attempt_at_ns", BigInteger, nullable=True),
    Column("orders_placed", BigInteger, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
)

# Insert-only: the kill-switch audit trail; a lane's switch state is its latest row.
lane_kill_switch_log = Table(
    "lane_kill_switch_log",
    metadata,
    surrogate_seq(),
    Column("label", String(32), nullable=False),
    id_column("account_id", nullable=False),
    Column("engaged", Boolean, nullable=False),
    Column("operator_id", String(128), nullable=False),
    Column("operator_name", String(128), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("at_ns", BigInteger, nullable=False),
    Index("ix_lane_kill_switch_log_label", "label", "seq"),
)

# Who owns each instrument's matching book (``axdomain.leases``): one row per instrument
# ever leased; ``token`` is the fencing token, +1 on every change of owner.
instrument_leases = Table(
    "instrument_leases",
    metadata,
    Column("contract_id", BigInteger, primary_key=True, autoincrement=False),
    Column("owner", String(64), nullable=False),
    Column("token", BigInteger, nullable=False),
    Column("expires_at_ns", BigInteger, nullable=False),
    CheckConstraint("token >= 1", name="ck_instrument_leases_token"),
)
