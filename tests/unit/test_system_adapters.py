from __future__ import annotations

from axadapters.system import OsSecretSource, SystemClock, UlidIdGenerator
from axdomain.ids import RESERVED_ID_LIMIT


def test_ids_within_one_millisecond_are_strictly_increasing() -> None:
    generator = UlidIdGenerator(clock_ms=lambda: 1_700_000_000_000, random16=lambda: 0xFFFF)
    ids = [generator.new_id() for _ in range(5)]
    assert ids == sorted(set(ids))
    assert ids[0] >> 16 == 1_700_000_000_000
    assert ids[1] == ids[0] + 1


def test_ids_do_not_go_back_when_the_clock_does() -> None:
    times = iter([2_000, 1_000])
    generator = UlidIdGenerator(clock_ms=lambda: next(times), random16=lambda: 5)
    first, second = generator.new_id(), generator.new_id()
    assert second == first + 1


def test_real_ids_are_top_halves_of_ulids_outside_the_reserved_range() -> None:
    generator = UlidIdGenerator()
    ids = [generator.new_id() for _ in range(1000)]
    assert ids == sorted(set(ids))
    assert all(RESERVED_ID_LIMIT <= i < 1 << 64 for i in ids)


def test_clock_and_secrets() -> None:
    assert SystemClock().now_ns() > 1_600_000_000 * 10**9
    first, second = OsSecretSource().token_bytes(32), OsSecretSource().token_bytes(32)
    assert len(first) == 32 and first != second
