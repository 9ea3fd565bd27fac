"""``ax lanes status``: per account, the registry entry next to its last recorded state."""

from __future__ import annotations

from typing import TextIO

from axapp.venue_config import AccountRegistry
from axdomain.venues.lanes import cursor_source
from axdomain.venues.ports import LaneStateStore

COLUMNS = ("label", "account", "mode", "venue", "on", "health", "fails", "orders", "cursor")


def render_status(registry: AccountRegistry, state: LaneStateStore, out: TextIO) -> None:
    out.write(f"accounts from {registry.source}\n")
    out.write(
        f"{'label':<12} {'account':<16} {'mode':<5} {'venue':<8} {'on':<3} {'health':<9} "
        f"{'fails':>5} {'orders':>6} {'cursor':>6}  kill switch / last error\n"
    )
    for entry in registry.entries:
        health = state.get_health(entry.label)
        cursor = state.get_cursor(cursor_source(entry.venue, entry.label)) or "-"
        switch = state.kill_switch(entry.label)
        if switch is not None and switch.engaged:
            kill = (
                f"KILLED by {switch.operator.name} ({switch.operator.operator_id}) "
                f"at {switch.at_ns}: {switch.reason}"
            )
        else:
            kill = "off"
        state_text = health.state.value if health else "never-ran"
        fails = str(health.consecutive_failures) if health else "-"
        orders = str(health.orders_placed) if health else "-"
        out.write(
            f"{entry.label:<12} {entry.account_id!s:<16} {entry.mode.value:<5} "
            f"{entry.venue.name:<8} {'yes' if entry.enabled else 'no':<3} {state_text:<9} "
            f"{fails:>5} {orders:>6} {cursor:>6}  {kill}\n"
        )
        if health is not None and health.last_error:
            out.write(f"{'':<12} last error at {health.last_error_at_ns}: {health.last_error}\n")
