"""The scale-out settings: ``AX_REDIS_CLUSTER``, ``AX_CLICKHOUSE_CLUSTER`` and several
TigerBeetle replicas in ``AX_TIGERBEETLE_ADDRESSES``; bad values are typed errors naming the
variable and the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from axadapters.ledger_twin import JournalError, LedgerTwin
from axadapters.tigerbeetle import TigerBeetleLedger
from axapp.config import Config
from axdomain import InvalidValue

ADDRESSES = "AX_TIGERBEETLE_ADDRESSES"


def test_several_replicas_are_parsed_and_normalized() -> None:
    config = Config.from_env({ADDRESSES: " 3000, 10.0.0.2:3001 ,[::1]:3002 "})
    assert config.tigerbeetle_addresses == "127.0.0.1:3000,10.0.0.2:3001,[::1]:3002"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1,2,3,4,5,6,7", "1..6 replicas"),
        ("localhost:3000", "IP address"),
        ("3000,127.0.0.1:3000", "named twice"),
        ("3000,", "not [host:]port"),
        ("3000:x", "not [host:]port"),
        ("127.0.0.1:0", "port must be"),
        ("127.0.0.1:65536", "port must be"),
        ("127.0.0.1:\u00b3", "not [host:]port"),
    ],
)
def test_bad_replica_lists_name_the_variable_and_value(text: str, reason: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        Config.from_env({ADDRESSES: text})
    assert (caught.value.field, caught.value.value) == (ADDRESSES, text)
    assert reason in str(caught.value)


def test_the_client_takes_every_replica() -> None:
    """The official client parses the normalized list at start (it connects lazily, so no
    cluster is needed); a list it would refuse never reaches it."""
    addresses = Config.from_env({ADDRESSES: "3001,3002,3003,3004,3005,3006"}).tigerbeetle_addresses
    assert addresses is not None
    ledger = TigerBeetleLedger.connect(0, addresses)
    ledger.close()


def test_the_twin_is_single_writer(tmp_path: Path) -> None:
    journal = tmp_path / "ledger.journal"
    first = LedgerTwin.open(journal)
    try:
        with pytest.raises(JournalError, match="in use by another writer"):
            LedgerTwin.open(journal)
    finally:
        first.close()


@pytest.mark.parametrize(("text", "expected"), [("1", True), ("true", True), ("0", False)])
def test_redis_cluster_flag(text: str, expected: bool) -> None:
    assert Config.from_env({"AX_REDIS_CLUSTER": text}).redis_cluster is expected
    assert Config.from_env({}).redis_cluster is False


@pytest.mark.parametrize(
    ("name", "text"), [("AX_REDIS_CLUSTER", "cluster"), ("AX_CLICKHOUSE_CLUSTER", "a-b`c")]
)
def test_bad_cluster_settings_are_typed_errors(name: str, text: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        Config.from_env({name: text})
    assert (caught.value.field, caught.value.value) == (name, text)


def test_clickhouse_cluster_name() -> None:
    assert Config.from_env({"AX_CLICKHOUSE_CLUSTER": "ax_cluster"}).clickhouse_cluster == (
        "ax_cluster"
    )
    assert Config.from_env({}).clickhouse_cluster is None
