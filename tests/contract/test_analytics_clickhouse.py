"""The analytics contract on embedded chDB (always; mandatory in CI) and on a ClickHouse
server when ``AX_CLICKHOUSE_DSN`` is set; plus what only ClickHouse has (keys, TTL, typed
failures, migrations)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from axadapters.clickhouse import ClickHouseAnalyticsStore, open_clickhouse
from axadapters.clickhouse.schema import MIGRATIONS
from axadapters.clickhouse.store import schema_version
from axdomain.analytics import AnalyticsStorageError
from tests.contract.clickhouse_support import (
    drop_database,
    new_database,
    server_dsn_or_skip,
    session_chdb_dsn,
)
from tests.contract.suite_analytics import ACCOUNT_A, AnalyticsContract, position


class ClickHouseLeg(AnalyticsContract):
    dsn: str
    database: str

    def make_store(self) -> ClickHouseAnalyticsStore:
        return open_clickhouse(self.dsn, self.database)


class TestChdbAnalytics(ClickHouseLeg):
    @pytest.fixture(autouse=True)
    def _database(self, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
        self.dsn = session_chdb_dsn(tmp_path_factory)
        self.database = new_database()
        yield
        drop_database(self.dsn, self.database)


class TestServerAnalytics(ClickHouseLeg):
    @pytest.fixture(autouse=True)
    def _database(self) -> Iterator[None]:
        self.dsn = server_dsn_or_skip()
        self.database = new_database()
        yield
        drop_database(self.dsn, self.database)


class TestChdbSchema:
    @pytest.fixture
    def store(self, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseAnalyticsStore]:
        dsn, database = session_chdb_dsn(tmp_path_factory), new_database()
        store = open_clickhouse(dsn, database)
        yield store
        store.close()
        drop_database(dsn, database)

    def test_sort_keys_and_ttls_are_those_of_the_spec(
        self, store: ClickHouseAnalyticsStore
    ) -> None:
        rows = store.session.rows(
            "SELECT name, sorting_key, engine, create_table_query FROM system.tables "
            "WHERE database = {d:String}",
            {"d": store.database},
        )
        tables = {name: (key, engine, ddl) for name, key, engine, ddl in rows}
        assert tables["positions"][0] == "account_id, timestamp_ns, sequence_number, symbol"
        assert tables["transactions"][0] == "timestamp, account_id, sequence_number"
        assert tables["risk_snapshots"][0] == "account_id, timestamp_ns"
        assert tables["risk_snapshots_1h"][0] == "account_id, bucket_timestamp_ns"
        assert tables["risk_snapshots_1d"][0] == "account_id, bucket_timestamp_ns"
        assert "toIntervalDay(7)" in tables["risk_snapshots"][2]
        assert "toIntervalDay(90)" in tables["risk_snapshots_1h"][2]
        assert " TTL " not in tables["risk_snapshots_1d"][2]
        assert tables["risk_snapshots_1h_mv"][1] == "MaterializedView"
        assert tables["risk_snapshots_1d_mv"][1] == "MaterializedView"

    def test_migrations_are_recorded_and_reapplied_as_no_ops(
        self, store: ClickHouseAnalyticsStore
    ) -> None:
        latest = MIGRATIONS[-1][0]
        assert schema_version(store.session, store.database) == latest
        store.write_positions([position(1)])
        again = ClickHouseAnalyticsStore(store.session.client, store.database)
        assert schema_version(again.session, again.database) == latest
        assert again.latest_positions(ACCOUNT_A) == [position(1)]

    def test_engine_failures_are_typed(self, store: ClickHouseAnalyticsStore) -> None:
        store.session.command(f"DROP TABLE `{store.database}`.`positions` SYNC")
        with pytest.raises(AnalyticsStorageError) as caught:
            store.latest_positions(ACCOUNT_A)
        assert caught.value.field == "clickhouse"
        with pytest.raises(AnalyticsStorageError):
            store.write_positions([position(1)])

    def test_reader_prunes_on_account(self, store: ClickHouseAnalyticsStore) -> None:
        store.write_positions([position(1)])
        plan = store.session.rows(
            "EXPLAIN indexes = 1 SELECT * FROM "
            f"`{store.database}`.`positions` WHERE account_id = 7 LIMIT 1 BY symbol"
        )
        text = "\n".join(str(row[0]) for row in plan)
        assert "PrimaryKey" in text
        assert "account_id" in text.split("PrimaryKey", 1)[1]


def test_unreachable_server_is_typed() -> None:
    with pytest.raises(AnalyticsStorageError) as caught:
        open_clickhouse("http://127.0.0.1:1/?connect_timeout=1")
    assert caught.value.field == "clickhouse"
