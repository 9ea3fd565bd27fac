"""``RemoteLedger``: the ``LedgerPort`` of a ledger service (``ax ledger-serve``).

One connection per process, one call at a time on it (a lock); a broken connection is
reopened on the next call. A call whose answer never came raises ``LedgerUnavailable``:
its outcome is unknown, and the caller's retry with the same transfer ids finds what the
first attempt committed (``exists``), as with TigerBeetle.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Sequence
from typing import Any

from axadapters.ledger_service import codec
from axadapters.ledger_service.server import parse_ledger_url
from axdomain.ledger.port import (
    AccountError,
    LedgerUnavailable,
    TransferError,
    require_batch_size,
    require_query_ledger,
    require_supported_flags,
)
from axdomain.ledger.values import LedgerAccount, Transfer

CONNECT_TIMEOUT_S = 5.0
CALL_TIMEOUT_S = 30.0


class RemoteLedger:
    def __init__(self, url: str) -> None:
        self._family, self._address = parse_ledger_url(url)
        self._url = url
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._reader: Any = None
        self._batch_events_max = int(self._call("batch_events_max"))

    @classmethod
    def connect(cls, url: str) -> RemoteLedger:
        return cls(url)

    def _open(self) -> socket.socket:
        kind = socket.AF_UNIX if self._family == "unix" else socket.AF_INET
        sock = socket.socket(kind, socket.SOCK_STREAM)
        sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            sock.connect(self._address)
        except OSError:
            sock.close()
            raise
        sock.settimeout(CALL_TIMEOUT_S)
        if kind == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _call(self, call: str, **fields: Any) -> Any:
        request = codec.encode({"call": call, **fields})
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = self._open()
                    self._reader = self._sock.makefile("rb")
                self._sock.sendall(request)
                line = self._reader.readline(codec.MAX_LINE_BYTES)
                if not line:
                    raise ConnectionError("the ledger service closed the connection")
            except OSError as error:
                self._drop()
                detail = error.strerror or str(error) or type(error).__name__
                raise LedgerUnavailable(f"ledger service at {self._url}: {detail}") from None
        answer = codec.decode(line)
        codec.raise_error(answer)
        return answer["result"]

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._reader = None

    def close(self) -> None:
        with self._lock:
            self._drop()

    @property
    def batch_events_max(self) -> int:
        return self._batch_events_max

    def create_accounts(self, accounts: Sequence[LedgerAccount]) -> list[AccountError]:
        require_batch_size("accounts", len(accounts), self._batch_events_max)
        require_supported_flags(accounts=accounts)
        rows = self._call("create_accounts", accounts=[codec.account_out(a) for a in accounts])
        return codec.account_errors_in(rows)

    def create_transfers(self, transfers: Sequence[Transfer]) -> list[TransferError]:
        require_batch_size("transfers", len(transfers), self._batch_events_max)
        require_supported_flags(transfers=transfers)
        rows = self._call("create_transfers", transfers=[codec.transfer_out(t) for t in transfers])
        return codec.transfer_errors_in(rows)

    def lookup_accounts(self, ids: Sequence[int]) -> list[LedgerAccount]:
        return [codec.account_in(r) for r in self._call("lookup_accounts", ids=list(ids))]

    def lookup_transfers(self, ids: Sequence[int]) -> list[Transfer]:
        return [codec.transfer_in(r) for r in self._call("lookup_transfers", ids=list(ids))]

    def query_accounts(self, ledger: int, user_data_32: int | None = None) -> list[LedgerAccount]:
        rows = self._call(
            "query_accounts", ledger=require_query_ledger(ledger), user_data_32=user_data_32
        )
        return [codec.account_in(r) for r in rows]

    def query_transfers(self, ledger: int) -> list[Transfer]:
        rows = self._call("query_transfers", ledger=require_query_ledger(ledger))
        return [codec.transfer_in(r) for r in rows]

    def get_account_transfers(self, account_id: int) -> list[Transfer]:
        rows = self._call("get_account_transfers", account_id=account_id)
        return [codec.transfer_in(r) for r in rows]

    def scan_accounts(self) -> list[LedgerAccount]:
        return [codec.account_in(r) for r in self._call("scan_accounts")]

    def scan_transfers(self) -> list[Transfer]:
        return [codec.transfer_in(r) for r in self._call("scan_transfers")]

    def transfers_after(
        self, ledgers: Sequence[int], after_timestamp: int
    ) -> tuple[list[Transfer], int]:
        """What the processes sharing this ledger committed after ``after_timestamp`` on
        ``ledgers``, in commit order, and the timestamp to ask from next (see ``server``)."""
        answer = self._call("transfers_after", ledgers=list(ledgers), after=after_timestamp)
        return [codec.transfer_in(r) for r in answer["transfers"]], int(answer["head"])
