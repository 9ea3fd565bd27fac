"""Contract suite of the analytics port: every adapter (memory, chDB, a ClickHouse server)
answers the same.

Timestamps sit just before the wall clock, because ``risk_snapshots`` has a 7-day TTL and a
real engine drops older rows at merge time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from axdomain import AccountId, InvalidValue
from axdomain.analytics import (
    NS_PER_DAY,
    NS_PER_HOUR,
    AnalyticsStore,
    Rollup,
    rollups_of,
)
from axdomain.cache import I128_MAX, I128_MIN, U128_MAX, RiskSnapshot
from axdomain.contracts import ContractDate, ContractId, ProductId
from axdomain.ledger.sequencing import PositionRecord, TransactionRecord
from axdomain.ledger.values import TransferCode

ACCOUNT_A = AccountId(0x0190_0000_0000_00A0)
ACCOUNT_B = AccountId(0x0190_0000_0000_00B0)
PERP = ContractId.perp(ProductId(1001))
DATED = ContractId.new(ProductId(1003), ContractDate(20270326))
# A whole number of days before now, so bucket boundaries are deterministic in the test.
BASE_NS = (time.time_ns() // NS_PER_DAY - 2) * NS_PER_DAY
MINUTE_NS = 60 * 1_000_000_000


def position(
    seq: int, *, account: AccountId = ACCOUNT_A, contract: ContractId = PERP, at_ns: int = 0
) -> PositionRecord:
    return PositionRecord(
        account, seq, contract, seq * 3 - 10, -seq * 1_000_000, at_ns or BASE_NS + seq * MINUTE_NS
    )


def transaction(seq: int, *, account: AccountId = ACCOUNT_A) -> TransactionRecord:
    return TransactionRecord(
        account,
        seq,
        ((TransferCode.TRADE_BASIS, -seq * 1_000), (TransferCode.FEE, -7)),
        ((seq << 64) | 1, (seq << 64) | 2),
        BASE_NS + seq * MINUTE_NS,
    )


def snapshot(at_ns: int, equity: int, *, account: AccountId = ACCOUNT_A) -> RiskSnapshot:
    return RiskSnapshot(
        account_id=account,
        symbol=None,
        equity_micro_usd=equity,
        initial_margin_micro_usd=abs(equity) // 4,
        maintenance_margin_micro_usd=abs(equity) // 8,
        unrealized_pnl_micro_usd=-equity // 10,
        as_of_ns=at_ns,
    )


SNAPSHOTS = [
    snapshot(BASE_NS + minutes * MINUTE_NS, equity)
    for minutes, equity in ((0, 1_000), (20, 900), (59, 1_200), (61, 1_100), (24 * 60 + 5, 800))
]
END_NS = BASE_NS + 3 * NS_PER_DAY


class AnalyticsContract:
    def make_store(self) -> AnalyticsStore:
        raise NotImplementedError

    @pytest.fixture
    def store(self) -> Iterator[AnalyticsStore]:
        store = self.make_store()
        yield store
        store.close()

    # ------------------------------------------------------------------ positions

    def test_empty_reads(self, store: AnalyticsStore) -> None:
        assert store.latest_positions(ACCOUNT_A) == []
        assert store.positions_between(ACCOUNT_A, 0, END_NS) == []
        assert store.transactions_between(ACCOUNT_A, 0, END_NS) == []
        assert store.risk_snapshots_between(ACCOUNT_A, 0, END_NS) == []
        assert store.risk_rollups(ACCOUNT_A, Rollup.HOUR, 0, END_NS) == []
        assert store.projected_chains() == 0

    def test_latest_position_per_contract(self, store: AnalyticsStore) -> None:
        records = [
            position(1),
            position(2, contract=DATED),
            position(3),
            position(4, contract=DATED),
            position(5),
        ]
        store.write_positions(records)
        assert store.latest_positions(ACCOUNT_A) == [records[4], records[3]]

    def test_latest_prefers_later_time_then_higher_sequence(self, store: AnalyticsStore) -> None:
        early, late = position(7, at_ns=BASE_NS + 5), position(6, at_ns=BASE_NS + 9)
        store.write_positions([early, late])
        assert store.latest_positions(ACCOUNT_A) == [late]

    def test_accounts_never_mix(self, store: AnalyticsStore) -> None:
        mine, theirs = position(1), position(1, account=ACCOUNT_B, contract=DATED)
        store.write_positions([mine, theirs])
        store.write_transactions([transaction(1), transaction(1, account=ACCOUNT_B)])
        store.write_risk_snapshots([snapshot(BASE_NS, 5, account=ACCOUNT_B)])
        assert store.latest_positions(ACCOUNT_A) == [mine]
        assert store.latest_positions(ACCOUNT_B) == [theirs]
        assert [t.account_id for t in store.transactions_between(ACCOUNT_A, 0, END_NS)] == [
            ACCOUNT_A
        ]
        assert store.risk_snapshots_between(ACCOUNT_A, 0, END_NS) == []
        assert store.risk_rollups(ACCOUNT_A, Rollup.DAY, 0, END_NS) == []

    def test_positions_window_is_half_open(self, store: AnalyticsStore) -> None:
        records = [position(seq) for seq in range(1, 6)]
        store.write_positions(records)
        start, end = records[1].timestamp_ns, records[3].timestamp_ns
        assert store.positions_between(ACCOUNT_A, start, end) == records[1:3]
        assert store.positions_between(ACCOUNT_A, start, start) == []

    def test_replayed_positions_are_not_counted_twice(self, store: AnalyticsStore) -> None:
        records = [position(seq, contract=PERP if seq % 2 else DATED) for seq in range(1, 9)]
        store.write_positions(records)
        first = (store.latest_positions(ACCOUNT_A), store.positions_between(ACCOUNT_A, 0, END_NS))
        store.write_positions(records)
        store.write_positions(records[3:5])
        second = (store.latest_positions(ACCOUNT_A), store.positions_between(ACCOUNT_A, 0, END_NS))
        assert first == second
        assert len(second[1]) == len(records)

    def test_wide_amounts_round_trip(self, store: AnalyticsStore) -> None:
        wide = PositionRecord(ACCOUNT_A, 1, PERP, -(2**100), I128_MIN, BASE_NS)
        store.write_positions([wide])
        assert store.latest_positions(ACCOUNT_A) == [wide]

    # ------------------------------------------------------------------ transactions

    def test_transactions_round_trip_in_order(self, store: AnalyticsStore) -> None:
        records = [transaction(seq) for seq in (3, 1, 2)]
        store.write_transactions(records)
        assert store.transactions_between(ACCOUNT_A, 0, END_NS) == sorted(
            records, key=lambda r: r.sequence_number
        )

    def test_transactions_window_and_replay(self, store: AnalyticsStore) -> None:
        records = [transaction(seq) for seq in range(1, 6)]
        store.write_transactions(records)
        store.write_transactions(records)
        window = store.transactions_between(
            ACCOUNT_A, records[1].timestamp_ns, records[4].timestamp_ns
        )
        assert window == records[1:4]
        assert store.transactions_between(ACCOUNT_A, 0, END_NS) == records

    # ------------------------------------------------------------------ risk snapshots

    def test_snapshots_round_trip_and_replay(self, store: AnalyticsStore) -> None:
        store.write_risk_snapshots(SNAPSHOTS)
        store.write_risk_snapshots(SNAPSHOTS[::-1])
        assert store.risk_snapshots_between(ACCOUNT_A, 0, END_NS) == SNAPSHOTS
        assert (
            store.risk_snapshots_between(ACCOUNT_A, SNAPSHOTS[1].as_of_ns, END_NS)
            == (SNAPSHOTS[1:])
        )

    def test_snapshot_extremes(self, store: AnalyticsStore) -> None:
        extreme = RiskSnapshot(ACCOUNT_A, None, I128_MIN, U128_MAX, U128_MAX, I128_MAX, BASE_NS)
        store.write_risk_snapshots([extreme])
        assert store.risk_snapshots_between(ACCOUNT_A, 0, END_NS) == [extreme]

    @pytest.mark.parametrize("rollup", list(Rollup))
    def test_rollups_match_the_reference(self, store: AnalyticsStore, rollup: Rollup) -> None:
        store.write_risk_snapshots(SNAPSHOTS)
        expected = rollups_of(SNAPSHOTS, rollup)
        assert store.risk_rollups(ACCOUNT_A, rollup, 0, END_NS) == expected
        store.write_risk_snapshots(SNAPSHOTS)  # a replay changes no rollup
        store.write_risk_snapshots(SNAPSHOTS[2:3])
        assert store.risk_rollups(ACCOUNT_A, rollup, 0, END_NS) == expected

    def test_rollup_shape(self, store: AnalyticsStore) -> None:
        store.write_risk_snapshots(SNAPSHOTS)
        hours = store.risk_rollups(ACCOUNT_A, Rollup.HOUR, 0, END_NS)
        assert [h.bucket_start_ns for h in hours] == [
            BASE_NS,
            BASE_NS + NS_PER_HOUR,
            BASE_NS + NS_PER_DAY,
        ]
        assert [h.samples for h in hours] == [3, 1, 1]
        first = hours[0]
        assert (first.equity_min_micro_usd, first.equity_max_micro_usd) == (900, 1_200)
        assert first.equity_last_micro_usd == 1_200
        assert first.last_as_of_ns == SNAPSHOTS[2].as_of_ns
        days = store.risk_rollups(ACCOUNT_A, Rollup.DAY, BASE_NS + 1, END_NS)
        assert [d.bucket_start_ns for d in days] == [BASE_NS + NS_PER_DAY]

    # ------------------------------------------------------------------ bad input

    def test_symbol_slices_are_refused_and_change_nothing(self, store: AnalyticsStore) -> None:
        slice_ = RiskSnapshot(ACCOUNT_A, "BTC-PERP", 1, 1, 1, 1, BASE_NS)
        with pytest.raises(InvalidValue) as caught:
            store.write_risk_snapshots([SNAPSHOTS[0], slice_])
        assert caught.value.field == "symbol"
        assert store.risk_snapshots_between(ACCOUNT_A, 0, END_NS) == []

    def test_bad_reads_are_typed(self, store: AnalyticsStore) -> None:
        with pytest.raises(InvalidValue) as caught:
            store.positions_between(ACCOUNT_A, 10, 5)
        assert caught.value.field == "end_ns"
        with pytest.raises(InvalidValue):
            store.latest_positions(ACCOUNT_A.value)  # type: ignore[arg-type]
        with pytest.raises(InvalidValue):
            store.transactions_between(ACCOUNT_A, -1, 5)

    def test_wrong_record_type_is_refused(self, store: AnalyticsStore) -> None:
        with pytest.raises(InvalidValue):
            store.write_positions([transaction(1)])  # type: ignore[list-item]
        assert store.latest_positions(ACCOUNT_A) == []

    # ------------------------------------------------------------------ projection cursor

    def test_projection_cursor_only_moves_forward(self, store: AnalyticsStore) -> None:
        store.mark_projected(5)
        store.mark_projected(3)
        assert store.projected_chains() == 5
        store.mark_projected(8)
        assert store.projected_chains() == 8
        with pytest.raises(InvalidValue):
            store.mark_projected(-1)
