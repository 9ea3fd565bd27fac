"""Replay is exact: random batches on a memory twin and a journaled twin, then a reopen.

The batches mix single-phase, pending, post, void and closing transfers with timeouts, and
the clock moves between them, so expiries, reopened accounts and chain rollbacks of
two-phase transfers are all replayed from the journal.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from axadapters.ledger_twin import FsyncPolicy, LedgerTwin
from axdomain.ledger.values import AccountFlags, LedgerAccount, Transfer, TransferFlags

ACCOUNT_IDS = range(1, 7)
LIMIT_FLAGS = [
    *[AccountFlags.NONE] * 4,
    AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
    AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS,
]


def ledger_of(account_id: int) -> int:
    return 1 if account_id <= 4 else 2


@st.composite
def accounts(draw: st.DrawFn, account_id: int | None = None) -> LedgerAccount:
    chosen = draw(st.sampled_from(ACCOUNT_IDS)) if account_id is None else account_id
    linked = draw(st.sampled_from([AccountFlags.NONE] * 3 + [AccountFlags.LINKED]))
    return LedgerAccount(
        id=chosen,
        ledger=draw(st.sampled_from([ledger_of(chosen)] * 9 + [3])),
        code=draw(st.integers(1, 2)),
        flags=draw(st.sampled_from(LIMIT_FLAGS)) | (linked if account_id is None else 0),
        user_data_32=draw(st.integers(0, 2)),
    )


PENDING = TransferFlags.PENDING
POST = TransferFlags.POST_PENDING_TRANSFER
VOID = TransferFlags.VOID_PENDING_TRANSFER
PHASES = [
    *[TransferFlags.NONE] * 6,
    PENDING,
    PENDING,
    POST,
    POST,
    VOID,
    PENDING | TransferFlags.CLOSING_DEBIT,
    PENDING | TransferFlags.CLOSING_CREDIT,
    POST | VOID,
]


class Clock:
    def __init__(self) -> None:
        self.now_ns = 10**18

    def __call__(self) -> int:
        return self.now_ns


@st.composite
def transfers(draw: st.DrawFn) -> Transfer:
    debit = draw(st.sampled_from(ACCOUNT_IDS))
    same_ledger = [i for i in ACCOUNT_IDS if ledger_of(i) == ledger_of(debit) and i != debit]
    credit = draw(st.sampled_from(same_ledger * 5 + list(ACCOUNT_IDS)))
    phase = draw(st.sampled_from(PHASES))
    resolves = bool(phase & (POST | VOID))
    return Transfer(
        id=draw(st.integers(1, 40)),  # small: duplicates, exists_* and burnt ids are common
        debit_account_id=debit,
        credit_account_id=credit,
        amount=draw(st.sampled_from([(1 << 128) - 1, *range(50)])),
        ledger=draw(st.sampled_from([ledger_of(debit)] * 6 + [ledger_of(credit) % 2 + 1])),
        code=draw(st.integers(1, 9)),
        flags=phase | draw(st.sampled_from([TransferFlags.NONE] * 3 + [TransferFlags.LINKED])),
        user_data_64=draw(st.integers(0, 1)),
        pending_id=draw(st.integers(1, 40)) if resolves else draw(st.sampled_from([0] * 9 + [3])),
        timeout=draw(st.sampled_from([0, 0, 1, 2])) if phase & PENDING else 0,
    )


# Most accounts exist from the start so that most transfers can commit.
opening = st.tuples(*(accounts(account_id) for account_id in ACCOUNT_IDS[:5])).map(list)
batches = st.tuples(
    opening,
    st.lists(
        st.one_of(
            st.tuples(st.just("transfers"), st.lists(transfers(), min_size=1, max_size=8)),
            st.tuples(st.just("accounts"), st.lists(accounts(), max_size=3)),
            st.tuples(st.just("tick"), st.integers(0, 3)),
        ),
        min_size=1,
        max_size=12,
    ),
).map(lambda drawn: [("accounts", drawn[0]), *drawn[1]])


@given(batches)
def test_a_reopened_journal_equals_the_memory_twin(
    steps: list[tuple[str, list[LedgerAccount] | list[Transfer] | int]],
) -> None:
    clock = Clock()
    memory = LedgerTwin(clock_ns=clock)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "ledger.journal"
        with LedgerTwin.open(path, fsync=FsyncPolicy.OS_BUFFERED, clock_ns=clock) as journaled:
            for kind, events in steps:
                if kind == "tick":
                    assert isinstance(events, int)
                    clock.now_ns += events * 10**9
                elif kind == "accounts":
                    account_batch = [e for e in events if isinstance(e, LedgerAccount)]
                    expected_a = memory.create_accounts(account_batch)
                    assert journaled.create_accounts(account_batch) == expected_a
                else:
                    transfer_batch = [e for e in events if isinstance(e, Transfer)]
                    expected_t = memory.create_transfers(transfer_batch)
                    assert journaled.create_transfers(transfer_batch) == expected_t
        with LedgerTwin.open(path, clock_ns=clock) as reopened:
            assert reopened.recovery is None
            assert reopened.scan_accounts() == memory.scan_accounts()
            assert reopened.scan_transfers() == memory.scan_transfers()
            for transfer_id in range(1, 41):
                assert reopened.pending_status(transfer_id) == memory.pending_status(transfer_id)
            for account_id in ACCOUNT_IDS:
                assert reopened.get_account_transfers(account_id) == (
                    memory.get_account_transfers(account_id)
                )
            # burnt ids survive the reopen: both twins answer a retry identically
            retry = [
                Transfer(id=i, debit_account_id=1, credit_account_id=2, amount=0, ledger=1, code=1)
                for i in range(1, 41)
            ]
            assert reopened.create_transfers(retry) == memory.create_transfers(retry)
