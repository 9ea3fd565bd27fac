"""The ledger-to-analytics projection: records equal the live ones, catch-up resumes from
the stored cursor, and a replay (crash before the cursor moved) changes no answer."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from axadapters.clickhouse import ClickHouseAnalyticsStore
from axadapters.memory.analytics import MemoryAnalyticsStore
from axapp.analytics import (
    LedgerProjection,
    format_latest_positions,
    project_and_show,
)
from axapp.config import Config
from axdomain import Side
from axdomain.analytics import AnalyticsStorageError, AnalyticsStore, project_ledger
from axdomain.ids import AccountId
from tests.app_support import MICRO
from tests.app_support import World as AppWorld
from tests.contract.clickhouse_support import chdb_store as fresh_chdb_store
from tests.ledger_support import DATED, PERP, World

END_NS = 1 << 62


def traded_world() -> World:
    world = World.build(3)
    for index in range(3):
        assert world.deposit(index, 1_000_000_000) == []
    assert world.fill(0, 1, 5, 100_000_000) == []
    assert world.fill(1, 2, 3, 101_000_000, DATED) == []
    assert world.fill(2, 0, 2, 99_000_000) == []
    assert world.funding(100_000_000, 1_000) == []
    assert world.withdraw(0, 1_000) == []
    return world


def answers(store: AnalyticsStore, accounts: list[AccountId]) -> list[object]:
    return [
        (
            store.latest_positions(a),
            store.positions_between(a, 0, END_NS),
            store.transactions_between(a, 0, END_NS),
        )
        for a in accounts
    ]


def accounts_of(world: World) -> list[AccountId]:
    return [c.account_id for c in world.customers]


@pytest.fixture
def chdb_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseAnalyticsStore]:
    yield from fresh_chdb_store(tmp_path_factory)


def test_projected_records_equal_those_the_exchange_emitted() -> None:
    w = AppWorld.build()
    _, alice_account, alice = w.user("alice", 10_000 * MICRO)
    _, bob_account, bob = w.user("bob", 10_000 * MICRO)
    w.place(bob, Side.SELL, 2, 100 * MICRO)
    w.place(alice, Side.BUY, 2, 100 * MICRO)
    stored = w.app.stores.projections
    chains = list(project_ledger(w.app.exchange.ledger.scan_transfers()))
    for account in (alice_account.account_id, bob_account.account_id):
        assert [p for c in chains for p in c.positions if p.account_id == account] == list(
            stored.position_records(account)
        )
        assert [t for c in chains for t in c.transactions if t.account_id == account] == list(
            stored.transaction_records(account)
        )
    assert stored.position_records(alice_account.account_id)  # the fill moved positions


def test_catch_up_then_live_commits_equal_one_full_catch_up() -> None:
    world = traded_world()
    transfers = world.ledger.scan_transfers()
    store = MemoryAnalyticsStore()
    projection = LedgerProjection(store, world.ledger)
    assert projection.catch_up() == len(list(project_ledger(transfers)))
    assert projection.catch_up() == 0
    assert world.fill(0, 2, 1, 100_000_000) == []
    newest = list(project_ledger(world.ledger.scan_transfers()))[-1]
    projection.on_commit(newest.positions, newest.transactions)
    assert store.projected_chains() == newest.index + 1
    fresh = MemoryAnalyticsStore()
    LedgerProjection(fresh, world.ledger).catch_up()
    assert answers(store, accounts_of(world)) == answers(fresh, accounts_of(world))


@attrs.define
class CursorFailsOnce:
    """Stores records, then dies before the cursor is written (a crash at the worst point)."""

    inner: AnalyticsStore
    armed: bool = True

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def mark_projected(self, chains: int) -> None:
        if self.armed:
            self.armed = False
            raise AnalyticsStorageError("clickhouse", "mark_projected", "simulated crash")
        self.inner.mark_projected(chains)


@pytest.mark.parametrize("kind", ["memory", "chdb"])
def test_replayed_projection_gives_the_same_answers(
    kind: str, request: pytest.FixtureRequest
) -> None:
    world = traded_world()
    store: AnalyticsStore = (
        MemoryAnalyticsStore() if kind == "memory" else request.getfixturevalue("chdb_store")
    )
    flaky = CursorFailsOnce(store)
    with pytest.raises(AnalyticsStorageError):
        LedgerProjection(flaky, world.ledger).catch_up()  # type: ignore[arg-type]
    assert store.projected_chains() == 0
    LedgerProjection(store, world.ledger).catch_up()
    first = answers(store, accounts_of(world))
    for chain in project_ledger(world.ledger.scan_transfers()):  # a full replay on top
        store.write_positions(chain.positions)
        store.write_transactions(chain.transactions)
    assert answers(store, accounts_of(world)) == first
    reference = MemoryAnalyticsStore()
    LedgerProjection(reference, world.ledger).catch_up()
    assert first == answers(reference, accounts_of(world))
    assert any(store.latest_positions(a) for a in accounts_of(world))
    assert format_latest_positions(store, accounts_of(world)[0])
    assert PERP in {p.contract for p in store.latest_positions(accounts_of(world)[0])}


def test_project_and_show_writes_to_chdb_under_the_data_dir(tmp_path: Path) -> None:
    world = traded_world()
    config = Config(data_dir=tmp_path / "data")
    account = accounts_of(world)[0]
    out = io.StringIO()
    assert project_and_show(out, config, world.ledger, account) > 0
    assert (tmp_path / "data" / "chdb").is_dir()
    text = out.getvalue()
    assert f"latest positions of {account}" in text
    assert str(PERP) in text
    again = io.StringIO()
    assert project_and_show(again, config, world.ledger, account) == 0  # caught up already
    assert again.getvalue().split("\n")[1:] == text.split("\n")[1:]
