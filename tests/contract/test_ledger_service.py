"""The ledger contract suite through the ledger service: a journaled twin served on a Unix
socket, reached by ``RemoteLedger`` (the adapter every ``ax serve`` of a shared deployment
uses). Every rule the twin keeps must survive the wire."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from axadapters.ledger_service import LedgerServer, RemoteLedger
from axadapters.ledger_twin import FsyncPolicy, LedgerTwin
from axdomain.ledger.port import LedgerUnavailable
from axdomain.ledger.values import LedgerAccount, Transfer
from tests.contract.suite_ledger import Ids, LedgerContract
from tests.contract.test_ledger_twin import ManualClock


class TestLedgerService(LedgerContract):
    @pytest.fixture(autouse=True)
    def _service(self, tmp_path: Path) -> Iterator[None]:
        self.clock = ManualClock()
        self._twins: list[LedgerTwin] = []
        self._servers: list[LedgerServer] = []
        self._clients: list[RemoteLedger] = []
        self._dir = tmp_path
        yield
        for client in self._clients:
            client.close()
        for server in self._servers:
            server.shutdown()
        for twin in self._twins:
            twin.close()

    def make_ledger(self) -> RemoteLedger:
        n = len(self._twins)
        twin = LedgerTwin.open(
            self._dir / f"ledger-{n}.journal", fsync=FsyncPolicy.OS_BUFFERED, clock_ns=self.clock
        )
        server = LedgerServer(twin, f"unix://{self._dir}/ledger-{n}.sock")
        server.start_thread()
        client = RemoteLedger.connect(server.url)
        self._twins.append(twin)
        self._servers.append(server)
        self._clients.append(client)
        return client

    def let_time_pass(self, seconds: int) -> None:
        self.clock.advance_s(seconds)


def test_a_stopped_service_is_one_unavailable_error(tmp_path: Path) -> None:
    twin = LedgerTwin()
    server = LedgerServer(twin, f"unix://{tmp_path}/l.sock")
    server.start_thread()
    client = RemoteLedger.connect(server.url)
    assert client.scan_accounts() == []
    server.shutdown()
    (tmp_path / "l.sock").unlink()
    client.close()
    with pytest.raises(LedgerUnavailable, match="ledger service at unix://"):
        client.scan_transfers()


def test_tcp_loopback_and_the_tail_of_commits(tmp_path: Path) -> None:
    """``transfers_after`` returns only what was committed after a timestamp."""
    twin = LedgerTwin()
    server = LedgerServer(twin, "tcp://127.0.0.1:0")
    server.start_thread()
    client = RemoteLedger.connect(server.url)
    try:
        ids = Ids()
        a, b = ids(), ids()
        assert client.create_accounts([LedgerAccount(a, 1, 1), LedgerAccount(b, 1, 1)]) == []
        first = Transfer(ids(), a, b, 5, 1, 1)
        second = Transfer(ids(), a, b, 7, 1, 1)
        assert client.create_transfers([first]) == []
        mark = client.lookup_transfers([first.id])[0].timestamp
        assert client.transfers_after([1], mark) == ([], mark)
        assert client.create_transfers([second]) == []
        everything, head = client.transfers_after([1], 0)
        assert [t.id for t in everything] == [first.id, second.id]
        assert head == everything[-1].timestamp
        assert [t.id for t in client.transfers_after([1], mark)[0]] == [second.id]
        assert client.transfers_after([1], head) == ([], head)
        client.create_accounts([LedgerAccount(ids(), 1, 1)])  # moves the head, not the tail
        quiet, later = client.transfers_after([1], head)
        assert quiet == [] and later > head
        assert client.transfers_after([1], later) == ([], later)
    finally:
        client.close()
        server.shutdown()
