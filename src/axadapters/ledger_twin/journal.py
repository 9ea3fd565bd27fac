"""The append-only journal: replay at start, classify damage, append committed batches.

Damage rule: a record that is short, fails a checksum or has a bad header is the *torn
tail* when no intact record starts anywhere after it (a crash mid-append can only hurt
the end of the file); it is *corruption* — a hard error — when an intact record follows
it, because then committed batches after it would be lost. A torn tail is never applied:
replay stops before it and the caller gets a ``JournalRecovery`` describing it.

fsync policy: ``FsyncPolicy.EVERY_BATCH`` (default) flushes and ``fsync``\\ s after every
record, and the directory when the file is created, so a batch reported as committed
survives power loss, as TigerBeetle replies only after the prepare is durable.
``FsyncPolicy.OS_BUFFERED`` hands each record to the OS (it survives a crash of the
process, not of the machine); use it for tests and benchmarks.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from pathlib import Path

import attrs

from axadapters.ledger_twin import record
from axadapters.ledger_twin.engine import CommittedBatch


class FsyncPolicy(enum.Enum):
    EVERY_BATCH = "every_batch"
    OS_BUFFERED = "os_buffered"


class JournalError(Exception):
    """Base of the journal's storage errors (distinct from bad input to the ledger)."""


class JournalCorrupt(JournalError):
    """Damage that is not a torn tail, or an intact record that cannot be replayed."""

    def __init__(self, path: str, offset: int, problem: str) -> None:
        self.path = path
        self.offset = offset
        self.problem = problem
        super().__init__(f"ledger journal {path} is corrupt at byte {offset}: {problem}")


class JournalNeedsRepair(JournalError):
    """A write was attempted while a detected torn tail is still in the file."""


@attrs.frozen
class JournalRecovery:
    """What replay found at the end of the journal: the torn last record, never applied.

    ``valid_bytes`` is where the intact prefix ends (the state is that of the
    ``records_replayed`` records in it); ``discarded_bytes`` follow it. ``saved_tail`` names
    the file holding the discarded bytes once the tail was repaired, ``None`` before.
    """

    path: str
    records_replayed: int
    valid_bytes: int
    discarded_bytes: int
    problem: str
    saved_tail: str | None = None


@attrs.frozen
class ReplayOutcome:
    records_replayed: int
    valid_bytes: int
    recovery: JournalRecovery | None


def replay_journal(path: Path, apply: Callable[[CommittedBatch], None]) -> ReplayOutcome:
    """Apply every intact record in order; stop at a torn tail, raise on corruption."""
    if not path.exists():
        return ReplayOutcome(0, 0, None)
    data = path.read_bytes()
    offset = 0
    records = 0
    while offset < len(data):
        problem = _damage_at(data, offset)
        if problem is not None:
            return ReplayOutcome(records, offset, _torn_tail(path, data, offset, records, problem))
        header = data[offset : offset + record.HEADER.size]
        version = record.format_version(header)
        if version not in record.READABLE_VERSIONS:
            raise JournalCorrupt(str(path), offset, f"unsupported format version {version}")
        start = offset + record.HEADER.size
        end = start + record.payload_length(header)
        try:
            apply(record.decode_payload(data[start:end], version))
        except Exception as exc:
            raise JournalCorrupt(str(path), offset, f"intact record not replayable: {exc}") from exc
        records += 1
        offset = end
    return ReplayOutcome(records, offset, None)


def _damage_at(data: bytes, offset: int) -> str | None:
    header = data[offset : offset + record.HEADER.size]
    if len(header) < record.HEADER.size:
        return f"truncated header ({len(header)} of {record.HEADER.size} bytes)"
    if not record.header_is_intact(header):
        return "header checksum, magic or length invalid"
    start = offset + record.HEADER.size
    length = record.payload_length(header)
    payload = data[start : start + length]
    if len(payload) < length:
        return f"truncated payload ({len(payload)} of {length} bytes)"
    if not record.payload_is_intact(header, payload):
        return "payload checksum mismatch"
    return None


def _torn_tail(path: Path, data: bytes, offset: int, records: int, problem: str) -> JournalRecovery:
    intact_after = _next_intact_record(data, offset + 1)
    if intact_after is not None:
        raise JournalCorrupt(
            str(path), offset, f"{problem}; an intact record follows at byte {intact_after}"
        )
    return JournalRecovery(str(path), records, offset, len(data) - offset, problem)


def _next_intact_record(data: bytes, start: int) -> int | None:
    position = data.find(record.MAGIC, start)
    while position != -1:
        if _damage_at(data, position) is None:
            return position
        position = data.find(record.MAGIC, position + 1)
    return None


class JournalWriter:
    """Appends whole records; a failed append is cut back so the file stays replayable."""

    def __init__(self, path: Path, fsync: FsyncPolicy, size_bytes: int) -> None:
        created = not path.exists()
        self._path = path
        self._fsync = fsync
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        _lock_exclusively(self._fd, path)
        self._size_bytes = size_bytes
        self._broken = False
        assert os.fstat(self._fd).st_size >= size_bytes
        if created and fsync is FsyncPolicy.EVERY_BATCH:
            _fsync_directory(path.parent)

    @property
    def size_bytes(self) -> int:
        return self._size_bytes

    def append(self, batch: CommittedBatch) -> None:
        if self._broken:
            raise JournalError(f"ledger journal {self._path} is unusable after a failed append")
        data = record.encode_record(batch)
        try:
            _write_all(self._fd, data, self._size_bytes)
            if self._fsync is FsyncPolicy.EVERY_BATCH:
                os.fsync(self._fd)
        except OSError:
            self._cut_back()
            raise
        self._size_bytes += len(data)

    def truncate(self, size_bytes: int) -> None:
        assert 0 <= size_bytes <= os.fstat(self._fd).st_size
        os.ftruncate(self._fd, size_bytes)
        os.fsync(self._fd)
        self._size_bytes = size_bytes

    def _cut_back(self) -> None:
        try:
            os.ftruncate(self._fd, self._size_bytes)
        except OSError:
            self._broken = True

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _lock_exclusively(fd: int, path: Path) -> None:
    """One writer per journal: a second process appending would interleave records."""
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform: single ownership is on the caller
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        raise JournalError(f"ledger journal {path} is in use by another writer") from exc


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    written = 0
    while written < len(data):
        written += os.pwrite(fd, view[written:], offset + written)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # platforms without directory handles: the file fsync is all we can do
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
