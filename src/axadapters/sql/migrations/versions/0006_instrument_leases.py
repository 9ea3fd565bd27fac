"""Instrument leases: one owner of each matching book among several ``ax serve`` processes.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

APP_ROLE = "ax_app"


def upgrade() -> None:
    op.create_table(
        "instrument_leases",
        sa.Column("contract_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("token", sa.BigInteger, nullable=False),
        sa.Column("expires_at_ns", sa.BigInteger, nullable=False),
        sa.CheckConstraint("token >= 1", name="ck_instrument_leases_token"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            DO $$
            BEGIN
                IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                    GRANT SELECT, INSERT, UPDATE ON instrument_leases TO {APP_ROLE};
                END IF;
            END
            $$;
            """
        )


def downgrade() -> None:
    op.drop_table("instrument_leases")
