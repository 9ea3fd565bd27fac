"""The bundle of SQL repositories an application opens from one database URL."""

from __future__ import annotations

import attrs
from sqlalchemy import Engine

from axadapters.sql.account_records import (
    SqlBalances,
    SqlDepositAddresses,
    SqlLeaderboard,
    SqlLossLimits,
    SqlLtvMonitors,
)
from axadapters.sql.audit import SqlAuditLog
from axadapters.sql.backfill import run_permission_backfill
from axadapters.sql.engine import create_sql_engine
from axadapters.sql.fills import SqlFills, SqlIdempotency
from axadapters.sql.identity import SqlAccessReader, SqlAccounts, SqlApiKeys, SqlGrants, SqlUsers
from axadapters.sql.migrate import upgrade
from axadapters.sql.operators import SqlOperators
from axadapters.sql.orders import SqlOrders
from axadapters.sql.products import SqlProducts
from axadapters.sql.projections import SqlFlagHistory, SqlPendingFills, SqlProjections
from axadapters.sql.sequences import SqlSequences
from axadapters.sql.tx import SqlUnitOfWork, close_group_commits
from axdomain.backfill import BackfillReport


@attrs.frozen
class SqlStores:
    engine: Engine
    users: SqlUsers
    accounts: SqlAccounts
    grants: SqlGrants
    api_keys: SqlApiKeys
    access: SqlAccessReader
    audit: SqlAuditLog
    orders: SqlOrders
    products: SqlProducts
    sequences: SqlSequences
    balances: SqlBalances
    loss_limits: SqlLossLimits
    ltv_monitors: SqlLtvMonitors
    deposit_addresses: SqlDepositAddresses
    leaderboard: SqlLeaderboard
    operators: SqlOperators
    fills: SqlFills
    idempotency: SqlIdempotency
    uow: SqlUnitOfWork
    projections: SqlProjections
    flag_history: SqlFlagHistory
    pending_fills: SqlPendingFills

    @classmethod
    def on(cls, engine: Engine) -> SqlStores:
        """Repositories over an already migrated engine."""
        return cls(
            engine=engine,
            users=SqlUsers(engine),
            accounts=SqlAccounts(engine),
            grants=SqlGrants(engine),
            api_keys=SqlApiKeys(engine),
            access=SqlAccessReader(engine),
            audit=SqlAuditLog(engine),
            orders=SqlOrders(engine),
            products=SqlProducts(engine),
            sequences=SqlSequences(engine),
            balances=SqlBalances(engine),
            loss_limits=SqlLossLimits(engine),
            ltv_monitors=SqlLtvMonitors(engine),
            deposit_addresses=SqlDepositAddresses(engine),
            leaderboard=SqlLeaderboard(engine),
            operators=SqlOperators(engine),
            fills=SqlFills(engine),
            idempotency=SqlIdempotency(engine),
            uow=SqlUnitOfWork(engine),
            projections=SqlProjections(engine),
            flag_history=SqlFlagHistory(engine),
            pending_fills=SqlPendingFills(engine),
        )

    def backfill_permissions(self) -> BackfillReport:
        return run_permission_backfill(self.engine)

    def close(self) -> None:
        close_group_commits(self.engine)
        self.engine.dispose()


def open_sql_stores(url: str, *, migrate: bool = True) -> SqlStores:
    """Open ``url`` (``sqlite:///file`` or ``postgresql://...``), migrate to head, bundle.

    ``migrate=False`` is for deployments where the application role may not run DDL; the
    schema must then already be at head.
    """
    engine = create_sql_engine(url)
    if migrate:
        upgrade(engine)
    return SqlStores.on(engine)
