"""ClickHouse cluster layout (``AX_CLICKHOUSE_CLUSTER``): chDB cannot run replicated tables,
so the generated DDL is checked as text (golden files), parsed by chDB's own parser, and the
single-node DDL is pinned unchanged; the one-account readers are run on chDB with the
cluster's shard-skipping setting and checked to filter on the sharding key's column."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from axadapters.clickhouse import ClickHouseAnalyticsStore
from axadapters.clickhouse.schema import (
    ALL_TABLES,
    LOCAL_SUFFIX,
    SHARDING_KEY,
    bookkeeping_sql,
    native_schema_sql,
)
from axdomain.analytics import Rollup
from tests.contract.clickhouse_support import chdb_store
from tests.contract.suite_analytics import ACCOUNT_A, position

GOLDEN = Path(__file__).parent / "clickhouse_ddl"
CLUSTER = "ax_cluster"
DATABASE = "ax"


def schema_text(cluster: str | None) -> str:
    statements = [*bookkeeping_sql(DATABASE, cluster), *native_schema_sql(DATABASE, cluster)]
    return ";\n\n".join(statements) + ";\n"


def test_single_node_ddl_is_unchanged() -> None:
    assert schema_text(None) == (GOLDEN / "single_node.sql").read_text()


def test_cluster_ddl_is_the_golden_text() -> None:
    assert schema_text(CLUSTER) == (GOLDEN / "cluster.sql").read_text()


def test_every_account_keyed_table_is_replicated_locally_and_sharded_by_account() -> None:
    statements = native_schema_sql(DATABASE, CLUSTER)
    for name in ALL_TABLES:
        local = f"`{DATABASE}`.`{name}{LOCAL_SUFFIX}` ON CLUSTER `{CLUSTER}`"
        [create_local] = [s for s in statements if f"CREATE TABLE IF NOT EXISTS {local}" in s]
        assert "ENGINE = Replicated" in create_local
        assert "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'" in create_local
        [distributed] = [s for s in statements if f"`{name}` ON CLUSTER" in s]
        assert distributed.endswith(
            f"ENGINE = Distributed('{CLUSTER}', '{DATABASE}', '{name}{LOCAL_SUFFIX}', "
            f"{SHARDING_KEY})"
        )
    assert SHARDING_KEY == "cityHash64(account_id)"
    # Every statement runs on every node; nothing is created on one node only.
    assert all(f" ON CLUSTER `{CLUSTER}`" in s for s in statements)


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseAnalyticsStore]:
    yield from chdb_store(tmp_path_factory)


def test_cluster_ddl_parses(store: ClickHouseAnalyticsStore) -> None:
    for statement in [*bookkeeping_sql(DATABASE, CLUSTER), *native_schema_sql(DATABASE, CLUSTER)]:
        formatted = store.session.scalar("SELECT formatQuery({q:String})", {"q": statement})
        assert f"ON CLUSTER {CLUSTER}" in formatted


def test_one_account_reads_filter_on_the_sharding_column_and_skip_other_shards(
    store: ClickHouseAnalyticsStore,
) -> None:
    sent: list[str] = []
    read_sql = store.read_sql

    def recording(sql: str) -> str:
        sent.append(read_sql(sql))
        return sent[-1]

    store.write_positions([position(1)])
    store.read_sql = recording  # type: ignore[method-assign]
    # The setting is run for real here (chDB accepts it on plain tables); on a cluster the
    # constructor sets ``cluster`` from AX_CLICKHOUSE_CLUSTER.
    store.cluster = CLUSTER
    assert store.latest_positions(ACCOUNT_A) == [position(1)]
    store.positions_between(ACCOUNT_A, 0, 1 << 62)
    store.transactions_between(ACCOUNT_A, 0, 1 << 62)
    store.risk_snapshots_between(ACCOUNT_A, 0, 1 << 62)
    for rollup in Rollup:
        store.risk_rollups(ACCOUNT_A, rollup, 0, 1 << 62)
    assert len(sent) == 4 + len(Rollup)
    table = re.compile(rf"FROM `{store.database}`\.`(\w+)`( WHERE [^{{]*\{{a:UInt64\}})?")
    for sql in sent:
        assert sql.endswith(" SETTINGS optimize_skip_unused_shards = 1"), sql
        reads = table.findall(sql)
        assert reads, sql
        for name, where in reads:
            assert name in ALL_TABLES, sql
            # The equality on account_id is what the shard skipping evaluates the key on.
            assert where.startswith(" WHERE account_id = "), sql
