"""``ax lanes demo``: three account lanes on the in-process venue, all in memory.

* ``alpha`` and ``beta`` trade with their own encrypted credentials;
* ``watcher`` holds no credential: ``alpha`` shares its venue credential ``read_only``, so
  the watcher reads alpha's fills and positions while every order it decides is refused;
* beta's venue account has an outage (three calls fail): beta goes unhealthy, is retried
  with backoff and recovers while alpha keeps trading;
* an operator engages alpha's kill switch for a few rounds: only alpha stops ordering.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TextIO

from axadapters.lane_state import MemoryLaneStateStore
from axadapters.vault import CredentialKeyring, MemoryCredentialVault
from axapp.lanes.build import build_supervisor
from axapp.lanes.events import LaneEventLog
from axapp.lanes.fake_venue import FAKE_VENUE, FakeVenue
from axapp.lanes.kill_switch import KillSwitches
from axapp.lanes.manual_clock import ManualClock
from axapp.lanes.status import render_status
from axapp.lanes.supervisor import LanePolicy
from axapp.venue_config import AccountEntry, AccountMode, AccountRegistry
from axdomain.ids import AccountId
from axdomain.venues.credentials import CredentialKey, CredentialRef, VenueCredential
from axdomain.venues.lanes import LaneEventKind, LaneHealth, LaneState, OperatorRef
from axdomain.venues.secret_text import SecretText
from axdomain.venues.sharing import CredentialPurpose, CredentialShare, ShareLevel

ROUNDS = 12
ROUND_MS = 1_000
START_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
OUTAGE_ROUND, OUTAGE_CALLS = 3, 3
KILL_ROUND, RELEASE_ROUND = 6, 9
DEMO_OPERATOR = OperatorRef("op-demo", "demo operator")
SHOWN_DETAIL = ("client_order_id", "error", "reason", "level", "fill_seq")
QUIET_KINDS = (LaneEventKind.POSITIONS_READ,)
SHOWN_ID_CHARS = 30

ALPHA = AccountEntry("alpha", AccountId(0x0190_0000_0000_0A01), AccountMode.PAPER, FAKE_VENUE)
BETA = AccountEntry("beta", AccountId(0x0190_0000_0000_0B02), AccountMode.PAPER, FAKE_VENUE)
WATCHER = AccountEntry("watcher", AccountId(0x0190_0000_0000_0C03), AccountMode.PAPER, FAKE_VENUE)


def _credential(entry: AccountEntry) -> VenueCredential:
    ref = CredentialRef(CredentialKey(entry.account_id, entry.venue), f"fx-{entry.label}")
    return VenueCredential(
        ref,
        api_key=SecretText(f"pk-{os.urandom(8).hex()}"),
        api_secret=SecretText(f"sk-{os.urandom(16).hex()}"),
    )


def run_lanes_demo(out: TextIO) -> int:
    keyring = CredentialKeyring.parse(CredentialKeyring.generate_entry("demo-key-1"))
    vault = MemoryCredentialVault(keyring)
    state = MemoryLaneStateStore()
    venue = FakeVenue()
    clock = ManualClock(START_NS)
    events = LaneEventLog()
    for entry in (ALPHA, BETA):
        credential = _credential(entry)
        vault.put_credential(credential)
        venue.provision(f"fx-{entry.label}", credential)
    vault.put_share(
        CredentialShare(WATCHER.account_id, ALPHA.account_id, FAKE_VENUE, ShareLevel.READ_ONLY)
    )
    registry = AccountRegistry((ALPHA, BETA, WATCHER), "ax lanes demo")
    policy = LanePolicy(base_backoff_ms=ROUND_MS, max_backoff_ms=4 * ROUND_MS)
    supervisor = build_supervisor(
        registry,
        vault=vault,
        state=state,
        connector=venue,
        clock=clock,
        events=events,
        policy=policy,
    )
    kill_switches = KillSwitches(state, clock)
    out.write(f"credentials sealed with AES-GCM under key ids {list(vault.key_usage())}\n")
    out.write("watcher borrows alpha's fake-venue credential at level read_only:\n")
    watcher_lane = next(lane for lane in supervisor.lanes if lane.label == WATCHER.label)
    for purpose in CredentialPurpose:
        decision = watcher_lane.decide_credential(purpose)
        out.write(f"  {purpose.value:<9} -> {decision.reason.value}\n")
    seen = 0
    for round_no in range(1, ROUNDS + 1):
        if round_no == OUTAGE_ROUND:
            venue.fail_next("fx-beta", OUTAGE_CALLS, "venue timeout (simulated outage)")
            out.write(f"-- round {round_no}: beta's venue account starts failing\n")
        if round_no == KILL_ROUND:
            kill_switches.engage(ALPHA.label, ALPHA.account_id, DEMO_OPERATOR, "demo drill")
            out.write(f"-- round {round_no}: {DEMO_OPERATOR.name} engages alpha's kill switch\n")
        if round_no == RELEASE_ROUND:
            kill_switches.release(ALPHA.label, ALPHA.account_id, DEMO_OPERATOR, "drill over")
            out.write(f"-- round {round_no}: {DEMO_OPERATOR.name} releases alpha's kill switch\n")
        supervisor.run_round()
        for position, event in events.since(seen):
            seen = position
            if event.kind in QUIET_KINDS:
                continue
            shown = " ".join(
                f"{k}={v[:SHOWN_ID_CHARS] if k == 'client_order_id' else v}"
                for k, v in event.detail
                if k in SHOWN_DETAIL
            )
            out.write(f"r{round_no:02d} {event.label:<8} {event.kind.value:<26} {shown}\n")
        venue.advance()
        clock.advance_ms(ROUND_MS)
    out.write("\n")
    render_status(registry, state, out)
    return _verdict(supervisor.all_health(), events, out)


def _verdict(health: Sequence[LaneHealth], events: LaneEventLog, out: TextIO) -> int:
    placed = {
        entry.label: len(events.events(entry.label, LaneEventKind.ORDER_PLACED))
        for entry in (ALPHA, BETA, WATCHER)
    }
    checks = {
        "alpha and beta both traded": placed["alpha"] > 0 and placed["beta"] > 0,
        "the read-only watcher placed no order": placed["watcher"] == 0,
        "beta failed and recovered": bool(events.events("beta", LaneEventKind.LANE_RECOVERED)),
        "alpha kept trading during beta's outage": any(
            e.kind is LaneEventKind.ORDER_PLACED
            for e in events.events("alpha")
            if START_NS + (OUTAGE_ROUND - 1) * ROUND_MS * 1_000_000
            <= e.at_ns
            < START_NS + (OUTAGE_ROUND + 1) * ROUND_MS * 1_000_000
        ),
        "the kill switch stopped alpha only": bool(
            events.events("alpha", LaneEventKind.ORDER_BLOCKED_KILL_SWITCH)
        )
        and not events.events("beta", LaneEventKind.ORDER_BLOCKED_KILL_SWITCH),
        "every lane ends healthy": all(h.state is LaneState.HEALTHY for h in health),
    }
    out.write(f"\norders placed: {placed}\n")
    for name, passed in checks.items():
        out.write(f"  [{'ok' if passed else 'FAILED'}] {name}\n")
    return 0 if all(checks.values()) else 1
