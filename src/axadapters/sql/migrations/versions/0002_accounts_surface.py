"""The complete account-scoped surface: two new permission flags, operators, key expiry and
networks, operator audit records, delisted instruments, order progress, fills and
idempotency records.

``can_transfer`` and ``can_manage`` are set on every stored grant (and legacy-era key
scope) that holds all five original flags: such a grant meant "everything" when it was
written, and FULL_ACCESS now includes both (SPEC §3).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

ORIGINAL = ("can_list", "can_read", "can_set_limits", "can_reduce_or_close", "can_trade")
NEW_FLAGS = ("can_transfer", "can_manage")
APP_ROLE = "ax_app"


def _id(name: str, *args: object, **kwargs: object) -> sa.Column[str]:
    return sa.Column(name, sa.CHAR(16), *args, **kwargs)  # type: ignore[arg-type]


def _seq() -> sa.Column[int]:
    return sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )


def _all_five(prefix: str = "") -> str:
    return " AND ".join(f"{prefix}{flag}" for flag in ORIGINAL)


def upgrade() -> None:
    for table in ("account_permissions", "api_keys"):
        with op.batch_alter_table(table) as batch:
            for flag in NEW_FLAGS:
                batch.add_column(
                    sa.Column(flag, sa.Boolean, nullable=False, server_default=sa.false())
                )
        sets = ", ".join(
            f"{flag} = {sa.true().compile(dialect=op.get_bind().dialect)}" for flag in NEW_FLAGS
        )
        op.execute(f"UPDATE {table} SET {sets} WHERE {_all_five()}")
        with op.batch_alter_table(table) as batch:
            for flag in NEW_FLAGS:
                batch.alter_column(flag, server_default=None)
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at_ns", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("allowed_cidrs", sa.String(1400), nullable=True))
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("actor_user_id", existing_type=sa.CHAR(16), nullable=True)
        batch.alter_column("account_id", existing_type=sa.CHAR(16), nullable=True)
        batch.add_column(_id("actor_operator_id", nullable=True))
        for prefix in ("grant_", "key_"):
            for flag in NEW_FLAGS:
                batch.add_column(sa.Column(f"{prefix}{flag}", sa.Boolean, nullable=True))
    op.execute(
        "UPDATE audit_log SET grant_can_transfer = "
        f"({_all_five('grant_')}), grant_can_manage = ({_all_five('grant_')}) "
        "WHERE grant_can_trade IS NOT NULL"
    )
    op.execute(
        f"UPDATE audit_log SET key_can_transfer = ({_all_five('key_')}), "
        f"key_can_manage = ({_all_five('key_')}) WHERE key_can_trade IS NOT NULL"
    )
    with op.batch_alter_table("instruments") as batch:
        batch.add_column(sa.Column("delisted_at_ns", sa.BigInteger, nullable=True))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("filled_lots", sa.BigInteger, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("status_reason", sa.String(128), nullable=True))
        batch.create_index("ix_orders_account", ["account_id", "seq"])
        batch.drop_constraint("uq_orders_account_client_order_id", type_="unique")
    op.create_index(
        "uq_orders_account_open_client_order_id",
        "orders",
        ["account_id", "client_order_id"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )
    with op.batch_alter_table("orders") as batch:
        batch.alter_column("filled_lots", server_default=None)
    op.create_table(
        "operators",
        _id("operator_id", primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(128), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger, nullable=False),
        sa.Column("revoked_at_ns", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "fills",
        _seq(),
        _id("order_id", nullable=False),
        sa.Column("qty_transfer_id", sa.CHAR(32), nullable=False),
        _id("account_id", nullable=False),
        sa.Column("contract_id", sa.BigInteger, nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("qty_lots", sa.BigInteger, nullable=False),
        sa.Column("price_micro_usd", sa.BigInteger, nullable=False),
        sa.Column("fee_micro_usd", sa.BigInteger, nullable=False),
        sa.Column("is_maker", sa.Boolean, nullable=False),
        sa.Column("at_ns", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("order_id", "qty_transfer_id", name="uq_fills_order_transfer"),
        sa.Index("ix_fills_account", "account_id", "seq"),
    )
    op.create_table(
        "idempotency_records",
        _id("account_id", nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("request_hash", sa.CHAR(64), nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("response_json", sa.Text, nullable=False),
        sa.Column("created_at_ns", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "idempotency_key", name="pk_idempotency_records"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            DO $$
            BEGIN
                IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                    GRANT SELECT, INSERT, UPDATE, DELETE
                        ON operators, fills, idempotency_records TO {APP_ROLE};
                    GRANT USAGE, SELECT ON SEQUENCE fills_seq_seq TO {APP_ROLE};
                END IF;
            END $$
            """
        )


def downgrade() -> None:
    op.drop_table("idempotency_records")
    op.drop_table("fills")
    op.drop_table("operators")
    op.drop_index("uq_orders_account_open_client_order_id", "orders")
    with op.batch_alter_table("orders") as batch:
        batch.create_unique_constraint(
            "uq_orders_account_client_order_id", ["account_id", "client_order_id"]
        )
        batch.drop_index("ix_orders_account")
        batch.drop_column("status_reason")
        batch.drop_column("filled_lots")
    with op.batch_alter_table("instruments") as batch:
        batch.drop_column("delisted_at_ns")
    with op.batch_alter_table("audit_log") as batch:
        for prefix in ("grant_", "key_"):
            for flag in NEW_FLAGS:
                batch.drop_column(f"{prefix}{flag}")
        batch.drop_column("actor_operator_id")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("allowed_cidrs")
        batch.drop_column("expires_at_ns")
    for table in ("account_permissions", "api_keys"):
        with op.batch_alter_table(table) as batch:
            for flag in NEW_FLAGS:
                batch.drop_column(flag)
