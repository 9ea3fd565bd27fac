"""The rollout plan: the steps in the seed's order, their prerequisites, and the runner
behind ``ax rollout plan | status | apply | verify``."""

from __future__ import annotations

import time

import attrs
from sqlalchemy import Engine

from axadapters.sql.rollout import steps as s
from axadapters.sql.rollout.adopt import apply_adopt, verify_adopt
from axadapters.sql.rollout.ddl import NS_PER_MS, LockMeter, RolloutContext, RolloutRefused
from axadapters.sql.rollout.tracker import (
    StepState,
    ensure_tracker,
    exclusive_run,
    mark_done,
    mark_started,
    read_states,
)
from axadapters.sql.rollout.verification import Verification

ALL = "all"

PLAN: tuple[s.Step, ...] = (
    s.Step(
        "class-0",
        "1",
        "Class 0 additive column: trading_accounts.ubo_user_id",
        (),
        s.apply_class_0,
        s.verify_class_0,
    ),
    s.Step(
        "class-a",
        "2",
        "Class A PK rewrites: balances, loss limits, LTV monitors",
        ("class-0",),
        s.apply_class_a,
        s.verify_class_a,
    ),
    s.Step(
        "permissions",
        "6",
        "Permission backfill (#2353) and the two new flags",
        ("class-0",),
        s.apply_permissions,
        s.verify_permissions,
    ),
    s.Step(
        "class-b",
        "7",
        "Class B PK rewrites: deposit addresses, leaderboard",
        ("class-a",),
        s.apply_class_b,
        s.verify_class_b,
    ),
    s.Step(
        "api-keys",
        "9",
        "API key rework: (user, account, scope); legacy keys grandfathered",
        ("permissions",),
        s.apply_api_keys,
        s.verify_api_keys,
    ),
    s.Step(
        "close-only-freeze",
        "10b",
        "Close-only / freeze move to trading_accounts",
        ("class-0", "permissions"),
        s.apply_close_only_freeze,
        s.verify_close_only_freeze,
    ),
    s.Step(
        "class-c",
        "C",
        "Class C: drop the duplicated users columns",
        ("close-only-freeze",),
        s.apply_class_c,
        s.verify_class_c,
    ),
    s.Step(
        "adopt",
        "-",
        "Adopt the library schema: its other tables, its revision, head",
        ("class-a", "class-b", "api-keys", "class-c"),
        apply_adopt,
        verify_adopt,
    ),
)
STEPS = {step.name: step for step in PLAN}


@attrs.frozen
class StepOutcome:
    step: str
    ran: bool
    changes: tuple[str, ...]
    verification: Verification
    elapsed_ms: float
    longest_pause_ms: float
    longest_batch_ms: float


def _status_word(state: StepState | None) -> str:
    if state is None:
        return "pending"
    return "done" if state.done else "in progress"


def plan_lines() -> list[str]:
    lines = []
    for step in PLAN:
        needs = ", ".join(step.requires) or "-"
        lines.append(f"{step.seed_ref:>3}  {step.name:<18} {step.title}  (needs: {needs})")
    return lines


def status_lines(engine: Engine) -> list[str]:
    states = read_states(engine)
    done = sum(1 for step in PLAN if (state := states.get(step.name)) and state.done)
    lines = [f"Rollout tracker: {done}/{len(PLAN)} steps done, {100 * done // len(PLAN)}%"]
    for step in PLAN:
        word = _status_word(states.get(step.name))
        lines.append(f"{step.seed_ref:>3}  {step.name:<18} {word:<12} {step.title}")
    return lines


def verify_step(engine: Engine, name: str) -> Verification:
    return s.require_step(STEPS, name).verify(engine)


def apply_step(ctx: RolloutContext, name: str) -> StepOutcome:
    """Run one step: refuse before its prerequisites, do what is missing, verify, record.

    A step already recorded as done is only verified: some steps (10b) change which copy
    of a fact is the truth, and must not redo their copy once the application relies on it.
    """
    step = s.require_step(STEPS, name)
    ensure_tracker(ctx.engine)
    with exclusive_run(ctx.engine):
        states = read_states(ctx.engine)
        missing = [need for need in step.requires if not _done(states, need)]
        if missing:
            raise RolloutRefused("step", name, f"needs {', '.join(missing)} done first")
        started = time.perf_counter_ns()
        ctx.locks = LockMeter()
        ran = not _done(states, name)
        changes: list[str] = []
        if ran:
            ctx.say(f"== {name}: {step.title}")
            mark_started(ctx.engine, name)
            changes = step.apply(ctx) or ["nothing to change"]
        verification = step.verify(ctx.engine)
        if ran and verification.ok:
            mark_done(ctx.engine, name, "; ".join(changes))
        return StepOutcome(
            step=name,
            ran=ran,
            changes=tuple(changes),
            verification=verification,
            elapsed_ms=(time.perf_counter_ns() - started) / NS_PER_MS,
            longest_pause_ms=ctx.locks.longest_pause_ms,
            longest_batch_ms=ctx.locks.longest_batch_ms,
        )


def _done(states: dict[str, StepState], name: str) -> bool:
    state = states.get(name)
    return state is not None and state.done
