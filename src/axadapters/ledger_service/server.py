"""``LedgerServer``: the port's calls over a local socket, answered by one ledger.

One thread per connection; the twin serializes calls with its own lock, so the service
stays the single writer of its journal while any number of processes read and post. There
is no authentication: the service listens on a Unix socket (file permissions decide who may
connect) or on a loopback TCP port, never on a public address.

Besides the port, one read serves the processes sharing the ledger: ``transfers_after``,
the transfers of the given ledgers committed after a timestamp, in commit order, with the
ledger's head, so each process folds what the others committed without rescanning the
history (the twin's head makes the idle case O(1)).
"""

from __future__ import annotations

import bisect
import heapq
import os
import socketserver
import threading
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from axadapters.ledger_service import codec
from axdomain.errors import InvalidValue
from axdomain.ledger.port import LedgerPort
from axdomain.ledger.values import Transfer


def parse_ledger_url(url: str) -> tuple[str, str | tuple[str, int]]:
    """``unix:///path/to.sock`` or ``tcp://127.0.0.1:PORT`` -> (family, address)."""
    parts = urlsplit(url)
    if parts.scheme == "unix" and parts.path:
        return "unix", parts.path
    if parts.scheme == "tcp" and parts.hostname and parts.port is not None:
        return "tcp", (parts.hostname, parts.port)
    raise InvalidValue("AX_LEDGER_URL", url, "must be unix:///path or tcp://host:port")


def transfers_after(
    ledger: LedgerPort, ledgers: Sequence[int], after_timestamp: int
) -> list[Transfer]:
    """Transfers on ``ledgers`` with a timestamp above ``after_timestamp``, commit order."""
    tails = []
    for number in ledgers:
        committed = ledger.query_transfers(number)
        start = bisect.bisect_right(committed, after_timestamp, key=lambda t: t.timestamp)
        tails.append(committed[start:])
    return list(heapq.merge(*tails, key=lambda t: t.timestamp))


def _handlers(ledger: LedgerPort) -> dict[str, Callable[[dict[str, Any]], Any]]:
    def tail(m: dict[str, Any]) -> dict[str, Any]:
        """The transfers after ``after`` up to the ledger's head (its last timestamp, read
        before the per-ledger reads, so the answer is one consistent cut however the calls
        interleave with commits), and that head to ask from next time."""
        after = int(m["after"])
        head = int(getattr(ledger, "last_timestamp", 0))
        if head and head <= after:
            return {"transfers": [], "head": after}  # idle: O(1)
        fresh = transfers_after(ledger, m["ledgers"], after)
        if head:
            fresh = [t for t in fresh if t.timestamp <= head]
        else:  # a ledger without a head: best effort, the last transfer read
            head = fresh[-1].timestamp if fresh else after
        return {"transfers": [codec.transfer_out(t) for t in fresh], "head": max(head, after)}

    return {
        "batch_events_max": lambda _m: ledger.batch_events_max,
        "create_accounts": lambda m: [
            [e.index, e.result.value]
            for e in ledger.create_accounts([codec.account_in(a) for a in m["accounts"]])
        ],
        "create_transfers": lambda m: [
            [e.index, e.result.value]
            for e in ledger.create_transfers([codec.transfer_in(t) for t in m["transfers"]])
        ],
        "lookup_accounts": lambda m: [
            codec.account_out(a) for a in ledger.lookup_accounts(m["ids"])
        ],
        "lookup_transfers": lambda m: [
            codec.transfer_out(t) for t in ledger.lookup_transfers(m["ids"])
        ],
        "query_accounts": lambda m: [
            codec.account_out(a) for a in ledger.query_accounts(m["ledger"], m["user_data_32"])
        ],
        "query_transfers": lambda m: [
            codec.transfer_out(t) for t in ledger.query_transfers(m["ledger"])
        ],
        "get_account_transfers": lambda m: [
            codec.transfer_out(t) for t in ledger.get_account_transfers(m["account_id"])
        ],
        "scan_accounts": lambda _m: [codec.account_out(a) for a in ledger.scan_accounts()],
        "scan_transfers": lambda _m: [codec.transfer_out(t) for t in ledger.scan_transfers()],
        "transfers_after": tail,
    }


def answer(handlers: dict[str, Callable[[dict[str, Any]], Any]], line: bytes) -> bytes:
    """One request line in, one answer line out; a failure is an answer, never a crash."""
    try:
        message = codec.decode(line)
        handler = handlers.get(str(message.get("call")))
        if handler is None:
            raise InvalidValue("call", message.get("call"), "not a ledger call")
        return codec.encode({"result": handler(message)})
    except Exception as error:
        return codec.encode(codec.error_out(error))


class LedgerServer:
    """Serves ``ledger`` at ``url`` until ``shutdown``; ``serve_forever`` blocks."""

    def __init__(self, ledger: LedgerPort, url: str) -> None:
        family, address = parse_ledger_url(url)
        handlers = _handlers(ledger)

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                while True:
                    line = self.rfile.readline(codec.MAX_LINE_BYTES)
                    if not line:
                        return
                    self.wfile.write(answer(handlers, line))

        self._server: socketserver.BaseServer
        if family == "unix":
            assert isinstance(address, str)
            if os.path.exists(address):
                os.unlink(address)  # a socket file left by a killed service

            class UnixServer(socketserver.ThreadingUnixStreamServer):
                daemon_threads = True

            self._server = UnixServer(address, Handler)
            os.chmod(address, 0o600)
        else:
            assert isinstance(address, tuple)

            class TcpServer(socketserver.ThreadingTCPServer):
                daemon_threads = True
                allow_reuse_address = True

            self._server = TcpServer(address, Handler)
        self.url = url if family == "unix" else self._tcp_url()

    def _tcp_url(self) -> str:
        address = self._server.server_address
        assert isinstance(address, tuple)
        return f"tcp://{address[0]}:{address[1]}"

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="ax-ledger-service", daemon=True)
        thread.start()
        return thread

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
