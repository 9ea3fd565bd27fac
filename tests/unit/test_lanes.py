"""Account lanes: failure isolation, backoff, kill switches, idempotency, cursors, events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

import attrs
import pytest

from axadapters.lane_state import MemoryLaneStateStore
from axadapters.vault import CredentialKeyring, MemoryCredentialVault
from axapp.lanes import (
    FakeVenue,
    FlipFlopStrategy,
    KillSwitches,
    Lane,
    LaneEventLog,
    LanePolicy,
    LaneSupervisor,
    build_supervisor,
)
from axapp.lanes.fake_venue import FAKE_VENUE
from axapp.lanes.manual_clock import ManualClock
from axapp.lanes.venue_client import Quote
from axapp.venue_config import AccountEntry, AccountMode, AccountRegistry
from axdomain import AccountId, InvalidValue, Side
from axdomain.venues import (
    CredentialKey,
    CredentialRef,
    CredentialShare,
    LaneEventKind,
    LaneState,
    OperatorRef,
    SecretText,
    ShareLevel,
    TradeDecision,
    VenueCredential,
)

START_NS = 1_700_000_000_000_000_000
STEP_MS = 100
POLICY = LanePolicy(base_backoff_ms=100, max_backoff_ms=400, max_consecutive_failures=50)
OPERATOR = OperatorRef("op-42", "Riley Ops")
WAIT_LIMIT_S = 60.0


def entry(label: str, number: int, mode: AccountMode = AccountMode.PAPER) -> AccountEntry:
    return AccountEntry(label, AccountId(0x0190_0000_0000_0000 + number), mode, FAKE_VENUE)


ALPHA, BETA, GAMMA = entry("alpha", 1), entry("beta", 2), entry("gamma", 3)


@attrs.define
class World:
    venue: FakeVenue
    vault: MemoryCredentialVault
    state: MemoryLaneStateStore
    clock: ManualClock
    events: LaneEventLog

    def supervisor(
        self, *entries: AccountEntry, strategy: object = None, policy: LanePolicy = POLICY
    ) -> LaneSupervisor:
        return build_supervisor(
            AccountRegistry(entries, "test"),
            vault=self.vault,
            state=self.state,
            connector=self.venue,
            clock=self.clock,
            events=self.events,
            strategy=strategy,  # type: ignore[arg-type]
            policy=policy,
        )

    def rounds(self, supervisor: LaneSupervisor, count: int, *, advance: bool = True) -> None:
        for _ in range(count):
            supervisor.run_round()
            if advance:
                self.venue.advance()
            self.clock.advance_ms(STEP_MS)

    def placed(self, label: str) -> int:
        return len(self.events.events(label, LaneEventKind.ORDER_PLACED))

    def switches(self) -> KillSwitches:
        return KillSwitches(self.state, self.clock)


def make_world(*entries: AccountEntry) -> World:
    world = World(
        FakeVenue(),
        MemoryCredentialVault(CredentialKeyring([("k1", bytes(range(32)))])),
        MemoryLaneStateStore(),
        ManualClock(START_NS),
        LaneEventLog(),
    )
    for item in entries:
        credential = VenueCredential(
            CredentialRef(CredentialKey(item.account_id, item.venue), f"fx-{item.label}"),
            api_key=SecretText(f"pk-{item.label}"),
            api_secret=SecretText(f"lane-test-secret-{item.label}"),
        )
        world.vault.put_credential(credential)
        world.venue.provision(f"fx-{item.label}", credential)
    return world


class RaisingFor:
    """Flip-flop for everyone, except the named lanes whose strategy raises."""

    def __init__(self, *labels: str, error: Callable[[], Exception]) -> None:
        self.labels = set(labels)
        self.error = error
        self.inner = FlipFlopStrategy()

    def decide(
        self, item: AccountEntry, quote: Quote, positions: Mapping[str, int]
    ) -> TradeDecision | None:
        if item.label in self.labels:
            raise self.error()
        return self.inner.decide(item, quote, positions)


def test_a_raising_lane_never_stops_two_others() -> None:
    world = make_world(ALPHA, BETA, GAMMA)
    supervisor = world.supervisor(
        ALPHA, BETA, GAMMA, strategy=RaisingFor("beta", error=lambda: RuntimeError("boom"))
    )
    world.rounds(supervisor, 10)
    assert world.placed("alpha") == 10 and world.placed("gamma") == 10
    assert world.placed("beta") == 0
    beta = supervisor.health("beta")
    assert beta.state is LaneState.UNHEALTHY and beta.last_error == "RuntimeError: boom"
    # Backoff 100, 200, 400 (cap), 400 ms: attempts at t = 0, 100, 300, 700 of 0..900.
    assert beta.total_failures == 4 == beta.consecutive_failures
    assert beta.next_attempt_at_ns == START_NS + (700 + 400) * 1_000_000
    failures = world.events.events(kind=LaneEventKind.LANE_FAILED)
    assert {event.label for event in failures} == {"beta"}
    assert [e.as_dict()["retry_in_ms"] for e in failures] == ["100", "200", "400", "400"]
    assert world.state.get_health("beta") == beta
    for label in ("alpha", "gamma"):
        assert supervisor.health(label).state is LaneState.HEALTHY


def test_a_lane_gives_up_after_the_failure_bound_and_an_operator_restarts_it() -> None:
    world = make_world(ALPHA, BETA)
    flaky = RaisingFor("beta", error=lambda: ConnectionError("down"))
    policy = LanePolicy(base_backoff_ms=1, max_backoff_ms=1, max_consecutive_failures=3)
    supervisor = world.supervisor(ALPHA, BETA, strategy=flaky, policy=policy)
    world.rounds(supervisor, 6)
    assert supervisor.health("beta").state is LaneState.FAILED
    assert supervisor.health("beta").total_failures == 3
    assert world.events.events("beta", LaneEventKind.LANE_GAVE_UP)
    assert world.placed("alpha") == 6
    flaky.labels.clear()
    supervisor.restart("beta")
    world.rounds(supervisor, 2)
    assert supervisor.health("beta").state is LaneState.HEALTHY and world.placed("beta") == 2


def test_a_venue_outage_makes_a_lane_unhealthy_then_it_recovers() -> None:
    world = make_world(ALPHA, BETA)
    supervisor = world.supervisor(ALPHA, BETA)
    world.venue.fail_next("fx-beta", 2, "venue timeout")
    world.rounds(supervisor, 6)
    assert world.events.events("beta", LaneEventKind.LANE_RECOVERED)
    health = supervisor.health("beta")
    assert health.state is LaneState.HEALTHY and health.total_failures == 2
    assert health.last_error == "VenueError: venue='fake': venue timeout"
    assert world.placed("alpha") == 6 and world.placed("beta") > 0


def test_the_kill_switch_stops_one_lane_only_and_is_audited() -> None:
    world = make_world(ALPHA, BETA)
    supervisor = world.supervisor(ALPHA, BETA)
    world.rounds(supervisor, 2)
    event = world.switches().engage("alpha", ALPHA.account_id, OPERATOR, "risk review")
    world.rounds(supervisor, 3)
    assert world.placed("alpha") == 2 and world.placed("beta") == 5
    assert len(world.events.events("alpha", LaneEventKind.ORDER_BLOCKED_KILL_SWITCH)) == 3
    assert world.events.events("beta", LaneEventKind.ORDER_BLOCKED_KILL_SWITCH) == []
    assert supervisor.health("alpha").state is LaneState.HEALTHY  # killed is not failing
    world.switches().release("alpha", ALPHA.account_id, OPERATOR, "cleared")
    world.rounds(supervisor, 1)
    assert world.placed("alpha") == 3
    history = world.state.kill_switch_history("alpha")
    assert history[0] == event and event.operator == OPERATOR
    assert event.at_ns == START_NS + 2 * STEP_MS * 1_000_000 and event.reason == "risk review"
    assert [h.engaged for h in history] == [True, False]


def test_the_kill_switch_is_checked_right_before_the_order() -> None:
    world = make_world(ALPHA)

    class EngageWhileDeciding(FlipFlopStrategy):
        def decide(
            self, item: AccountEntry, quote: Quote, positions: Mapping[str, int]
        ) -> TradeDecision | None:
            world.switches().engage(item.label, item.account_id, OPERATOR, "mid-step")
            return super().decide(item, quote, positions)

    supervisor = world.supervisor(ALPHA, strategy=EngageWhileDeciding())
    world.rounds(supervisor, 1)
    assert world.placed("alpha") == 0
    assert world.venue.orders_of("fx-alpha") == []


def test_idempotency_is_account_scoped() -> None:
    world = make_world(ALPHA, BETA)
    supervisor = world.supervisor(ALPHA, BETA)

    class Same:
        def decide(
            self, item: AccountEntry, quote: Quote, positions: Mapping[str, int]
        ) -> TradeDecision | None:
            return TradeDecision(
                item.account_id, item.venue, "BTC-PERP", Side.BUY, 1, 10**12, "signal-1"
            )

    supervisor = world.supervisor(ALPHA, BETA, strategy=Same())
    world.rounds(supervisor, 3)
    alpha_orders = world.venue.orders_of("fx-alpha")
    beta_orders = world.venue.orders_of("fx-beta")
    assert len(alpha_orders) == 1 and len(beta_orders) == 1  # one decision, one order each
    assert alpha_orders[0].client_order_id != beta_orders[0].client_order_id
    assert alpha_orders[0].client_order_id.startswith(str(ALPHA.account_id))
    assert len(world.events.events("alpha", LaneEventKind.ORDER_DUPLICATE)) == 2
    # A restarted lane has forgotten its decisions; the venue's key still holds.
    restarted = world.supervisor(ALPHA, strategy=Same())
    world.rounds(restarted, 1)
    assert len(world.venue.orders_of("fx-alpha")) == 1
    assert len(world.events.events("alpha", LaneEventKind.ORDER_DUPLICATE)) == 3


def test_cursors_are_per_account_and_survive_a_restart() -> None:
    world = make_world(ALPHA, BETA)
    supervisor = world.supervisor(ALPHA, BETA, strategy=RaisingFor(error=RuntimeError))
    world.rounds(supervisor, 4)
    assert world.state.get_cursor("fake:alpha") == "3"
    assert world.state.get_cursor("fake:beta") == "3"
    world.venue.fail_next("fx-beta", 10, "down")
    world.rounds(supervisor, 2)
    assert world.state.get_cursor("fake:alpha") == "5"  # beta's outage does not hold alpha
    assert world.state.get_cursor("fake:beta") == "3"
    fills_before = len(world.events.events("alpha", LaneEventKind.FILL))
    restarted = world.supervisor(ALPHA)
    restarted.run_round()
    fills = world.events.events("alpha", LaneEventKind.FILL)
    assert [f.as_dict()["fill_seq"] for f in fills[fills_before:]] == ["6"]


def test_every_event_carries_its_account() -> None:
    world = make_world(ALPHA, BETA)
    supervisor = world.supervisor(ALPHA, BETA)
    world.venue.fail_next("fx-beta", 1, "blip")
    world.switches().engage("alpha", ALPHA.account_id, OPERATOR, "x")
    world.rounds(supervisor, 4)
    by_label = {ALPHA.label: ALPHA.account_id, BETA.label: BETA.account_id}
    events = world.events.events()
    assert {e.kind for e in events} >= {
        LaneEventKind.FILL,
        LaneEventKind.ORDER_PLACED,
        LaneEventKind.LANE_FAILED,
        LaneEventKind.LANE_RECOVERED,
        LaneEventKind.ORDER_BLOCKED_KILL_SWITCH,
    }
    for event in events:
        assert event.account_id == by_label[event.label]
        assert event.as_dict()["account_id"] == str(by_label[event.label])


def test_a_read_only_borrower_reads_the_holders_account_and_never_trades() -> None:
    watcher = entry("watcher", 9)
    world = make_world(ALPHA)
    world.vault.put_share(
        CredentialShare(watcher.account_id, ALPHA.account_id, FAKE_VENUE, ShareLevel.READ_ONLY)
    )
    supervisor = world.supervisor(ALPHA, watcher)
    world.rounds(supervisor, 3)
    assert world.placed("watcher") == 0
    blocked = world.events.events("watcher", LaneEventKind.ORDER_BLOCKED_CREDENTIAL)
    assert [b.as_dict()["reason"] for b in blocked] == ["level_too_low"] * 3
    assert len(world.events.events("watcher", LaneEventKind.FILL)) == 3  # alpha's fills
    assert world.state.get_cursor("fake:watcher") == "3"
    assert len(world.venue.orders_of("fx-alpha")) == 3  # only alpha's own


def test_a_lane_without_any_credential_stays_unhealthy() -> None:
    orphan = entry("orphan", 8)
    world = make_world(ALPHA)
    supervisor = world.supervisor(ALPHA, orphan)
    world.rounds(supervisor, 2)
    health = supervisor.health("orphan")
    assert health.state is LaneState.UNHEALTHY
    assert health.last_error is not None and "no_credential" in health.last_error
    assert world.placed("alpha") == 2


def test_live_accounts_are_refused_on_the_simulated_venue() -> None:
    world = make_world(ALPHA)
    with pytest.raises(InvalidValue, match="simulated"):
        world.supervisor(entry("real", 5, AccountMode.LIVE))


def test_disabled_accounts_get_no_lane() -> None:
    world = make_world(ALPHA, BETA)
    supervisor = world.supervisor(ALPHA, attrs.evolve(BETA, enabled=False))
    assert [lane.label for lane in supervisor.lanes] == ["alpha"]


def test_threaded_lanes_keep_trading_while_one_blocks() -> None:
    world = make_world(ALPHA, BETA, GAMMA)
    release = threading.Event()

    class Blocking(FlipFlopStrategy):
        def decide(
            self, item: AccountEntry, quote: Quote, positions: Mapping[str, int]
        ) -> TradeDecision | None:
            if item.label == "beta":
                release.wait()
                raise RuntimeError("was stuck")
            return super().decide(item, quote, positions)

    supervisor = world.supervisor(ALPHA, BETA, GAMMA, strategy=Blocking())
    stop = threading.Event()
    runner = threading.Thread(target=supervisor.run_threaded, args=(stop, 1))
    runner.start()
    deadline = time.monotonic() + WAIT_LIMIT_S
    try:
        while time.monotonic() < deadline and min(map(_venue_orders(world), "ag")) < 3:
            world.venue.advance()
            time.sleep(0.005)
    finally:
        release.set()
        stop.set()
        runner.join()
    assert min(map(_venue_orders(world), "ag")) >= 3
    assert world.venue.orders_of("fx-beta") == []


def _venue_orders(world: World) -> Callable[[str], int]:
    names = {"a": "fx-alpha", "g": "fx-gamma"}
    return lambda key: len(world.venue.orders_of(names[key]))


def test_supervisor_bounds() -> None:
    world = make_world(ALPHA)
    with pytest.raises(InvalidValue):
        LanePolicy(base_backoff_ms=0)
    with pytest.raises(InvalidValue):
        LanePolicy(max_consecutive_failures=0)
    lane = world.supervisor(ALPHA).lanes[0]
    assert isinstance(lane, Lane)
    with pytest.raises(InvalidValue, match="duplicate"):
        LaneSupervisor([lane, lane], state=world.state, clock=world.clock)
