"""DDL of the analytics tables (SPEC §13), of the documented legacy user-keyed layout, and the
adapter's own migrations.

One ``TableSpec`` per table names its columns once; the native and the legacy layouts differ
only in the leading ``user_id`` column and in the ORDER BY, which is exactly what the rekey
playbooks change. Every statement is ``IF NOT EXISTS`` so re-applying a migration after a
crash part-way through is harmless.

On a ClickHouse cluster (``AX_CLICKHOUSE_CLUSTER``) every account-keyed table becomes a
``Replicated*MergeTree`` table ``<name>_local`` on every node (``ON CLUSTER``) under a
``Distributed`` table with the plain name, sharded by ``cityHash64(account_id)``: readers and
writers keep using the plain names, and one account's rows all live on one shard. The
rollup views run on each shard's local tables, which hold whole accounts, so every rollup is
complete where it is stored. The bookkeeping tables are not account-keyed and are tiny: one
replication group spanning every node keeps a full copy on each.
"""

from __future__ import annotations

import re

import attrs

from axdomain.analytics import NS_PER_DAY, NS_PER_HOUR
from axdomain.errors import InvalidValue

RISK_SNAPSHOTS_TTL_DAYS = 7
RISK_ROLLUP_1H_TTL_DAYS = 90
_SECONDS = "toDateTime(intDiv({column}, 1000000000), 'UTC')"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
LEGACY_USER_COLUMN = ("user_id", "UInt64")
LOCAL_SUFFIX = "_local"
SHARDING_KEY = "cityHash64(account_id)"
# ``{shard}``, ``{replica}``, ``{database}`` and ``{table}`` are the server's macros: every
# replica of one shard shares a path; the bookkeeping path has no shard, so every node joins.
SHARD_REPLICA_PATH = "/clickhouse/tables/{shard}/{database}/{table}"
EVERY_NODE_REPLICA_PATH = "/clickhouse/tables/all/{database}/{table}"


def on_cluster(cluster: str | None) -> str:
    return "" if cluster is None else f" ON CLUSTER `{cluster}`"


def replicated_engine(engine: str, path: str) -> str:
    """``ReplacingMergeTree(chains)`` -> ``ReplicatedReplacingMergeTree('<path>',
    '{replica}', chains)``: the replicated engines take the same arguments after these two."""
    name, _, arguments = engine.partition("(")
    extra = f", {arguments.removesuffix(')')}" if arguments else ""
    return f"Replicated{name}('{path}', '{{replica}}'{extra})"


def distributed_sql(database: str, table: str, cluster: str) -> str:
    """The plain-named table over every shard's ``<table>_local``, same columns."""
    local = table + LOCAL_SUFFIX
    return (
        f"CREATE TABLE IF NOT EXISTS `{database}`.`{table}`{on_cluster(cluster)} "
        f"AS `{database}`.`{local}` "
        f"ENGINE = Distributed('{cluster}', '{database}', '{local}', {SHARDING_KEY})"
    )


def identifier(field: str, value: str) -> str:
    """Database and table names are spliced into DDL, so only plain identifiers pass."""
    if not isinstance(value, str) or _IDENTIFIER.fullmatch(value) is None:
        raise InvalidValue(field, value, "must match [A-Za-z_][A-Za-z0-9_]{0,62}")
    return value


@attrs.frozen
class TableSpec:
    name: str
    columns: tuple[tuple[str, str], ...]
    engine: str
    partition_by: str
    order_by: tuple[str, ...]
    legacy_order_by: tuple[str, ...]
    ttl: str | None = None
    indexes: tuple[str, ...] = ()
    # Columns computed from others; `INSERT ... SELECT *` leaves them out and the target
    # recomputes them.
    materialized: tuple[tuple[str, str, str], ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def create_sql(
        self,
        database: str,
        *,
        table: str | None = None,
        legacy: bool = False,
        order_by: tuple[str, ...] | None = None,
        cluster: str | None = None,
    ) -> str:
        """``legacy`` adds the ``user_id`` column and, unless ``order_by`` overrides it,
        the user-leading key; ``cluster`` makes it the replicated ``<name>_local`` table
        created on every node."""
        columns = [*([LEGACY_USER_COLUMN] if legacy else []), *self.columns]
        lines = [f"`{name}` {kind}" for name, kind in columns]
        lines += [f"`{name}` {kind} MATERIALIZED {expr}" for name, kind, expr in self.materialized]
        lines += list(self.indexes)
        order = order_by or (self.legacy_order_by if legacy else self.order_by)
        name, engine = table or self.name, self.engine
        if cluster is not None:
            name, engine = name + LOCAL_SUFFIX, replicated_engine(engine, SHARD_REPLICA_PATH)
        sql = (
            f"CREATE TABLE IF NOT EXISTS `{database}`.`{name}`{on_cluster(cluster)} "
            f"({', '.join(lines)}) ENGINE = {engine} "
            f"PARTITION BY {self.partition_by} ORDER BY ({', '.join(order)})"
        )
        if self.ttl:
            sql += f" TTL {self.ttl}"
        return sql


POSITIONS = TableSpec(
    name="positions",
    columns=(
        ("account_id", "UInt64"),
        ("sequence_number", "UInt64"),
        ("timestamp_ns", "Int64"),
        ("symbol", "LowCardinality(String)"),
        ("contract_id", "UInt64"),
        ("qty_lots", "Int128"),
        ("basis_micro_usd", "Int128"),
    ),
    engine="ReplacingMergeTree",
    partition_by=f"toYYYYMM({_SECONDS.format(column='timestamp_ns')})",
    order_by=("account_id", "timestamp_ns", "sequence_number", "symbol"),
    legacy_order_by=("user_id", "timestamp_ns", "sequence_number", "symbol"),
)

TRANSACTIONS = TableSpec(
    name="transactions",
    columns=(
        ("account_id", "UInt64"),
        ("sequence_number", "UInt64"),
        ("timestamp_ns", "Int64"),
        ("codes", "Array(UInt16)"),
        ("amounts_micro_usd", "Array(Int128)"),
        ("transfer_ids", "Array(UInt128)"),
    ),
    materialized=(
        ("timestamp", "DateTime64(9, 'UTC')", "fromUnixTimestamp64Nano(timestamp_ns, 'UTC')"),
    ),
    # The key leads with time; a bloom filter on account_id lets one-account reads skip
    # granules inside the time range.
    indexes=("INDEX account_idx account_id TYPE bloom_filter GRANULARITY 1",),
    engine="ReplacingMergeTree",
    partition_by="toYYYYMM(timestamp)",
    order_by=("timestamp", "account_id", "sequence_number"),
    legacy_order_by=("timestamp", "user_id", "sequence_number"),
)

RISK_SNAPSHOTS = TableSpec(
    name="risk_snapshots",
    columns=(
        ("account_id", "UInt64"),
        ("timestamp_ns", "Int64"),
        ("equity_micro_usd", "Int128"),
        ("initial_margin_micro_usd", "UInt128"),
        ("maintenance_margin_micro_usd", "UInt128"),
        ("unrealized_pnl_micro_usd", "Int128"),
    ),
    engine="ReplacingMergeTree",
    partition_by=f"toYYYYMMDD({_SECONDS.format(column='timestamp_ns')})",
    order_by=("account_id", "timestamp_ns"),
    legacy_order_by=("user_id", "timestamp_ns"),
    ttl=f"{_SECONDS.format(column='timestamp_ns')} + INTERVAL {RISK_SNAPSHOTS_TTL_DAYS} DAY",
)

# Only duplicate-insensitive aggregates: a snapshot inserted twice (a replayed projection, or
# a playbook backfill overlapping rows already aggregated) leaves every answer unchanged.
_ROLLUP_COLUMNS = (
    ("account_id", "UInt64"),
    ("bucket_timestamp_ns", "Int64"),
    ("samples", "AggregateFunction(uniqExact, Int64)"),
    ("equity_min", "AggregateFunction(min, Int128)"),
    ("equity_max", "AggregateFunction(max, Int128)"),
    ("equity_last", "AggregateFunction(argMax, Int128, Int64)"),
    ("maintenance_margin_max", "AggregateFunction(max, UInt128)"),
    ("last_as_of", "AggregateFunction(max, Int64)"),
)
# AggregatingMergeTree requires every non-aggregate column in the key: the backfilled
# account_id column therefore trails the legacy user-leading key.
_LEGACY_ROLLUP_KEY = ("user_id", "bucket_timestamp_ns", "account_id")
_ROLLUP_PARTITION = f"toYYYYMM({_SECONDS.format(column='bucket_timestamp_ns')})"

RISK_SNAPSHOTS_1H = TableSpec(
    name="risk_snapshots_1h",
    columns=_ROLLUP_COLUMNS,
    engine="AggregatingMergeTree",
    partition_by=_ROLLUP_PARTITION,
    order_by=("account_id", "bucket_timestamp_ns"),
    legacy_order_by=_LEGACY_ROLLUP_KEY,
    ttl=(
        f"{_SECONDS.format(column='bucket_timestamp_ns')} + INTERVAL {RISK_ROLLUP_1H_TTL_DAYS} DAY"
    ),
)

RISK_SNAPSHOTS_1D = TableSpec(
    name="risk_snapshots_1d",
    columns=_ROLLUP_COLUMNS,
    engine="AggregatingMergeTree",
    partition_by=_ROLLUP_PARTITION,
    order_by=("account_id", "bucket_timestamp_ns"),
    legacy_order_by=_LEGACY_ROLLUP_KEY,
)

TABLES = {spec.name: spec for spec in (POSITIONS, TRANSACTIONS, RISK_SNAPSHOTS)}
ROLLUPS = {RISK_SNAPSHOTS_1H.name: NS_PER_HOUR, RISK_SNAPSHOTS_1D.name: NS_PER_DAY}
ALL_TABLES = {
    **TABLES,
    RISK_SNAPSHOTS_1H.name: RISK_SNAPSHOTS_1H,
    "risk_snapshots_1d": RISK_SNAPSHOTS_1D,
}


def rollup_select(from_clause: str, bucket_ns: int, *, legacy: bool = False) -> str:
    """The body of a rollup's materialized view (and of a playbook's backfill)."""
    user = "user_id, " if legacy else ""
    return (
        f"SELECT {user}account_id, "
        f"intDiv(timestamp_ns, {bucket_ns}) * {bucket_ns} AS bucket_timestamp_ns, "
        "uniqExactState(timestamp_ns) AS samples, "
        "minState(equity_micro_usd) AS equity_min, "
        "maxState(equity_micro_usd) AS equity_max, "
        "argMaxState(equity_micro_usd, timestamp_ns) AS equity_last, "
        "maxState(maintenance_margin_micro_usd) AS maintenance_margin_max, "
        "maxState(timestamp_ns) AS last_as_of "
        f"FROM {from_clause} "
        f"GROUP BY {user}account_id, bucket_timestamp_ns"
    )


def mv_name(rollup_table: str) -> str:
    return f"{rollup_table}_mv"


def create_mv_sql(
    database: str, rollup_table: str, *, legacy: bool = False, cluster: str | None = None
) -> str:
    """On a cluster the view reads and writes each shard's local tables."""
    suffix = "" if cluster is None else LOCAL_SUFFIX
    source = f"`{database}`.`{RISK_SNAPSHOTS.name}{suffix}`"
    body = rollup_select(source, ROLLUPS[rollup_table], legacy=legacy)
    return (
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS `{database}`.`{mv_name(rollup_table)}`"
        f"{on_cluster(cluster)} TO `{database}`.`{rollup_table}{suffix}` AS {body}"
    )


MIGRATIONS_TABLE = "ax_schema_migrations"
PROJECTION_TABLE = "ax_projection_state"


def _bookkeeping_engine(engine: str, cluster: str | None) -> str:
    return engine if cluster is None else replicated_engine(engine, EVERY_NODE_REPLICA_PATH)


def bookkeeping_sql(database: str, cluster: str | None = None) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS `{database}`.`{MIGRATIONS_TABLE}`{on_cluster(cluster)} "
        "(version UInt32, description String) "
        f"ENGINE = {_bookkeeping_engine('ReplacingMergeTree', cluster)} ORDER BY version",
    ]


def native_schema_sql(database: str, cluster: str | None = None) -> list[str]:
    """Migration 1: the SPEC §13 tables, the rollups and their views, the projection cursor;
    on a cluster, each table as replicated local tables under a ``Distributed`` one."""
    tables = [spec.create_sql(database, cluster=cluster) for spec in ALL_TABLES.values()]
    if cluster is not None:
        tables += [distributed_sql(database, name, cluster) for name in ALL_TABLES]
    projection_engine = _bookkeeping_engine("ReplacingMergeTree(chains)", cluster)
    return [
        *tables,
        *(create_mv_sql(database, rollup, cluster=cluster) for rollup in ROLLUPS),
        f"CREATE TABLE IF NOT EXISTS `{database}`.`{PROJECTION_TABLE}`{on_cluster(cluster)} "
        f"(name String, chains UInt64) ENGINE = {projection_engine} ORDER BY name",
    ]


def legacy_schema_sql(database: str) -> list[str]:
    """The user-keyed layout the playbooks start from (see docs/clickhouse.md)."""
    return [
        *(spec.create_sql(database, legacy=True) for spec in ALL_TABLES.values()),
        *(create_mv_sql(database, rollup, legacy=True) for rollup in ROLLUPS),
    ]


# (version, description, statements): applied in order, each recorded once all its
# statements ran. Append only; never edit an applied entry.
MIGRATIONS = ((1, "analytics tables, rollups, projection cursor", native_schema_sql),)
