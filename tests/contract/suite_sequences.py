"""Contract suite for the ``SequenceAllocator`` port: every adapter numbers alike."""

from __future__ import annotations

import pytest

from axdomain.errors import DomainError
from axdomain.ids import AccountId
from axdomain.ports import SequenceAllocator

A = AccountId(0x0190_0000_0000_0001)
B = AccountId(0x0190_0000_0000_0002)


class SequencesContract:
    def make_sequences(self) -> SequenceAllocator:
        raise NotImplementedError

    def test_starts_at_one_and_last_is_zero(self) -> None:
        sequences = self.make_sequences()
        assert sequences.last_allocated(A) == 0
        assert sequences.allocate(A) == 1
        assert sequences.last_allocated(A) == 1

    def test_gap_free_and_strictly_increasing(self) -> None:
        sequences = self.make_sequences()
        drawn = [sequences.allocate(A) for _ in range(5)]
        assert drawn == [1, 2, 3, 4, 5]

    def test_per_account_not_global(self) -> None:
        sequences = self.make_sequences()
        sequences.allocate(A)
        sequences.allocate(A)
        assert sequences.allocate(B) == 1
        assert sequences.allocate(A) == 3
        assert sequences.last_allocated(B) == 1

    def test_block_allocation_reserves_consecutive_numbers(self) -> None:
        sequences = self.make_sequences()
        assert sequences.allocate(A, 3) == 1
        assert sequences.last_allocated(A) == 3
        assert sequences.allocate(A) == 4

    @pytest.mark.parametrize("count", [0, -1, True])
    def test_bad_count_is_a_typed_error_and_allocates_nothing(self, count: object) -> None:
        sequences = self.make_sequences()
        with pytest.raises(DomainError) as error:
            sequences.allocate(A, count)  # type: ignore[arg-type]
        assert error.value.field == "count"
        assert sequences.last_allocated(A) == 0

    def test_system_accounts_are_numbered_too(self) -> None:
        sequences = self.make_sequences()
        assert sequences.allocate(AccountId(1)) == 1
        assert sequences.last_allocated(AccountId(1)) == 1
