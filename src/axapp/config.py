"""Configuration from the environment; with nothing set, everything runs embedded.

| variable | selects | embedded default |
| --- | --- | --- |
| ``AX_DATA_DIR`` | folder for embedded state | ``.ax-data`` in the working directory |
| ``AX_DATABASE_URL`` | SQL stores (PostgreSQL or SQLite URL) | SQLite file in the data folder |
| ``AX_PG_PARTITIONS`` | hash partitions per account table (read by migration 0005) | 8 |
| ``AX_REDIS_URL`` | risk-snapshot cache, sessions, pub/sub | in memory |
| ``AX_REDIS_CLUSTER`` | ``1``: ``AX_REDIS_URL`` names a node of a Redis Cluster | ``0`` |
| ``AX_TIGERBEETLE_ADDRESSES`` | a TigerBeetle cluster: replicas, comma separated | ledger twin |
| ``AX_TIGERBEETLE_CLUSTER_ID`` | that cluster's id | 0 |
| ``AX_CLICKHOUSE_DSN`` | a ClickHouse server for analytics | chDB in the data folder |
| ``AX_CLICKHOUSE_CLUSTER`` | the server's cluster name: replicated, sharded tables | one node |
| ``AX_TIGERBEETLE_BATCH_MAX`` | events per ledger request (the cluster's batch size) | 8189 |
| ``AX_TRUSTED_PROXIES`` | proxies whose ``X-Forwarded-For`` ``ax serve`` believes | none |
| ``AX_LEDGER_URL`` | a ledger service (``ax ledger-serve``) shared by several ``ax serve`` | none |
| ``AX_LEASE_TTL_MS`` | how long a process holds an instrument's book unrenewed | 5000 |
| ``AX_INSTANCE`` | this process's lease owner name (pid and nonce added) | host name |

Numbers are ASCII decimal digits only: ``str.isdigit`` also accepts superscripts and other
scripts' digits (``²``, ``١٢٣``), which must never become a cluster id.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from pathlib import Path

import attrs

from axdomain.errors import InvalidValue
from axdomain.leases import MAX_LEASE_TTL_MS, require_lease_ttl_ms
from axdomain.ledger.planners import CHAIN_EVENTS_MAX
from axdomain.ledger.port import TIGERBEETLE_BATCH_EVENTS_MAX

DEFAULT_DATA_DIR = ".ax-data"
U128_MAX = (1 << 128) - 1
DB_CONNECT_TIMEOUT_S = 5
PORT_MAX = 65_535
# The official client's limit (``replicas_max``); it refuses a longer list at start.
TIGERBEETLE_REPLICAS_MAX = 6
_FLAGS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
DEFAULT_LEASE_TTL_MS = 5_000


_ASCII_DIGITS = frozenset("0123456789")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def ascii_decimal(name: str, text: str, high: int) -> int:
    """A decimal number of ASCII digits in [0, high]; anything else names the variable."""
    if not text or not set(text) <= _ASCII_DIGITS or len(text) > len(str(high)):
        raise InvalidValue(name, text, f"must be ASCII decimal digits, at most {high}")
    number = int(text)
    if number > high:
        raise InvalidValue(name, text, f"must be at most {high}")
    return number


def _cluster_id(text: str | None) -> int:
    if text is None:
        return 0
    return ascii_decimal("AX_TIGERBEETLE_CLUSTER_ID", text, U128_MAX)


def _batch_max(text: str | None) -> int:
    """A cluster started with a smaller message size takes fewer events per request (32 KiB:
    253); below the longest linked chain a planner emits nothing could be submitted."""
    if text is None:
        return TIGERBEETLE_BATCH_EVENTS_MAX
    digits = text.isascii() and text.isdigit()
    if not digits or not CHAIN_EVENTS_MAX <= int(text) <= TIGERBEETLE_BATCH_EVENTS_MAX:
        raise InvalidValue(
            "AX_TIGERBEETLE_BATCH_MAX",
            text,
            f"must be a decimal integer in [{CHAIN_EVENTS_MAX}, {TIGERBEETLE_BATCH_EVENTS_MAX}]",
        )
    return int(text)


def _flag(name: str, text: str | None) -> bool:
    if text is None:
        return False
    if text.lower() not in _FLAGS:
        raise InvalidValue(name, text, "must be 1 or 0 (true/false, yes/no)")
    return _FLAGS[text.lower()]


def tigerbeetle_replicas(text: str) -> tuple[str, ...]:
    """``[host:]port`` per replica, comma separated, as the client's ``replica_addresses``
    takes them; each normalized to ``ip:port`` (``[ip6]:port``).

    Checked here because the client reports a bad list only as a bare init error number, and
    hosts must be IP addresses (it resolves no names). A duplicate would make the client
    count one replica twice toward its quorum, so it is refused too.
    """
    name = "AX_TIGERBEETLE_ADDRESSES"
    items = [item.strip() for item in text.split(",")]
    if not 1 <= len(items) <= TIGERBEETLE_REPLICAS_MAX:
        raise InvalidValue(name, text, f"must name 1..{TIGERBEETLE_REPLICAS_MAX} replicas")
    replicas: list[str] = []
    for item in items:
        host, _, port_text = item.rpartition(":")
        if not _ASCII_DIGITS.issuperset(port_text) or not port_text or len(port_text) > 5:
            raise InvalidValue(name, text, f"{item!r} is not [host:]port")
        port = int(port_text)
        if not 1 <= port <= PORT_MAX:
            raise InvalidValue(name, text, f"{item!r}: port must be in [1, {PORT_MAX}]")
        try:
            ip = ipaddress.ip_address(host.removeprefix("[").removesuffix("]") or "127.0.0.1")
        except ValueError:
            raise InvalidValue(
                name, text, f"{item!r}: host must be an IP address (the client resolves no names)"
            ) from None
        replica = f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"
        if replica in replicas:
            raise InvalidValue(name, text, f"{item!r}: the same replica is named twice")
        replicas.append(replica)
    return tuple(replicas)


def _tigerbeetle_addresses(text: str | None) -> str | None:
    return None if text is None else ",".join(tigerbeetle_replicas(text))


def _clickhouse_cluster(text: str | None) -> str | None:
    """Spliced into ``ON CLUSTER`` and ``Distributed(...)``, so only a plain identifier."""
    if text is not None and _IDENTIFIER.fullmatch(text) is None:
        raise InvalidValue("AX_CLICKHOUSE_CLUSTER", text, "must match [A-Za-z_][A-Za-z0-9_]{0,62}")
    return text


def _lease_ttl_ms(text: str | None) -> int:
    if text is None:
        return DEFAULT_LEASE_TTL_MS
    ttl_ms = ascii_decimal("AX_LEASE_TTL_MS", text, MAX_LEASE_TTL_MS)
    return require_lease_ttl_ms(ttl_ms, "AX_LEASE_TTL_MS")


@attrs.frozen
class Config:
    data_dir: Path
    database_url: str | None = None
    redis_url: str | None = None
    tigerbeetle_addresses: str | None = None
    tigerbeetle_cluster_id: int = 0
    clickhouse_dsn: str | None = None
    tigerbeetle_batch_max: int = TIGERBEETLE_BATCH_EVENTS_MAX
    trusted_proxies: str | None = None
    redis_cluster: bool = False
    clickhouse_cluster: str | None = None
    ledger_url: str | None = None
    lease_ttl_ms: int = DEFAULT_LEASE_TTL_MS
    instance_name: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        return cls(
            data_dir=Path(get("AX_DATA_DIR") or DEFAULT_DATA_DIR),
            database_url=get("AX_DATABASE_URL"),
            redis_url=get("AX_REDIS_URL"),
            tigerbeetle_addresses=_tigerbeetle_addresses(get("AX_TIGERBEETLE_ADDRESSES")),
            tigerbeetle_cluster_id=_cluster_id(get("AX_TIGERBEETLE_CLUSTER_ID")),
            clickhouse_dsn=get("AX_CLICKHOUSE_DSN"),
            tigerbeetle_batch_max=_batch_max(get("AX_TIGERBEETLE_BATCH_MAX")),
            trusted_proxies=get("AX_TRUSTED_PROXIES"),
            redis_cluster=_flag("AX_REDIS_CLUSTER", get("AX_REDIS_CLUSTER")),
            clickhouse_cluster=_clickhouse_cluster(get("AX_CLICKHOUSE_CLUSTER")),
            ledger_url=get("AX_LEDGER_URL"),
            lease_ttl_ms=_lease_ttl_ms(get("AX_LEASE_TTL_MS")),
            instance_name=get("AX_INSTANCE"),
        )

    @property
    def sqlite_url(self) -> str:
        """The embedded default database: a SQLite file in the data folder."""
        return f"sqlite:///{(self.data_dir / 'ax.sqlite').as_posix()}"

    @property
    def effective_database_url(self) -> str:
        """PostgreSQL URLs gain a libpq ``connect_timeout`` unless they set one: a server
        that stops answering must fail a connection attempt, not hang it."""
        url = self.database_url or self.sqlite_url
        if url.startswith("postgres") and "connect_timeout=" not in url:
            url += ("&" if "?" in url else "?") + f"connect_timeout={DB_CONNECT_TIMEOUT_S}"
        return url

    @property
    def ledger_journal_path(self) -> Path:
        return self.data_dir / "ledger.journal"

    @property
    def chdb_folder(self) -> Path:
        """The embedded analytics engine's folder (used when no ClickHouse DSN is set)."""
        return self.data_dir / "chdb"
