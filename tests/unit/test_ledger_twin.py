"""The twin's own promises beyond the port: journal recovery, rollback, clocks and bounds."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from axadapters.ledger_twin import (
    BATCH_EVENTS_MAX,
    FsyncPolicy,
    JournalCorrupt,
    JournalError,
    JournalNeedsRepair,
    LedgerTwin,
)
from axadapters.ledger_twin import journal as journal_module
from axadapters.ledger_twin.engine import CommittedBatch
from axadapters.ledger_twin.record import HEADER, encode_record
from axdomain.errors import InvalidValue
from axdomain.ledger.port import CreateTransferResult, LedgerBatchTooLarge, TransferError
from axdomain.ledger.values import (
    USD_LEDGER,
    AccountFlags,
    LedgerAccount,
    Transfer,
    TransferCode,
    TransferFlags,
)

CUSTOMER, OTHER, CUSTODY, FEES = 11, 12, 13, 14
DMNEC = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
LINKED = TransferFlags.LINKED


def usd(account_id: int, flags: AccountFlags = AccountFlags.NONE) -> LedgerAccount:
    return LedgerAccount(id=account_id, ledger=USD_LEDGER, code=1, flags=flags)


def move(
    transfer_id: int,
    debit: int,
    credit: int,
    amount: int,
    flags: TransferFlags = TransferFlags.NONE,
) -> Transfer:
    return Transfer(
        id=transfer_id,
        debit_account_id=debit,
        credit_account_id=credit,
        amount=amount,
        ledger=USD_LEDGER,
        code=int(TransferCode.DEPOSIT),
        flags=flags,
    )


OPENING = [usd(CUSTOMER, DMNEC), usd(OTHER, DMNEC), usd(CUSTODY), usd(FEES)]
BATCHES = [
    [move(101, CUSTODY, CUSTOMER, 500), move(102, CUSTODY, OTHER, 300)],
    [move(103, CUSTOMER, OTHER, 200, LINKED), move(104, CUSTOMER, FEES, 7)],
    [move(105, OTHER, CUSTOMER, 50, LINKED), move(106, OTHER, FEES, 3)],
]

# header (magic, v1, len 96, CRCs) | ts 9, 1 account, 0 transfers, 1 failed id | account | id
GOLDEN_RECORD_V1_HEX = (
    "41584c4a01000000600000003ca4f15b2b93ff1f0900000000000000010000000000000001000000"
    "05000000000000000700000000000000000000000000000000000000000000000000000000000000"
    "040000000200000003000000090000000000000000000000000000000000000010000000"
)
# the same batch in format 2: u32 expired count after the failed count (len 100)
GOLDEN_RECORD_HEX = (
    "41584c4a0200000064000000ca56728793f4ad660900000000000000010000000000000001000000"
    "00000000050000000000000007000000000000000000000000000000000000000000000000000000"
    "00000000040000000200000003000000090000000000000000000000000000000000000010000000"
)


def apply_all(twin: LedgerTwin, batches: list[list[Transfer]]) -> None:
    assert twin.create_accounts(OPENING) == []
    for batch in batches:
        assert twin.create_transfers(batch) == []


def snapshot(twin: LedgerTwin) -> tuple[list[LedgerAccount], list[Transfer]]:
    return twin.scan_accounts(), twin.scan_transfers()


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.journal"


@pytest.fixture
def written(journal_path: Path) -> Iterator[tuple[Path, list[int]]]:
    """A journal of the opening accounts and all BATCHES; yields the record end offsets."""
    ends: list[int] = []
    with LedgerTwin.open(journal_path, fsync=FsyncPolicy.OS_BUFFERED) as twin:
        assert twin.create_accounts(OPENING) == []
        ends.append(journal_path.stat().st_size)
        for batch in BATCHES:
            assert twin.create_transfers(batch) == []
            ends.append(journal_path.stat().st_size)
    yield journal_path, ends


def state_after(batch_count: int) -> tuple[list[LedgerAccount], list[Transfer]]:
    twin = LedgerTwin()
    apply_all(twin, BATCHES[:batch_count])
    return snapshot(twin)


def test_an_overdrawing_last_leg_leaves_every_balance_and_the_journal_as_they_were(
    journal_path: Path,
) -> None:
    with LedgerTwin.open(journal_path) as twin:
        apply_all(twin, BATCHES[:1])
        before, size_before = snapshot(twin), journal_path.stat().st_size
        fill = [
            move(201, CUSTOMER, OTHER, 400, LINKED),
            move(202, OTHER, CUSTOMER, 10, LINKED),
            move(203, CUSTOMER, FEES, 111),  # 500 - 400 + 10 = 110 left: overdraws by 1
        ]
        assert twin.create_transfers(fill) == [
            TransferError(0, CreateTransferResult.LINKED_EVENT_FAILED),
            TransferError(1, CreateTransferResult.LINKED_EVENT_FAILED),
            TransferError(2, CreateTransferResult.EXCEEDS_CREDITS),
        ]
        assert snapshot(twin) == before
        # only the burnt id of the failing leg is recorded, no transfer
        assert journal_path.stat().st_size > size_before
    with LedgerTwin.open(journal_path) as reopened:
        assert snapshot(reopened) == before
        assert reopened.create_transfers([fill[2]]) == [
            TransferError(0, CreateTransferResult.ID_ALREADY_FAILED)
        ]


def test_a_batch_that_changes_nothing_writes_nothing(journal_path: Path) -> None:
    with LedgerTwin.open(journal_path) as twin:
        apply_all(twin, BATCHES[:1])
        size = journal_path.stat().st_size
        assert twin.create_accounts(OPENING[:1]) != []  # exists
        assert twin.create_transfers([move(101, CUSTODY, CUSTOMER, 500)]) != []  # exists
        assert twin.create_transfers([]) == []
        assert journal_path.stat().st_size == size


def test_reopening_after_clean_writes_gives_identical_scans(
    written: tuple[Path, list[int]],
) -> None:
    path, _ = written
    expected = state_after(len(BATCHES))
    with LedgerTwin.open(path) as twin:
        assert twin.recovery is None
        assert snapshot(twin) == expected
        last = twin.last_timestamp
        assert twin.create_transfers([move(301, CUSTODY, CUSTOMER, 1)]) == []
        [created] = twin.lookup_transfers([301])
        assert created.timestamp > last >= max(t.timestamp for t in expected[1])


@pytest.mark.parametrize("cut", ["inside_header", "inside_payload", "last_byte"])
def test_a_truncated_last_record_is_reported_and_not_applied(
    written: tuple[Path, list[int]], cut: str
) -> None:
    path, ends = written
    torn_start = ends[-2]
    cut_at = {
        "inside_header": torn_start + HEADER.size // 2,
        "inside_payload": torn_start + HEADER.size + 5,
        "last_byte": ends[-1] - 1,
    }[cut]
    with path.open("r+b") as f:
        f.truncate(cut_at)
    with LedgerTwin.open(path) as twin:
        assert snapshot(twin) == state_after(len(BATCHES) - 1)
        recovery = twin.recovery
        assert recovery is not None
        assert recovery.records_replayed == len(ends) - 1
        assert recovery.valid_bytes == torn_start
        assert recovery.discarded_bytes == cut_at - torn_start
        assert "truncated" in recovery.problem
        assert path.stat().st_size == cut_at  # nothing is cut without being asked


@pytest.mark.parametrize("where", ["header", "payload"])
def test_a_flipped_byte_in_the_last_record_is_reported_and_not_applied(
    written: tuple[Path, list[int]], where: str
) -> None:
    path, ends = written
    position = ends[-2] + (9 if where == "header" else HEADER.size + 30)
    data = bytearray(path.read_bytes())
    data[position] ^= 0x40
    path.write_bytes(bytes(data))
    with LedgerTwin.open(path) as twin:
        assert snapshot(twin) == state_after(len(BATCHES) - 1)
        assert twin.recovery is not None
        assert twin.recovery.valid_bytes == ends[-2]
        assert twin.recovery.discarded_bytes == ends[-1] - ends[-2]
        assert "checksum" in twin.recovery.problem


def test_writes_wait_for_an_explicit_repair_which_saves_the_torn_bytes(
    written: tuple[Path, list[int]],
) -> None:
    path, ends = written
    with path.open("r+b") as f:
        f.truncate(ends[-1] - 3)
    torn_bytes = path.read_bytes()[ends[-2] :]
    with LedgerTwin.open(path) as twin:
        with pytest.raises(JournalNeedsRepair):
            twin.create_transfers([move(401, CUSTODY, CUSTOMER, 1)])
        recovery = twin.repair_torn_tail()
        assert recovery.saved_tail is not None
        assert Path(recovery.saved_tail).read_bytes() == torn_bytes
        assert path.stat().st_size == ends[-2]
        assert twin.create_transfers([move(401, CUSTODY, CUSTOMER, 1)]) == []
        expected = snapshot(twin)
        with pytest.raises(JournalNeedsRepair):
            twin.repair_torn_tail()
    with LedgerTwin.open(path) as reopened:
        assert reopened.recovery is None
        assert snapshot(reopened) == expected


def test_repair_can_be_requested_at_open(written: tuple[Path, list[int]]) -> None:
    path, ends = written
    with path.open("r+b") as f:
        f.truncate(ends[-1] - 1)
    with LedgerTwin.open(path, repair_torn_tail=True) as twin:
        assert twin.recovery is not None and twin.recovery.saved_tail is not None
        assert path.stat().st_size == ends[-2]
        assert twin.create_accounts([usd(99)]) == []


@pytest.mark.parametrize("where", ["header", "payload", "magic"])
def test_a_corrupt_record_before_the_last_is_a_hard_error(
    written: tuple[Path, list[int]], where: str
) -> None:
    path, ends = written
    start = ends[1]
    position = start + {"magic": 0, "header": 10, "payload": HEADER.size + 12}[where]
    data = bytearray(path.read_bytes())
    data[position] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(JournalCorrupt) as caught:
        LedgerTwin.open(path)
    assert caught.value.offset == start
    assert f"intact record follows at byte {ends[2]}" in str(caught.value)


def test_an_intact_record_that_cannot_be_replayed_is_a_hard_error(journal_path: Path) -> None:
    with LedgerTwin.open(journal_path) as twin:
        assert twin.create_accounts(OPENING) == []
    first = journal_path.read_bytes()
    journal_path.write_bytes(first + first)  # the same accounts a second time
    with pytest.raises(JournalCorrupt, match="not replayable"):
        LedgerTwin.open(journal_path)


def test_an_unknown_format_version_is_a_hard_error(journal_path: Path) -> None:
    with LedgerTwin.open(journal_path) as twin:
        assert twin.create_accounts(OPENING) == []
    data = bytearray(journal_path.read_bytes())
    data[4] = 99  # version, little-endian u16 after the magic; fix the header checksum
    data[16:20] = zlib.crc32(bytes(data[:16])).to_bytes(4, "little")
    journal_path.write_bytes(bytes(data))
    with pytest.raises(JournalCorrupt, match="version 99"):
        LedgerTwin.open(journal_path)


def test_a_failed_append_takes_the_batch_back(
    journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LedgerTwin.open(journal_path) as twin:
        apply_all(twin, BATCHES[:1])
        before, size = snapshot(twin), journal_path.stat().st_size

        def failing_write(fd: int, data: bytes, offset: int) -> None:
            os.pwrite(fd, data[:7], offset)  # a torn write, then the error
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(journal_module, "_write_all", failing_write)
        with pytest.raises(OSError, match="No space"):
            twin.create_transfers([move(501, CUSTODY, CUSTOMER, 5)])
        assert snapshot(twin) == before
        assert journal_path.stat().st_size == size
        monkeypatch.undo()
        assert twin.create_transfers([move(501, CUSTODY, CUSTOMER, 5)]) == []
    with LedgerTwin.open(journal_path) as reopened:
        assert reopened.recovery is None
        assert [t.id for t in reopened.scan_transfers()][-1] == 501


def test_a_closed_twin_refuses_writes(journal_path: Path) -> None:
    twin = LedgerTwin.open(journal_path)
    twin.close()
    with pytest.raises(JournalError):
        twin.create_accounts(OPENING)
    assert not journal_path.read_bytes()


def test_timestamps_come_from_the_clock_and_never_go_back() -> None:
    readings = iter([1_000_000, 500, 2_000_000])
    twin = LedgerTwin(clock_ns=lambda: next(readings))
    assert twin.create_accounts(OPENING[:2]) == []
    assert twin.create_accounts(OPENING[2:]) == []
    assert twin.create_transfers([move(601, CUSTODY, CUSTOMER, 1)]) == []
    stamps = [a.timestamp for a in twin.scan_accounts()] + [twin.scan_transfers()[0].timestamp]
    assert stamps == [999_999, 1_000_000, 1_000_001, 1_000_002, 2_000_000]


def test_unsupported_flags_and_oversized_batches_are_rejected_whole() -> None:
    twin = LedgerTwin()
    assert twin.create_accounts(OPENING) == []
    balancing = move(701, CUSTODY, CUSTOMER, 1, TransferFlags.BALANCING_DEBIT)
    with pytest.raises(InvalidValue) as caught:
        twin.create_transfers([move(700, CUSTODY, CUSTOMER, 1), balancing])
    assert caught.value.field == "flags"
    imported = LedgerAccount(id=98, ledger=1, code=1, flags=AccountFlags.IMPORTED)
    with pytest.raises(InvalidValue):
        twin.create_accounts([imported])
    too_many = [move(800 + i, CUSTODY, CUSTOMER, 1) for i in range(BATCH_EVENTS_MAX + 1)]
    with pytest.raises(LedgerBatchTooLarge) as too_large:
        twin.create_transfers(too_many)
    assert too_large.value.value == BATCH_EVENTS_MAX + 1
    assert twin.scan_transfers() == []


def test_the_batch_limit_is_configurable_and_bounded() -> None:
    twin = LedgerTwin(batch_events_max=3)
    assert twin.batch_events_max == 3
    assert twin.create_accounts(OPENING[:3]) == []
    with pytest.raises(LedgerBatchTooLarge):
        twin.create_accounts(OPENING)
    with pytest.raises(LedgerBatchTooLarge):
        twin.create_transfers([move(810 + i, CUSTODY, CUSTOMER, 1) for i in range(4)])
    assert len(twin.scan_accounts()) == 3
    for wrong in (0, BATCH_EVENTS_MAX + 1):
        with pytest.raises(InvalidValue):
            LedgerTwin(batch_events_max=wrong)


def test_the_record_format_is_stable() -> None:
    """The on-disk bytes of a known batch: a format change must be a deliberate version bump."""
    account = LedgerAccount(id=(7 << 64) | 5, ledger=2, code=3, user_data_32=4, timestamp=9)
    data = encode_record(CommittedBatch(9, accounts=(account,), failed_transfer_ids=(1 << 100,)))
    assert len(data) == HEADER.size + 24 + 60 + 16
    assert data.hex() == GOLDEN_RECORD_HEX


def test_version_1_records_are_still_replayed(journal_path: Path) -> None:
    """A journal written before two-phase transfers (format 1) opens unchanged."""
    journal_path.write_bytes(bytes.fromhex(GOLDEN_RECORD_V1_HEX))
    with LedgerTwin.open(journal_path) as twin:
        [account] = twin.scan_accounts()
        assert (account.id, account.ledger, account.code, account.timestamp) == (
            (7 << 64) | 5,
            2,
            3,
            9,
        )
        assert twin.create_transfers([]) == []


def test_a_journal_has_one_writer_at_a_time(journal_path: Path) -> None:
    with LedgerTwin.open(journal_path) as first:
        assert first.create_accounts(OPENING) == []
        with pytest.raises(JournalError, match="in use"):
            LedgerTwin.open(journal_path)
    with LedgerTwin.open(journal_path) as again:
        assert len(again.scan_accounts()) == len(OPENING)


def test_an_unexpected_error_mid_batch_leaves_no_half_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    twin = LedgerTwin()
    apply_all(twin, BATCHES[:1])
    before = snapshot(twin)
    engine = twin._engine  # the seam under test: the engine's own batch guard
    real_create = engine._create_transfer

    def create_then_fail(event: Transfer, timestamp: int) -> CreateTransferResult:
        if event.id == 903:
            raise RuntimeError("simulated bug")
        return real_create(event, timestamp)

    monkeypatch.setattr(engine, "_create_transfer", create_then_fail)
    batch = [
        move(901, CUSTODY, CUSTOMER, 1),
        move(902, CUSTOMER, FEES, 10**9),  # exceeds_credits: burns 902
        move(903, CUSTODY, CUSTOMER, 1),
    ]
    with pytest.raises(RuntimeError, match="simulated"):
        twin.create_transfers(batch)
    monkeypatch.undo()
    assert snapshot(twin) == before
    assert twin.create_transfers(batch[:2]) == [
        TransferError(1, CreateTransferResult.EXCEEDS_CREDITS)
    ]
