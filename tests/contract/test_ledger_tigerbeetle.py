"""The ledger contract suite against a real TigerBeetle cluster.

Runs only when ``AX_TIGERBEETLE_ADDRESSES`` names a cluster (``AX_TIGERBEETLE_CLUSTER_ID``,
default 0). No TigerBeetle server can be installed on the development and CI machines
(SPEC §8), so there the module is skipped and the same suite runs against the twin.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator

import pytest

from axadapters.tigerbeetle import TigerBeetleLedger
from tests.conftest import unavailable_service
from tests.contract.suite_ledger import LedgerContract

ADDRESSES = os.environ.get("AX_TIGERBEETLE_ADDRESSES", "")
CLUSTER_ID = int(os.environ.get("AX_TIGERBEETLE_CLUSTER_ID", "0"))
BATCH_MAX = int(os.environ.get("AX_TIGERBEETLE_BATCH_MAX", "8189"))
CONNECT_TIMEOUT_S = 3.0

pytestmark = pytest.mark.skipif(
    not ADDRESSES,
    reason="AX_TIGERBEETLE_ADDRESSES is not set: no TigerBeetle cluster here (SPEC §8); "
    "the ledger contract runs against the twin in test_ledger_twin.py",
)


def _first_replica() -> tuple[str, int]:
    first = ADDRESSES.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    return (host or "127.0.0.1"), int(port or first)


@pytest.fixture(scope="module")
def cluster() -> Iterator[TigerBeetleLedger]:
    # The client retries forever against a dead address; probe first so a typo fails fast.
    try:
        socket.create_connection(_first_replica(), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        unavailable_service("TigerBeetle", f"{ADDRESSES}: {exc}")
    ledger = TigerBeetleLedger.connect(CLUSTER_ID, ADDRESSES, batch_events_max=BATCH_MAX)
    yield ledger
    ledger.close()


class TestTigerBeetleLedger(LedgerContract):
    @pytest.fixture(autouse=True)
    def _cluster(self, cluster: TigerBeetleLedger) -> None:
        self._ledger = cluster

    def make_ledger(self) -> TigerBeetleLedger:
        return self._ledger

    def let_time_pass(self, seconds: int) -> None:
        # The cluster's clock is real time: wait it out (expiry is judged by timestamps).
        time.sleep(seconds + 1)
