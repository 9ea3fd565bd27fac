"""Runs one lane per enabled account and keeps a failing lane from touching the others.

Every attempt of a lane is wrapped: an exception marks that lane unhealthy, records the
(redacted, truncated) error, emits ``lane_failed`` and schedules the next attempt after a
capped exponential backoff; after ``max_consecutive_failures`` in a row the lane is
``failed`` and waits for an operator's ``restart``. Other lanes never see the exception.
``run_round`` drives every lane once in turn (deterministic: tests and the demo);
``run_threaded`` gives each lane its own thread, so a lane that blocks cannot stall another.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import attrs

from axapp.lanes.lane import Lane
from axdomain.errors import InvalidValue
from axdomain.ports import Clock
from axdomain.venues.lanes import (
    LaneEventKind,
    LaneHealth,
    LaneState,
    backoff_ms,
    truncate_error,
)
from axdomain.venues.ports import LaneStateStore
from axdomain.venues.secret_text import redact

LOG = logging.getLogger("axapp.lanes")
NS_PER_MS = 1_000_000
MAX_LANES = 64
THREAD_JOIN_TIMEOUT_S = 30.0


@attrs.frozen
class LanePolicy:
    base_backoff_ms: int = 200
    max_backoff_ms: int = 10_000
    max_consecutive_failures: int = 50

    def __attrs_post_init__(self) -> None:
        if not 0 < self.base_backoff_ms <= self.max_backoff_ms:
            raise InvalidValue("base_backoff_ms", self.base_backoff_ms, "must be in (0, max]")
        if self.max_consecutive_failures < 1:
            raise InvalidValue("max_consecutive_failures", self.max_consecutive_failures, ">= 1")


class LaneSupervisor:
    def __init__(
        self,
        lanes: Sequence[Lane],
        *,
        state: LaneStateStore,
        clock: Clock,
        policy: LanePolicy | None = None,
    ) -> None:
        if len(lanes) > MAX_LANES:
            raise InvalidValue("lanes", len(lanes), f"at most {MAX_LANES}")
        labels = [lane.label for lane in lanes]
        if len(set(labels)) != len(labels):
            raise InvalidValue("lanes", labels, "duplicate label")
        self._lanes = {lane.label: lane for lane in lanes}
        self._state = state
        self._clock = clock
        self._policy = policy or LanePolicy()
        now = clock.now_ns()
        self._health = {
            lane.label: LaneHealth(lane.label, lane.entry.account_id, LaneState.STARTING, now)
            for lane in lanes
        }
        for health in self._health.values():
            state.put_health(health)

    @property
    def lanes(self) -> Sequence[Lane]:
        return list(self._lanes.values())

    def health(self, label: str) -> LaneHealth:
        return self._health[label]

    def all_health(self) -> list[LaneHealth]:
        return [self._health[label] for label in sorted(self._health)]

    def run_round(self) -> None:
        for lane in self._lanes.values():
            self.attempt(lane)

    def attempt(self, lane: Lane) -> None:
        """One guarded step of ``lane`` if it is due; never raises for the lane's failure."""
        health = self._health[lane.label]
        now = self._clock.now_ns()
        if health.state in (LaneState.FAILED, LaneState.STOPPED):
            return
        if health.next_attempt_at_ns is not None and now < health.next_attempt_at_ns:
            return
        try:
            lane.step()
        except Exception as error:  # isolation boundary: one lane's failure stays its own
            self._failed(lane, health, error, now)
            return
        self._succeeded(lane, health)

    def _succeeded(self, lane: Lane, health: LaneHealth) -> None:
        recovered = health.state is LaneState.UNHEALTHY
        updated = attrs.evolve(
            health,
            state=LaneState.HEALTHY,
            consecutive_failures=0,
            next_attempt_at_ns=None,
            orders_placed=lane.orders_placed,
            updated_at_ns=self._clock.now_ns(),
        )
        self._publish(updated)
        if recovered:
            lane.emit(LaneEventKind.LANE_RECOVERED, after_failures=str(health.consecutive_failures))

    def _failed(self, lane: Lane, health: LaneHealth, error: Exception, now: int) -> None:
        text = truncate_error(f"{type(error).__name__}: {redact(str(error), lane.known_secrets())}")
        failures = health.consecutive_failures + 1
        gave_up = failures >= self._policy.max_consecutive_failures
        delay_ms = backoff_ms(failures, self._policy.base_backoff_ms, self._policy.max_backoff_ms)
        updated = attrs.evolve(
            health,
            state=LaneState.FAILED if gave_up else LaneState.UNHEALTHY,
            consecutive_failures=failures,
            total_failures=health.total_failures + 1,
            last_error=text,
            last_error_at_ns=now,
            next_attempt_at_ns=None if gave_up else now + delay_ms * NS_PER_MS,
            orders_placed=lane.orders_placed,
            updated_at_ns=now,
        )
        self._publish(updated)
        LOG.warning(
            "lane %s (account %s) failed %d in a row: %s",
            lane.label,
            lane.entry.account_id,
            failures,
            text,
        )
        lane.emit(LaneEventKind.LANE_FAILED, error=text, retry_in_ms=str(delay_ms))
        if gave_up:
            lane.emit(LaneEventKind.LANE_GAVE_UP, after_failures=str(failures))

    def _publish(self, health: LaneHealth) -> None:
        self._health[health.label] = health
        try:
            self._state.put_health(health)
        except Exception as error:  # status is best effort; trading state is in memory
            LOG.warning("lane %s: health not persisted: %s", health.label, type(error).__name__)

    def restart(self, label: str) -> None:
        """Operator action: give a ``failed`` lane a fresh start."""
        health = self._health[label]
        self._publish(
            attrs.evolve(
                health,
                state=LaneState.STARTING,
                consecutive_failures=0,
                next_attempt_at_ns=None,
                updated_at_ns=self._clock.now_ns(),
            )
        )

    def run_threaded(self, stop: threading.Event, interval_ms: int) -> None:
        """One thread per lane until ``stop`` is set; returns after every thread joined."""
        if interval_ms < 1:
            raise InvalidValue("interval_ms", interval_ms, "must be >= 1")

        def loop(lane: Lane) -> None:
            while not stop.is_set():
                self.attempt(lane)
                stop.wait(interval_ms / 1000)

        threads = [
            threading.Thread(target=loop, args=(lane,), name=f"lane-{lane.label}", daemon=True)
            for lane in self._lanes.values()
        ]
        for thread in threads:
            thread.start()
        stop.wait()
        for thread in threads:
            thread.join(THREAD_JOIN_TIMEOUT_S)
