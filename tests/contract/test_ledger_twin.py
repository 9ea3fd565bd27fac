"""The ledger contract suite against the in-process twin, memory-only and journaled."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from axadapters.ledger_twin import FsyncPolicy, LedgerTwin
from axdomain.ledger.port import AccountError, TransferError
from axdomain.ledger.values import LedgerAccount, Transfer
from tests.contract.suite_ledger import LedgerContract


class ManualClock:
    """A ledger clock the tests move by hand (nanoseconds, starting near the present)."""

    def __init__(self) -> None:
        self.now_ns = 1_700_000_000 * 10**9

    def __call__(self) -> int:
        return self.now_ns

    def advance_s(self, seconds: int) -> None:
        self.now_ns += seconds * 10**9


class ReopeningTwin:
    """A journaled twin closed and replayed from its file after every write.

    Every observation the suite makes is therefore of state rebuilt from the journal,
    so each semantic rule doubles as a replay check.
    """

    def __init__(self, path: Path, clock: ManualClock) -> None:
        self._path = path
        self._clock = clock
        self._twin = LedgerTwin.open(path, fsync=FsyncPolicy.OS_BUFFERED, clock_ns=clock)

    def _reopen(self) -> None:
        self._twin.close()
        self._twin = LedgerTwin.open(
            path := self._path, fsync=FsyncPolicy.OS_BUFFERED, clock_ns=self._clock
        )
        assert self._twin.recovery is None, path

    def close(self) -> None:
        self._twin.close()

    def create_accounts(self, accounts: Sequence[LedgerAccount]) -> list[AccountError]:
        errors = self._twin.create_accounts(accounts)
        self._reopen()
        return errors

    def create_transfers(self, transfers: Sequence[Transfer]) -> list[TransferError]:
        errors = self._twin.create_transfers(transfers)
        self._reopen()
        return errors

    @property
    def batch_events_max(self) -> int:
        return self._twin.batch_events_max

    def lookup_accounts(self, ids: Sequence[int]) -> list[LedgerAccount]:
        return self._twin.lookup_accounts(ids)

    def lookup_transfers(self, ids: Sequence[int]) -> list[Transfer]:
        return self._twin.lookup_transfers(ids)

    def query_accounts(self, ledger: int, user_data_32: int | None = None) -> list[LedgerAccount]:
        return self._twin.query_accounts(ledger, user_data_32)

    def query_transfers(self, ledger: int) -> list[Transfer]:
        return self._twin.query_transfers(ledger)

    def get_account_transfers(self, account_id: int) -> list[Transfer]:
        return self._twin.get_account_transfers(account_id)

    def scan_accounts(self) -> list[LedgerAccount]:
        return self._twin.scan_accounts()

    def scan_transfers(self) -> list[Transfer]:
        return self._twin.scan_transfers()


class TestMemoryLedgerTwin(LedgerContract):
    @pytest.fixture(autouse=True)
    def _clock(self) -> None:
        self.clock = ManualClock()

    def make_ledger(self) -> LedgerTwin:
        return LedgerTwin(clock_ns=self.clock)

    def let_time_pass(self, seconds: int) -> None:
        self.clock.advance_s(seconds)


class TestSmallBatchLedgerTwin(TestMemoryLedgerTwin):
    """A cluster started with the 32 KiB development message size: 253 events a request."""

    def make_ledger(self) -> LedgerTwin:
        return LedgerTwin(clock_ns=self.clock, batch_events_max=253)


class TestJournaledLedgerTwin(LedgerContract):
    @pytest.fixture(autouse=True)
    def _journal_dir(self, tmp_path: Path) -> None:
        self._dir = tmp_path
        self._opened: list[ReopeningTwin] = []
        self.clock = ManualClock()

    def make_ledger(self) -> ReopeningTwin:
        ledger = ReopeningTwin(self._dir / f"ledger-{len(self._opened)}.journal", self.clock)
        self._opened.append(ledger)
        return ledger

    def let_time_pass(self, seconds: int) -> None:
        self.clock.advance_s(seconds)

    def teardown_method(self) -> None:
        for ledger in self._opened:
            ledger.close()
