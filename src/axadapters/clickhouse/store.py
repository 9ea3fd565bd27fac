"""The analytics port on ClickHouse (embedded chDB or a server).

Idempotence: every table is a ReplacingMergeTree whose ORDER BY contains the natural key, so
a replayed record eventually merges away; until it does, every reader collapses duplicates
itself with ``LIMIT 1 BY <natural key>`` (or, for the rollups, uses only aggregates that a
duplicate cannot change). ``FINAL`` is not used: it collapses within one table only, while
readers during a drain-rekey union the new table with ``*_old``.

Pruning: every reader's WHERE starts with ``account_id = {account}``; on ``positions`` and
the ``risk_snapshots`` family that is the leading key column, on ``transactions`` the time
window is (plus a bloom filter on ``account_id``).

On a cluster (``cluster`` set) the same equality on the sharding key's column is what lets
``optimize_skip_unused_shards = 1``, which every reader then sets, send a one-account read to
the one shard holding that account instead of to every shard.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clickhouse_connect.driver.client import Client

from axadapters.clickhouse.client import STORE_NAME, Session
from axadapters.clickhouse.schema import (
    MIGRATIONS,
    MIGRATIONS_TABLE,
    POSITIONS,
    PROJECTION_TABLE,
    RISK_SNAPSHOTS,
    RISK_SNAPSHOTS_1D,
    RISK_SNAPSHOTS_1H,
    TRANSACTIONS,
    bookkeeping_sql,
    identifier,
    on_cluster,
)
from axdomain.analytics import (
    MAX_READ_ROWS,
    AnalyticsStorageError,
    RiskRollup,
    Rollup,
    require_account,
    require_account_snapshot,
    require_batch,
    require_window,
)
from axdomain.cache import RiskSnapshot
from axdomain.contracts import ContractId
from axdomain.errors import InvalidValue
from axdomain.ids import AccountId
from axdomain.ledger.sequencing import PositionRecord, TransactionRecord
from axdomain.ledger.values import TransferCode

DEFAULT_DATABASE = "ax"
PROJECTION_NAME = "ledger"
OLD_SUFFIX = "_old"
_ROLLUP_TABLES = {Rollup.HOUR: RISK_SNAPSHOTS_1H.name, Rollup.DAY: RISK_SNAPSHOTS_1D.name}
ONE_SHARD_SETTINGS = " SETTINGS optimize_skip_unused_shards = 1"


def migrate(session: Session, database: str, cluster: str | None = None) -> list[int]:
    """Create the database and apply every migration not yet recorded; returns those applied.
    With ``cluster``, every statement runs ``ON CLUSTER`` (on every node)."""
    session.command(f"CREATE DATABASE IF NOT EXISTS `{database}`{on_cluster(cluster)}")
    for statement in bookkeeping_sql(database, cluster):
        session.command(statement)
    applied = {
        int(row[0])
        for row in session.rows(f"SELECT DISTINCT version FROM `{database}`.`{MIGRATIONS_TABLE}`")
    }
    done = []
    for version, description, statements in MIGRATIONS:
        if version in applied:
            continue
        for statement in statements(database, cluster):
            session.command(statement)
        session.insert(
            database, MIGRATIONS_TABLE, ("version", "description"), [(version, description)]
        )
        done.append(version)
    return done


def schema_version(session: Session, database: str) -> int:
    return int(session.scalar(f"SELECT max(version) FROM `{database}`.`{MIGRATIONS_TABLE}`"))


class ClickHouseAnalyticsStore:
    def __init__(
        self, client: Client, database: str = DEFAULT_DATABASE, cluster: str | None = None
    ) -> None:
        self.database = identifier("database", database)
        self.cluster = None if cluster is None else identifier("cluster", cluster)
        self.session = Session(client)
        try:
            migrate(self.session, self.database, self.cluster)
        except BaseException:
            client.close()
            raise

    # ------------------------------------------------------------------ helpers

    def _t(self, table: str) -> str:
        return f"`{self.database}`.`{table}`"

    def read_sql(self, sql: str) -> str:
        """A one-account reader's statement as sent: bounded, and on a cluster routed to the
        account's shard."""
        settings = "" if self.cluster is None else ONE_SHARD_SETTINGS
        return f"{sql} LIMIT {MAX_READ_ROWS + 1}{settings}"

    def _rows(self, sql: str, parameters: dict[str, Any], field: str) -> list[tuple[Any, ...]]:
        rows = self.session.rows(self.read_sql(sql), parameters)
        if len(rows) > MAX_READ_ROWS:
            raise InvalidValue(
                field, len(rows), f"more than {MAX_READ_ROWS} rows: narrow the window"
            )
        return rows

    def _sources(self, table: str) -> list[str]:
        """The table, plus its ``*_old`` twin while a drain-rekey leaves one to expire."""
        old = table + OLD_SUFFIX
        if self.session.table_exists(self.database, old):
            return [table, old]
        return [table]

    # ------------------------------------------------------------------ writes

    def write_positions(self, records: Sequence[PositionRecord]) -> None:
        require_batch("positions", records, PositionRecord)
        # A batch names few contracts; their text is computed once each.
        symbols = {contract: str(contract) for contract in {r.contract for r in records}}
        rows = [
            (
                r.account_id.value,
                r.sequence_number,
                r.timestamp_ns,
                symbols[r.contract],
                r.contract.value,
                r.qty_lots,
                r.basis_micro_usd,
            )
            for r in records
        ]
        self.session.insert(self.database, POSITIONS.name, POSITIONS.column_names, rows)

    def write_transactions(self, records: Sequence[TransactionRecord]) -> None:
        require_batch("transactions", records, TransactionRecord)
        rows = [
            (
                r.account_id.value,
                r.sequence_number,
                r.timestamp_ns,
                [int(code) for code, _ in r.amounts_micro_usd],
                [amount for _, amount in r.amounts_micro_usd],
                list(r.transfer_ids),
            )
            for r in records
        ]
        self.session.insert(self.database, TRANSACTIONS.name, TRANSACTIONS.column_names, rows)

    def write_risk_snapshots(self, snapshots: Sequence[RiskSnapshot]) -> None:
        require_batch("risk_snapshots", snapshots, RiskSnapshot)
        rows = [
            (
                s.account_id.value,
                s.as_of_ns,
                s.equity_micro_usd,
                s.initial_margin_micro_usd,
                s.maintenance_margin_micro_usd,
                s.unrealized_pnl_micro_usd,
            )
            for s in map(require_account_snapshot, snapshots)
        ]
        self.session.insert(self.database, RISK_SNAPSHOTS.name, RISK_SNAPSHOTS.column_names, rows)

    # ------------------------------------------------------------------ reads

    def latest_positions(self, account_id: AccountId) -> list[PositionRecord]:
        account = require_account(account_id)
        rows = self._rows(
            "SELECT contract_id, sequence_number, qty_lots, basis_micro_usd, timestamp_ns "
            f"FROM {self._t(POSITIONS.name)} WHERE account_id = {{a:UInt64}} "
            "ORDER BY timestamp_ns DESC, sequence_number DESC LIMIT 1 BY contract_id",
            {"a": account.value},
            "positions",
        )
        records = [_position(account, row) for row in rows]
        return sorted(records, key=lambda r: r.contract)

    def positions_between(
        self, account_id: AccountId, start_ns: int, end_ns: int
    ) -> list[PositionRecord]:
        account = require_account(account_id)
        start, end = require_window(start_ns, end_ns)
        rows = self._rows(
            "SELECT contract_id, sequence_number, qty_lots, basis_micro_usd, timestamp_ns "
            f"FROM {self._t(POSITIONS.name)} WHERE account_id = {{a:UInt64}} "
            "AND timestamp_ns >= {s:Int64} AND timestamp_ns < {e:Int64} "
            "ORDER BY timestamp_ns, sequence_number, contract_id "
            "LIMIT 1 BY sequence_number, contract_id",
            {"a": account.value, "s": start, "e": end},
            "positions",
        )
        return [_position(account, row) for row in rows]

    def transactions_between(
        self, account_id: AccountId, start_ns: int, end_ns: int
    ) -> list[TransactionRecord]:
        account = require_account(account_id)
        start, end = require_window(start_ns, end_ns)
        rows = self._rows(
            "SELECT sequence_number, codes, amounts_micro_usd, transfer_ids, timestamp_ns "
            f"FROM {self._t(TRANSACTIONS.name)} WHERE account_id = {{a:UInt64}} "
            "AND timestamp >= fromUnixTimestamp64Nano({s:Int64}, 'UTC') "
            "AND timestamp < fromUnixTimestamp64Nano({e:Int64}, 'UTC') "
            "ORDER BY timestamp_ns, sequence_number LIMIT 1 BY sequence_number",
            {"a": account.value, "s": start, "e": end},
            "transactions",
        )
        return [
            TransactionRecord(
                account,
                int(seq),
                tuple((TransferCode(int(c)), int(a)) for c, a in zip(codes, amounts, strict=True)),
                tuple(int(i) for i in ids),
                int(ts),
            )
            for seq, codes, amounts, ids, ts in rows
        ]

    def risk_snapshots_between(
        self, account_id: AccountId, start_ns: int, end_ns: int
    ) -> list[RiskSnapshot]:
        account = require_account(account_id)
        start, end = require_window(start_ns, end_ns)
        columns = ", ".join(RISK_SNAPSHOTS.column_names[1:])
        union = " UNION ALL ".join(
            f"SELECT {columns} FROM {self._t(table)} WHERE account_id = {{a:UInt64}} "
            "AND timestamp_ns >= {s:Int64} AND timestamp_ns < {e:Int64}"
            for table in self._sources(RISK_SNAPSHOTS.name)
        )
        rows = self._rows(
            f"SELECT {columns} FROM ({union}) ORDER BY timestamp_ns LIMIT 1 BY timestamp_ns",
            {"a": account.value, "s": start, "e": end},
            "risk_snapshots",
        )
        return [
            RiskSnapshot(
                account_id=account,
                symbol=None,
                equity_micro_usd=int(equity),
                initial_margin_micro_usd=int(initial),
                maintenance_margin_micro_usd=int(maintenance),
                unrealized_pnl_micro_usd=int(pnl),
                as_of_ns=int(ts),
            )
            for ts, equity, initial, maintenance, pnl in rows
        ]

    def risk_rollups(
        self, account_id: AccountId, rollup: Rollup, start_ns: int, end_ns: int
    ) -> list[RiskRollup]:
        account = require_account(account_id)
        start, end = require_window(start_ns, end_ns)
        if not isinstance(rollup, Rollup):
            raise InvalidValue("rollup", rollup, "must be a Rollup")
        columns = (
            "bucket_timestamp_ns, samples, equity_min, equity_max, equity_last, "
            "maintenance_margin_max, last_as_of"
        )
        union = " UNION ALL ".join(
            f"SELECT {columns} FROM {self._t(table)} WHERE account_id = {{a:UInt64}} "
            "AND bucket_timestamp_ns >= {s:Int64} AND bucket_timestamp_ns < {e:Int64}"
            for table in self._sources(_ROLLUP_TABLES[rollup])
        )
        rows = self._rows(
            "SELECT bucket_timestamp_ns, uniqExactMerge(samples), minMerge(equity_min), "
            "maxMerge(equity_max), argMaxMerge(equity_last), maxMerge(maintenance_margin_max), "
            f"maxMerge(last_as_of) FROM ({union}) "
            "GROUP BY bucket_timestamp_ns ORDER BY bucket_timestamp_ns",
            {"a": account.value, "s": start, "e": end},
            "risk_rollups",
        )
        return [RiskRollup(account, *(int(value) for value in row)) for row in rows]

    # ------------------------------------------------------------------ projection cursor

    def projected_chains(self) -> int:
        return int(
            self.session.scalar(
                f"SELECT max(chains) FROM {self._t(PROJECTION_TABLE)} WHERE name = {{n:String}}",
                {"n": PROJECTION_NAME},
            )
        )

    def mark_projected(self, chains: int) -> None:
        if isinstance(chains, bool) or not isinstance(chains, int) or chains < 0:
            raise InvalidValue("chains", chains, "must be a non-negative int")
        # The engine keeps the row with the highest ``chains`` and the reader takes max(),
        # so a lower value written late never moves the cursor back.
        self.session.insert(
            self.database, PROJECTION_TABLE, ("name", "chains"), [(PROJECTION_NAME, chains)]
        )

    def close(self) -> None:
        self.session.close()


def _position(account: AccountId, row: tuple[Any, ...]) -> PositionRecord:
    contract_id, sequence_number, qty, basis, timestamp_ns = row
    try:
        contract = ContractId(int(contract_id))
    except InvalidValue as error:
        raise AnalyticsStorageError(STORE_NAME, "positions", f"bad contract_id: {error}") from None
    return PositionRecord(
        account, int(sequence_number), contract, int(qty), int(basis), int(timestamp_ns)
    )
