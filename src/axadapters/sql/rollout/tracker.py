"""The rollout's own record: which steps have started and which are done.

One row per step in ``ax_rollout_steps``: ``started_at_ns`` is written before a step
changes anything and ``completed_at_ns`` only after its verification passed, so a step
killed in between reads as "in progress" and is finished by applying it again. The table
is the rollout's bookkeeping, outside the library's schema; ``endstate`` leaves it out of
the comparison with a fresh database by name.

PostgreSQL: ``apply`` holds a session advisory lock, so two operators cannot run steps
at once. SQLite serializes writers already; the kit assumes one ``ax rollout`` at a time.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import attrs
from sqlalchemy import BigInteger, Column, Engine, MetaData, String, Table, Text, select, text
from sqlalchemy.dialects import postgresql, sqlite

from axadapters.sql.rollout.ddl import RolloutRefused, has_table

TRACKER_TABLE = "ax_rollout_steps"
# Arbitrary but fixed: the advisory-lock key of "a rollout step is running".
ADVISORY_LOCK_KEY = 0x6178_726F_6C6C
MAX_CHANGES_CHARS = 4_000

tracker_metadata = MetaData()
steps_table = Table(
    TRACKER_TABLE,
    tracker_metadata,
    Column("step", String(32), primary_key=True),
    Column("started_at_ns", BigInteger, nullable=False),
    Column("completed_at_ns", BigInteger, nullable=True),
    Column("changes", Text, nullable=True),
)


@attrs.frozen
class StepState:
    step: str
    started_at_ns: int
    completed_at_ns: int | None
    changes: str | None

    @property
    def done(self) -> bool:
        return self.completed_at_ns is not None


def ensure_tracker(engine: Engine) -> None:
    tracker_metadata.create_all(engine, checkfirst=True)


def read_states(engine: Engine) -> dict[str, StepState]:
    if not has_table(engine, TRACKER_TABLE):
        return {}
    with engine.connect() as connection:
        rows = connection.execute(select(steps_table)).mappings()
        return {row["step"]: StepState(**row) for row in rows}


def mark_started(engine: Engine, step: str) -> None:
    values = {"step": step, "started_at_ns": time.time_ns(), "completed_at_ns": None}
    with engine.begin() as connection:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        connection.execute(dialect.insert(steps_table).values(values).on_conflict_do_nothing())


def mark_done(engine: Engine, step: str, changes: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            steps_table.update()
            .where(steps_table.c.step == step)
            .values(completed_at_ns=time.time_ns(), changes=changes[:MAX_CHANGES_CHARS])
        )


@contextlib.contextmanager
def exclusive_run(engine: Engine) -> Iterator[None]:
    """Refuse to start while another ``apply`` holds the rollout (PostgreSQL)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        got = connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
        ).scalar_one()
        connection.commit()
        if not got:
            raise RolloutRefused("rollout", "apply", "another `ax rollout apply` is running")
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            connection.commit()
