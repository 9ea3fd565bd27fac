"""Per-lane kill switches: an operator flag, audited, checked before every order.

The state of a switch is the latest record in the lane state store's insert-only log, so a
switch flipped by ``ax lanes kill`` in one process stops the next order of a lane running in
another, and the log keeps who flipped it, when and why.
"""

from __future__ import annotations

from axdomain.ids import AccountId
from axdomain.ports import Clock
from axdomain.venues.lanes import KillSwitchEvent, OperatorRef
from axdomain.venues.ports import LaneStateStore


class KillSwitches:
    def __init__(self, state: LaneStateStore, clock: Clock) -> None:
        self._state = state
        self._clock = clock

    def engage(
        self, label: str, account_id: AccountId, operator: OperatorRef, reason: str
    ) -> KillSwitchEvent:
        return self._record(label, account_id, True, operator, reason)

    def release(
        self, label: str, account_id: AccountId, operator: OperatorRef, reason: str
    ) -> KillSwitchEvent:
        return self._record(label, account_id, False, operator, reason)

    def _record(
        self, label: str, account_id: AccountId, engaged: bool, operator: OperatorRef, reason: str
    ) -> KillSwitchEvent:
        event = KillSwitchEvent(label, account_id, engaged, operator, reason, self._clock.now_ns())
        self._state.append_kill_switch(event)
        return event

    def is_engaged(self, label: str) -> bool:
        latest = self._state.kill_switch(label)
        return latest is not None and latest.engaged
