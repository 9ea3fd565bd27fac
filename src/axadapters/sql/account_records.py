"""SQL repositories of the account-keyed money records (seed §2c.1 classes A and B)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, Table, func, select
from sqlalchemy.exc import IntegrityError

from axadapters.sql import schema
from axadapters.sql._support import from_hex64, hex64, upsert
from axadapters.sql.tx import begin, connect
from axdomain.account_records import (
    CurrentBalance,
    DepositAddress,
    LeaderboardEntry,
    LtvMonitor,
    MonthlyLossLimit,
    check_top_limit,
)
from axdomain.errors import Conflict
from axdomain.ids import AccountId


def _account(row: RowMapping) -> AccountId:
    return AccountId(from_hex64(row["account_id"]))


class _AccountKeyed:
    """One row per account: put = upsert on ``account_id``, get = one keyed read."""

    table: Table

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _put(self, values: dict[str, Any]) -> None:
        with begin(self._engine) as connection:
            upsert(connection, self.table, values, ("account_id",))

    def _get(self, account_id: AccountId) -> RowMapping | None:
        query = select(self.table).where(self.table.c.account_id == hex64(account_id.value))
        with connect(self._engine) as connection:
            return connection.execute(query).mappings().first()


class SqlBalances(_AccountKeyed):
    table = schema.current_balances

    def put_balance(self, balance: CurrentBalance) -> None:
        self._put(
            {
                "account_id": hex64(balance.account_id.value),
                "balance_micro_usd": balance.balance_micro_usd,
                "updated_at_ns": balance.updated_at_ns,
            }
        )

    def get_balance(self, account_id: AccountId) -> CurrentBalance | None:
        row = self._get(account_id)
        if row is None:
            return None
        return CurrentBalance(_account(row), row["balance_micro_usd"], row["updated_at_ns"])


class SqlLossLimits(_AccountKeyed):
    table = schema.monthly_loss_limits

    def put_loss_limit(self, limit: MonthlyLossLimit) -> None:
        self._put(
            {
                "account_id": hex64(limit.account_id.value),
                "limit_micro_usd": limit.limit_micro_usd,
                "updated_at_ns": limit.updated_at_ns,
            }
        )

    def get_loss_limit(self, account_id: AccountId) -> MonthlyLossLimit | None:
        row = self._get(account_id)
        if row is None:
            return None
        return MonthlyLossLimit(_account(row), row["limit_micro_usd"], row["updated_at_ns"])


class SqlLtvMonitors(_AccountKeyed):
    table = schema.loan_to_value_monitors

    def put_ltv_monitor(self, monitor: LtvMonitor) -> None:
        self._put(
            {
                "account_id": hex64(monitor.account_id.value),
                "margin_call_ltv_bps": monitor.margin_call_ltv_bps,
                "liquidation_ltv_bps": monitor.liquidation_ltv_bps,
                "updated_at_ns": monitor.updated_at_ns,
            }
        )

    def get_ltv_monitor(self, account_id: AccountId) -> LtvMonitor | None:
        row = self._get(account_id)
        if row is None:
            return None
        return LtvMonitor(
            _account(row),
            row["margin_call_ltv_bps"],
            row["liquidation_ltv_bps"],
            row["updated_at_ns"],
        )


def _address(row: RowMapping) -> DepositAddress:
    return DepositAddress(
        _account(row), row["blockchain"], row["asset"], row["address"], row["created_at_ns"]
    )


def _funds_another_account(connection: Connection, address: DepositAddress) -> bool:
    """PostgreSQL partitions addresses by account, so no unique key spans accounts: a
    transaction-scoped advisory lock on the address serializes the check and the insert.
    SQLite keeps its unique constraint (and one writer at a time)."""
    if connection.dialect.name != "postgresql":
        return False
    table = schema.blockchain_deposit_addresses
    claim = f"deposit-address:{address.blockchain}:{address.address}"
    connection.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(claim, 0))))
    query = select(table.c.account_id).where(
        table.c.blockchain == address.blockchain,
        table.c.address == address.address,
        # The very same row is the primary key's duplicate, reported as such by the caller.
        (table.c.account_id != hex64(address.account_id.value)) | (table.c.asset != address.asset),
    )
    return connection.execute(query.limit(1)).first() is not None


class SqlDepositAddresses:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_address(self, address: DepositAddress) -> None:
        row = {
            "account_id": hex64(address.account_id.value),
            "blockchain": address.blockchain,
            "asset": address.asset,
            "address": address.address,
            "created_at_ns": address.created_at_ns,
        }
        try:
            with begin(self._engine) as connection:
                if _funds_another_account(connection, address):
                    raise Conflict("address", address.address, "already funds another account")
                connection.execute(schema.blockchain_deposit_addresses.insert().values(row))
        except IntegrityError as error:
            key = (address.account_id, address.blockchain, address.asset)
            if self.get_address(*key) is not None:
                where = f"{key[0]}/{key[1]}/{key[2]}"
                raise Conflict("deposit_address", where, "already exists") from error
            raise Conflict("address", address.address, "already funds another account") from error

    def get_address(
        self, account_id: AccountId, blockchain: str, asset: str
    ) -> DepositAddress | None:
        table = schema.blockchain_deposit_addresses
        query = select(table).where(
            table.c.account_id == hex64(account_id.value),
            table.c.blockchain == blockchain,
            table.c.asset == asset,
        )
        with connect(self._engine) as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _address(row)

    def addresses_for_account(self, account_id: AccountId) -> Sequence[DepositAddress]:
        table = schema.blockchain_deposit_addresses
        query = (
            select(table)
            .where(table.c.account_id == hex64(account_id.value))
            .order_by(table.c.blockchain, table.c.asset)
        )
        with connect(self._engine) as connection:
            return [_address(row) for row in connection.execute(query).mappings()]


class SqlLeaderboard:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def put_entry(self, entry: LeaderboardEntry) -> None:
        row = {
            "metric": entry.metric,
            "cadence": entry.cadence,
            "period_start_ns": entry.period_start_ns,
            "account_id": hex64(entry.account_id.value),
            "score": entry.score,
        }
        key = ("metric", "cadence", "period_start_ns", "account_id")
        with begin(self._engine) as connection:
            upsert(connection, schema.leaderboard, row, key)

    def top(
        self, metric: str, cadence: str, period_start_ns: int, limit: int
    ) -> Sequence[LeaderboardEntry]:
        count = check_top_limit(limit)
        table = schema.leaderboard
        query = (
            select(table)
            .where(
                table.c.metric == metric,
                table.c.cadence == cadence,
                table.c.period_start_ns == period_start_ns,
            )
            .order_by(table.c.score.desc(), table.c.account_id)
            .limit(count)
        )
        with connect(self._engine) as connection:
            return [
                LeaderboardEntry(
                    row["metric"],
                    row["cadence"],
                    row["period_start_ns"],
                    _account(row),
                    row["score"],
                )
                for row in connection.execute(query).mappings()
            ]
