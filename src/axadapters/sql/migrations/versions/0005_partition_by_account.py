"""PostgreSQL: every table keyed by one account becomes hash-partitioned by ``account_id``.

Each money fact belongs to one account, so a single-account read or write touches one
partition, and the same keys let Citus distribute the tables on ``account_id``
(docs/scale.md, PostgreSQL). PostgreSQL requires every unique key of a partitioned table to
contain the partition key, so the keys change here: a surrogate ``seq`` key becomes
``(account_id, seq)``, the order id is unique per account (it is derived from the account
and the idempotency key; ``SqlOrders.add_order`` still refuses an id another account
holds), and a deposit address is kept to one account by the adapter under an advisory
lock instead of a global unique constraint. SQLite, the embedded default, keeps the plain
layout: this revision does nothing there.

The move keeps every row: for each table a partitioned twin is created ``LIKE`` the old one
(same columns, defaults and checks), filled, given the old table's grants and sequence,
swapped in by name, and only then indexed. It runs in the migration's one transaction,
so it either happens whole or not at all; it holds an exclusive lock on each table while it
copies (plan a maintenance window for a large database).

The number of partitions is read from ``AX_PG_PARTITIONS`` when this revision runs (default
8, from 1 to 1024); changing it later means re-partitioning (dump and restore, or Citus).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import os

import attrs
from alembic import op
from sqlalchemy import text

from axdomain.errors import InvalidValue

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

PARTITIONS_VARIABLE = "AX_PG_PARTITIONS"
DEFAULT_PARTITIONS = 8
MAX_PARTITIONS = 1024
PARTITION_KEY = "account_id"


@attrs.frozen
class Layout:
    """One table's keys and indexes in the plain (0004) and the partitioned (0005) layout.

    ``partitioned_key`` is ``None`` where no primary key can include the partition key
    (``audit_log.account_id`` is NULL for operator records; they hash to partition 0).
    """

    table: str
    pk_name: str
    plain_key: tuple[str, ...]
    partitioned_key: tuple[str, ...] | None
    both: tuple[str, ...] = ()
    plain_only: tuple[str, ...] = ()
    partitioned_only: tuple[str, ...] = ()


def _seq_layout(
    table: str,
    plain_index: str,
    *,
    both: tuple[str, ...] = (),
    plain_unique: tuple[str, ...] = (),
    partitioned_unique: tuple[str, ...] = (),
) -> Layout:
    """A table with a surrogate ``seq``: its ``(account_id, seq)`` index becomes the key."""
    return Layout(
        table,
        f"{table}_pkey",
        ("seq",),
        (PARTITION_KEY, "seq"),
        both=both,
        plain_only=(f"CREATE INDEX {plain_index} ON {table} (account_id, seq)", *plain_unique),
        partitioned_only=partitioned_unique,
    )


LAYOUTS = (
    Layout("current_balances", "current_balances_pkey", ("account_id",), ("account_id",)),
    Layout("monthly_loss_limits", "monthly_loss_limits_pkey", ("account_id",), ("account_id",)),
    Layout(
        "loan_to_value_monitors", "loan_to_value_monitors_pkey", ("account_id",), ("account_id",)
    ),
    Layout("account_sequences", "account_sequences_pkey", ("account_id",), ("account_id",)),
    Layout(
        "idempotency_records",
        "pk_idempotency_records",
        ("account_id", "idempotency_key"),
        ("account_id", "idempotency_key"),
    ),
    Layout(
        "blockchain_deposit_addresses",
        "pk_deposit_addresses",
        ("account_id", "blockchain", "asset"),
        ("account_id", "blockchain", "asset"),
        plain_only=(
            "ALTER TABLE blockchain_deposit_addresses ADD CONSTRAINT "
            "uq_deposit_addresses_chain_address UNIQUE (blockchain, address)",
        ),
        partitioned_only=(
            "CREATE INDEX ix_deposit_addresses_chain_address "
            "ON blockchain_deposit_addresses (blockchain, address)",
        ),
    ),
    Layout(
        "leaderboard",
        "pk_leaderboard",
        ("metric", "cadence", "period_start_ns", "account_id"),
        ("metric", "cadence", "period_start_ns", "account_id"),
        both=(
            "CREATE INDEX ix_leaderboard_rank "
            "ON leaderboard (metric, cadence, period_start_ns, score)",
        ),
    ),
    Layout(
        "account_events",
        "pk_account_events",
        ("account_id", "sequence_number"),
        ("account_id", "sequence_number"),
    ),
    Layout(
        "position_records",
        "pk_position_records",
        ("account_id", "sequence_number"),
        ("account_id", "sequence_number"),
    ),
    Layout(
        "transaction_records",
        "pk_transaction_records",
        ("account_id", "sequence_number"),
        ("account_id", "sequence_number"),
    ),
    _seq_layout(
        "orders",
        "ix_orders_account",
        both=(
            "CREATE INDEX ix_orders_contract_status ON orders (contract_id, status, seq)",
            "CREATE UNIQUE INDEX uq_orders_account_open_client_order_id "
            "ON orders (account_id, client_order_id) WHERE status = 'open'",
        ),
        plain_unique=("ALTER TABLE orders ADD CONSTRAINT orders_order_id_key UNIQUE (order_id)",),
        partitioned_unique=(
            "ALTER TABLE orders ADD CONSTRAINT uq_orders_account_order_id "
            "UNIQUE (account_id, order_id)",
        ),
    ),
    _seq_layout(
        "fills",
        "ix_fills_account",
        plain_unique=(
            "ALTER TABLE fills ADD CONSTRAINT uq_fills_order_transfer "
            "UNIQUE (order_id, qty_transfer_id)",
        ),
        partitioned_unique=(
            "ALTER TABLE fills ADD CONSTRAINT uq_fills_account_order_transfer "
            "UNIQUE (account_id, order_id, qty_transfer_id)",
        ),
    ),
    _seq_layout("account_flag_changes", "ix_account_flag_changes_account"),
    Layout(
        "audit_log",
        "audit_log_pkey",
        ("seq",),
        None,
        both=("CREATE INDEX ix_audit_log_account ON audit_log (account_id, seq)",),
    ),
)


def partition_count() -> int:
    raw = os.environ.get(PARTITIONS_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_PARTITIONS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PARTITIONS:
        raise InvalidValue(
            PARTITIONS_VARIABLE, raw, f"must be a whole number from 1 to {MAX_PARTITIONS}"
        )
    return int(raw)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    count = partition_count()
    for layout in LAYOUTS:
        _rebuild(
            layout.table,
            count,
            layout.pk_name,
            layout.partitioned_key,
            layout.both + layout.partitioned_only,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for layout in reversed(LAYOUTS):
        _rebuild(
            layout.table, None, layout.pk_name, layout.plain_key, layout.both + layout.plain_only
        )


def _rebuild(
    table: str,
    partitions: int | None,
    pk_name: str,
    key: tuple[str, ...] | None,
    indexes: tuple[str, ...],
) -> None:
    """Replace ``table`` by a copy hash-partitioned into ``partitions`` (or plain for None),
    then key and index it: one index build after the copy beats maintaining it per row."""
    new = f"{table}__moving"
    storage = "" if partitions is None else f"PARTITION BY HASH ({PARTITION_KEY})"
    op.execute(
        f"CREATE TABLE {new} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) {storage}"
    )
    for remainder in range(partitions or 0):
        op.execute(
            f"CREATE TABLE {table}_p{remainder} PARTITION OF {new} "
            f"FOR VALUES WITH (MODULUS {partitions}, REMAINDER {remainder})"
        )
    op.execute(f"INSERT INTO {new} SELECT * FROM {table}")
    _copy_grants(table, new)
    _move_owned_sequences(table, new)
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {new} RENAME TO {table}")
    if key is not None:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {pk_name} PRIMARY KEY ({', '.join(key)})")
    for statement in indexes:
        op.execute(statement)
    if partitions is not None:
        _name_partition_indexes(table)


def _name_partition_indexes(table: str) -> None:
    """A partition's index is named after its parent index (``uq_orders_..._p3``, not
    ``orders_p3_account_id_client_order_id_idx``), so a violation names the key broken."""
    rows = op.get_bind().execute(
        text(
            "SELECT child.relname, parent.relname, part.relname FROM pg_inherits i "
            "JOIN pg_class child ON child.oid = i.inhrelid "
            "JOIN pg_class parent ON parent.oid = i.inhparent AND parent.relkind = 'I' "
            "JOIN pg_index x ON x.indexrelid = child.oid "
            "JOIN pg_class part ON part.oid = x.indrelid "
            "JOIN pg_index px ON px.indexrelid = parent.oid "
            "WHERE px.indrelid = CAST(:t AS regclass)"
        ),
        {"t": table},
    )
    for child, parent, partition in rows.all():
        suffix = partition.removeprefix(table)
        op.execute(f"ALTER INDEX {child} RENAME TO {parent}{suffix}")


def _copy_grants(table: str, new: str) -> None:
    """The same privileges for the same roles (``ax_app`` and whatever an operator added)."""
    rows = op.get_bind().execute(
        text(
            "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END, "
            "a.privilege_type FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a "
            "LEFT JOIN pg_roles r ON r.oid = a.grantee "
            "WHERE c.oid = CAST(:t AS regclass) AND a.grantee <> c.relowner"
        ),
        {"t": table},
    )
    for grantee, privilege in rows.all():
        op.execute(f"GRANT {privilege} ON {new} TO {grantee}")


def _move_owned_sequences(table: str, new: str) -> None:
    """``seq`` keeps drawing from the same sequence (and its grants): dropping the old table
    must not drop the sequence it owns."""
    rows = op.get_bind().execute(
        text(
            "SELECT s.oid::regclass::text, a.attname FROM pg_depend d "
            "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
            "JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
            "WHERE d.refobjid = CAST(:t AS regclass) AND d.deptype = 'a'"
        ),
        {"t": table},
    )
    for sequence, column in rows.all():
        op.execute(f"ALTER SEQUENCE {sequence} OWNED BY {new}.{column}")
