"""The #2353 permission backfill as one SQL transaction (rule: ``axdomain.backfill``).

On PostgreSQL the grants table is locked against concurrent writers for the few
milliseconds the backfill runs, so an account that gains a grant meanwhile is never
also handed FULL_ACCESS; inserts use ON CONFLICT DO NOTHING and only rows actually
inserted are reported, so two concurrent runs still report each grant once.
"""

from __future__ import annotations

from sqlalchemy import Engine, select, text
from sqlalchemy.dialects import postgresql, sqlite

from axadapters.sql import schema
from axadapters.sql._support import flags_to_columns, from_hex64, hex64
from axadapters.sql.identity import account_from_row
from axdomain.backfill import BackfillReport, plan_permission_backfill
from axdomain.ids import AccountId


def run_permission_backfill(engine: Engine) -> BackfillReport:
    grants = schema.account_permissions
    with engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("LOCK TABLE account_permissions IN SHARE ROW EXCLUSIVE MODE"))
        accounts = [
            account_from_row(row)
            for row in connection.execute(select(schema.trading_accounts)).mappings()
        ]
        with_grants = {
            AccountId(from_hex64(value))
            for value in connection.execute(select(grants.c.account_id).distinct()).scalars()
        }
        created = []
        for grant in plan_permission_backfill(accounts, with_grants):
            row = {
                "user_id": hex64(grant.user_id.value),
                "account_id": hex64(grant.account_id.value),
                **flags_to_columns(grant.permissions),
            }
            insert = (postgresql.insert if postgres else sqlite.insert)(grants).values(row)
            returning = insert.on_conflict_do_nothing().returning(grants.c.account_id)
            if connection.execute(returning).first() is not None:  # None: a racer inserted
                created.append(grant.account_id)
    return BackfillReport(
        accounts_scanned=len(accounts), grants_created=len(created), account_ids=tuple(created)
    )
