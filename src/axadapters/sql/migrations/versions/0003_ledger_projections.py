"""Projections of the committed ledger and the state that must survive a restart.

``account_events`` (the durable sequence numbers), ``position_records`` and
``transaction_records`` are keyed ``(account_id, sequence_number)`` and written with the
``projection_cursor`` in one transaction; ``account_flag_changes`` is the frozen/close-only
history U3 reads; ``pending_fills`` holds a fill between its durable intent and the ledger's
answer.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

APP_ROLE = "ax_app"
TABLES = (
    "account_events",
    "position_records",
    "transaction_records",
    "projection_cursor",
    "account_flag_changes",
    "pending_fills",
)


def _id(name: str, *args: object, **kwargs: object) -> sa.Column[str]:
    return sa.Column(name, sa.CHAR(16), *args, **kwargs)  # type: ignore[arg-type]


def _int128() -> sa.types.TypeEngine[Any]:
    if op.get_bind().dialect.name == "sqlite":
        return sa.String(40)
    return sa.Numeric(39, 0)


def upgrade() -> None:
    op.create_table(
        "account_events",
        _id("account_id", nullable=False),
        sa.Column("sequence_number", sa.BigInteger, nullable=False),
        sa.Column("first_transfer_id", sa.CHAR(32), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "sequence_number", name="pk_account_events"),
    )
    op.create_table(
        "position_records",
        _id("account_id", nullable=False),
        sa.Column("sequence_number", sa.BigInteger, nullable=False),
        sa.Column("contract_id", sa.BigInteger, nullable=False),
        sa.Column("qty_lots", _int128(), nullable=False),
        sa.Column("basis_micro_usd", _int128(), nullable=False),
        sa.Column("timestamp_ns", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "sequence_number", name="pk_position_records"),
    )
    op.create_table(
        "transaction_records",
        _id("account_id", nullable=False),
        sa.Column("sequence_number", sa.BigInteger, nullable=False),
        sa.Column("amounts_json", sa.Text, nullable=False),
        sa.Column("transfer_ids_json", sa.Text, nullable=False),
        sa.Column("timestamp_ns", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "sequence_number", name="pk_transaction_records"),
    )
    op.create_table(
        "projection_cursor",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("transfers_projected", sa.BigInteger, nullable=False),
        sa.Column("last_transfer_id", sa.CHAR(32), nullable=False),
    )
    op.create_table(
        "account_flag_changes",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        _id("account_id", nullable=False),
        sa.Column("at_ns", sa.BigInteger, nullable=False),
        sa.Column("is_frozen", sa.Boolean, nullable=False),
        sa.Column("is_close_only", sa.Boolean, nullable=False),
        sa.Index("ix_account_flag_changes_account", "account_id", "seq"),
    )
    op.create_table(
        "pending_fills",
        _id("taker_order_id", nullable=False),
        sa.Column("fill_key", sa.BigInteger, nullable=False),
        _id("maker_order_id", nullable=False),
        sa.Column("qty_lots", sa.BigInteger, nullable=False),
        sa.Column("price_micro_usd", sa.BigInteger, nullable=False),
        sa.Column("first_transfer_id", sa.CHAR(32), nullable=False),
        sa.PrimaryKeyConstraint("taker_order_id", "fill_key", name="pk_pending_fills"),
    )
    if op.get_bind().dialect.name == "postgresql":
        tables = ", ".join(TABLES)
        op.execute(
            f"""
            DO $$
            BEGIN
                IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                    GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {APP_ROLE};
                    GRANT USAGE, SELECT ON SEQUENCE account_flag_changes_seq_seq TO {APP_ROLE};
                END IF;
            END $$
            """
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
