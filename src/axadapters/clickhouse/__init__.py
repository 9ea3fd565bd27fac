"""ClickHouse adapters: the analytics store (embedded chDB or a server) and the rekey
playbooks over the legacy user-keyed layout."""

from __future__ import annotations

from axadapters.clickhouse.client import chdb_dsn, connect
from axadapters.clickhouse.store import DEFAULT_DATABASE, ClickHouseAnalyticsStore


def open_clickhouse(
    dsn: str, database: str = DEFAULT_DATABASE, cluster: str | None = None
) -> ClickHouseAnalyticsStore:
    """Connect, create the database and bring its schema to the latest migration; with
    ``cluster`` (``AX_CLICKHOUSE_CLUSTER``), as replicated tables sharded by account."""
    return ClickHouseAnalyticsStore(connect(dsn), database, cluster)


__all__ = ["DEFAULT_DATABASE", "ClickHouseAnalyticsStore", "chdb_dsn", "connect", "open_clickhouse"]
