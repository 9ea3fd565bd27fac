"""Contract suite for the lanes' durable state: cursors, last health, kill-switch log."""

from __future__ import annotations

from axdomain import AccountId
from axdomain.venues import KillSwitchEvent, LaneHealth, LaneState, LaneStateStore, OperatorRef

ALPHA = AccountId(0x0190_0000_0000_0A01)
BETA = AccountId(0x0190_0000_0000_0B02)
OPERATOR = OperatorRef("op-7", "Dana Ops")


def health(label: str, account: AccountId, state: LaneState, at_ns: int) -> LaneHealth:
    return LaneHealth(
        label=label,
        account_id=account,
        state=state,
        updated_at_ns=at_ns,
        consecutive_failures=2,
        total_failures=5,
        last_error="RuntimeError: venue timeout",
        last_error_at_ns=at_ns - 1,
        next_attempt_at_ns=at_ns + 100,
        orders_placed=9,
    )


def kill(label: str, account: AccountId, engaged: bool, at_ns: int) -> KillSwitchEvent:
    return KillSwitchEvent(label, account, engaged, OPERATOR, "drill", at_ns)


class LaneStateContract:
    def make_store(self) -> LaneStateStore:
        raise NotImplementedError

    def test_cursors_are_per_source(self) -> None:
        store = self.make_store()
        assert store.get_cursor("fake:alpha") is None
        store.put_cursor("fake:alpha", "17", 1)
        store.put_cursor("fake:beta", "3", 1)
        store.put_cursor("fake:alpha", "18", 2)
        assert store.get_cursor("fake:alpha") == "18"
        assert store.get_cursor("fake:beta") == "3"

    def test_health_is_replaced_per_label_and_listed_by_label(self) -> None:
        store = self.make_store()
        store.put_health(health("beta", BETA, LaneState.HEALTHY, 10))
        store.put_health(health("alpha", ALPHA, LaneState.UNHEALTHY, 10))
        store.put_health(health("alpha", ALPHA, LaneState.HEALTHY, 20))
        assert store.get_health("alpha") == health("alpha", ALPHA, LaneState.HEALTHY, 20)
        assert [h.label for h in store.all_health()] == ["alpha", "beta"]
        assert store.get_health("gamma") is None

    def test_health_round_trips_empty_optionals(self) -> None:
        store = self.make_store()
        bare = LaneHealth("alpha", ALPHA, LaneState.STARTING, 1)
        store.put_health(bare)
        assert store.get_health("alpha") == bare

    def test_kill_switch_state_is_the_latest_event_and_history_is_kept(self) -> None:
        store = self.make_store()
        assert store.kill_switch("alpha") is None
        events = [kill("alpha", ALPHA, True, 1), kill("beta", BETA, True, 2)]
        events.append(kill("alpha", ALPHA, False, 3))
        for event in events:
            store.append_kill_switch(event)
        latest = store.kill_switch("alpha")
        assert latest is not None and latest.engaged is False
        assert latest.operator == OPERATOR
        assert store.kill_switch_history("alpha") == [events[0], events[2]]
        beta = store.kill_switch("beta")
        assert beta is not None and beta.engaged is True
