"""Opens the configured adapters: SQL stores (SQLite file by default), the ledger (the
journaled twin by default; a ledger service with AX_LEDGER_URL) and the cache (memory by
default, Redis with AX_REDIS_URL)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import attrs

from axadapters.ledger_twin import LedgerTwin
from axadapters.memory.cache import MemoryRiskSnapshotCache, MemorySessionStore
from axadapters.sql.leases import SqlInstrumentLeases
from axadapters.sql.stores import SqlStores, open_sql_stores
from axadapters.system import OsSecretSource, SystemClock, UlidIdGenerator
from axapp.config import Config
from axapp.stores import Stores
from axdomain.cache import RiskSnapshotCache, SessionStore
from axdomain.ledger.port import LedgerPort
from axdomain.ports import InstrumentLeases


@attrs.frozen
class Runtime:
    config: Config
    stores: Stores
    sql: SqlStores
    ledger: LedgerPort
    risk_cache: RiskSnapshotCache
    sessions: SessionStore
    leases: InstrumentLeases


def _open_ledger(config: Config) -> LedgerPort:
    if config.ledger_url:
        # A ledger service shared with other processes (docs/scale.md, Several ax serve).
        from axadapters.ledger_service import RemoteLedger

        return RemoteLedger.connect(config.ledger_url)
    if config.tigerbeetle_addresses:
        # Imported only when configured: the embedded default never loads the client.
        from axadapters.tigerbeetle import TigerBeetleLedger

        return TigerBeetleLedger.connect(
            config.tigerbeetle_cluster_id,
            config.tigerbeetle_addresses,
            batch_events_max=config.tigerbeetle_batch_max,
        )
    config.data_dir.mkdir(parents=True, exist_ok=True)
    return LedgerTwin.open(
        config.ledger_journal_path, batch_events_max=config.tigerbeetle_batch_max
    )


def _open_cache(config: Config, clock: SystemClock) -> tuple[RiskSnapshotCache, SessionStore]:
    if config.redis_url:
        from axadapters.redis import open_redis

        redis_stores = open_redis(config.redis_url, cluster=config.redis_cluster)
        return redis_stores.risk_cache, redis_stores.sessions
    return MemoryRiskSnapshotCache(clock), MemorySessionStore(clock)


def stores_over(sql: SqlStores, clock: SystemClock | None = None) -> Stores:
    """The application's port bundle over one SQL database."""
    return Stores(
        users=sql.users,
        accounts=sql.accounts,
        grants=sql.grants,
        keys=sql.api_keys,
        access=sql.access,
        audit=sql.audit,
        orders=sql.orders,
        products=sql.products,
        sequences=sql.sequences,
        operators=sql.operators,
        fills=sql.fills,
        idempotency=sql.idempotency,
        projections=sql.projections,
        flag_history=sql.flag_history,
        pending_fills=sql.pending_fills,
        uow=sql.uow,
        clock=clock or SystemClock(),
        ids=UlidIdGenerator(),
        secrets=OsSecretSource(),
    )


@contextlib.contextmanager
def open_runtime(config: Config) -> Iterator[Runtime]:
    if config.database_url is None:
        config.data_dir.mkdir(parents=True, exist_ok=True)
    sql = open_sql_stores(config.effective_database_url)
    clock = SystemClock()
    stores = stores_over(sql, clock)
    ledger = _open_ledger(config)
    try:
        risk_cache, sessions = _open_cache(config, clock)
        leases = SqlInstrumentLeases(sql.engine)
        yield Runtime(config, stores, sql, ledger, risk_cache, sessions, leases)
    finally:
        close = getattr(ledger, "close", None)
        if callable(close):
            close()
        sql.close()
