"""Per-account execution lanes (SPEC §14): one lane per enabled account, isolated failures,
per-lane kill switches, account-scoped idempotency and cursors."""

from axapp.lanes.build import build_supervisor
from axapp.lanes.events import LaneEventLog
from axapp.lanes.fake_venue import FakeVenue
from axapp.lanes.kill_switch import KillSwitches
from axapp.lanes.lane import FlipFlopStrategy, Lane, NoUsableCredential
from axapp.lanes.supervisor import LanePolicy, LaneSupervisor

__all__ = [
    "FakeVenue",
    "FlipFlopStrategy",
    "KillSwitches",
    "Lane",
    "LaneEventLog",
    "LanePolicy",
    "LaneSupervisor",
    "NoUsableCredential",
    "build_supervisor",
]
