"""Venue credentials, credential shares and the lanes' durable state (SPEC §14).

Written out in full, like 0001, so later edits to ``schema.py`` never rewrite history.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

APP_ROLE = "ax_app"
MUTABLE_TABLES = ("venue_credentials", "venue_credential_shares", "lane_cursors", "lane_health")


def _id(name: str, **kwargs: object) -> sa.Column[str]:
    return sa.Column(name, sa.CHAR(16), **kwargs)  # type: ignore[arg-type]


def upgrade() -> None:
    op.create_table(
        "venue_credentials",
        _id("account_id", nullable=False),
        sa.Column("venue", sa.String(32), nullable=False),
        sa.Column("subaccount_index", sa.Integer, nullable=False),
        sa.Column("exchange_account_id", sa.String(128), nullable=True),
        sa.Column("is_active", sa.Boolean, nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint(
            "account_id", "venue", "subaccount_index", name="pk_venue_credentials"
        ),
        sa.CheckConstraint("subaccount_index >= 0", name="ck_venue_credentials_subaccount"),
    )
    op.create_index("ix_venue_credentials_key_id", "venue_credentials", ["key_id", "account_id"])
    op.create_table(
        "venue_credential_shares",
        _id("primary_account_id", nullable=False),
        _id("shared_account_id", nullable=False),
        sa.Column("venue", sa.String(32), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("primary_account_id", "venue", name="pk_venue_credential_shares"),
        sa.CheckConstraint(
            "primary_account_id <> shared_account_id",
            name="ck_venue_credential_shares_not_self",
        ),
        sa.CheckConstraint(
            "level IN ('full', 'read_only', 'positions_only')",
            name="ck_venue_credential_shares_level",
        ),
    )
    op.create_index(
        "ix_venue_credential_shares_holder",
        "venue_credential_shares",
        ["shared_account_id", "primary_account_id"],
    )
    _lane_tables()
    if op.get_bind().dialect.name == "postgresql":
        _postgres_role_grants()


def _lane_tables() -> None:
    op.create_table(
        "lane_cursors",
        sa.Column("source", sa.String(80), primary_key=True),
        sa.Column("cursor_value", sa.String(128), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "lane_health",
        sa.Column("label", sa.String(32), primary_key=True),
        _id("account_id", nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("consecutive_failures", sa.BigInteger, nullable=False),
        sa.Column("total_failures", sa.BigInteger, nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("last_error_at_ns", sa.BigInteger, nullable=True),
        sa.Column("next_attempt_at_ns", sa.BigInteger, nullable=True),
        sa.Column("orders_placed", sa.BigInteger, nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "lane_kill_switch_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("label", sa.String(32), nullable=False),
        _id("account_id", nullable=False),
        sa.Column("engaged", sa.Boolean, nullable=False),
        sa.Column("operator_id", sa.String(128), nullable=False),
        sa.Column("operator_name", sa.String(128), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("at_ns", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_lane_kill_switch_log_label", "lane_kill_switch_log", ["label", "seq"])


def _postgres_role_grants() -> None:
    """Same role model as 0001: the kill-switch log is insert-only like ``audit_log``."""
    mutable = ", ".join(MUTABLE_TABLES)
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                GRANT SELECT, INSERT ON lane_kill_switch_log TO {APP_ROLE};
                GRANT USAGE, SELECT ON SEQUENCE lane_kill_switch_log_seq_seq TO {APP_ROLE};
                GRANT SELECT, INSERT, UPDATE, DELETE ON {mutable} TO {APP_ROLE};
            END IF;
        END $$
        """
    )


def downgrade() -> None:
    for table in (
        "lane_kill_switch_log",
        "lane_health",
        "lane_cursors",
        "venue_credential_shares",
        "venue_credentials",
    ):
        op.drop_table(table)
