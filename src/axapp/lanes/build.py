"""Builds the supervisor: one lane per enabled registry entry, sharing the stores."""

from __future__ import annotations

from axapp.lanes.events import LaneEventLog
from axapp.lanes.kill_switch import KillSwitches
from axapp.lanes.lane import FlipFlopStrategy, Lane, Strategy
from axapp.lanes.supervisor import LanePolicy, LaneSupervisor
from axapp.lanes.venue_client import VenueConnector
from axapp.venue_config import AccountMode, AccountRegistry
from axdomain.errors import InvalidValue
from axdomain.ports import Clock
from axdomain.venues.ports import CredentialVault, LaneStateStore


def build_supervisor(
    registry: AccountRegistry,
    *,
    vault: CredentialVault,
    state: LaneStateStore,
    connector: VenueConnector,
    clock: Clock,
    events: LaneEventLog,
    strategy: Strategy | None = None,
    policy: LanePolicy | None = None,
) -> LaneSupervisor:
    kill_switches = KillSwitches(state, clock)
    lanes = []
    for entry in registry.enabled():
        if entry.mode is AccountMode.LIVE and not connector.supports_live:
            raise InvalidValue(
                f"{registry.source} {entry.label}.mode", "live", "this venue connector is simulated"
            )
        lanes.append(
            Lane(
                entry,
                vault=vault,
                state=state,
                connector=connector,
                kill_switches=kill_switches,
                strategy=strategy or FlipFlopStrategy(),
                events=events,
                clock=clock,
            )
        )
    return LaneSupervisor(lanes, state=state, clock=clock, policy=policy)
