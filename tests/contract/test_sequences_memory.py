from __future__ import annotations

from axadapters.memory.sequences import MemorySequences
from axdomain.ports import SequenceAllocator
from tests.contract.suite_sequences import SequencesContract


class TestMemorySequences(SequencesContract):
    def make_sequences(self) -> SequenceAllocator:
        return MemorySequences()
