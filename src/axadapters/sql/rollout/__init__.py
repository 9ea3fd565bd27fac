"""The phased rollout kit: take a live 1:1 (user_id-keyed) database to the library's
account-keyed schema, one verified, idempotent, online-safe step at a time (seed 000 §1).

``legacy`` is the 1:1-era schema (a fixture, never in the library's Alembic history),
``generator`` fills it, ``steps``/``adopt`` are the migration steps, ``plan`` orders and
runs them, ``reads`` is the fixed set of reads that must not change. See docs/rollout.md.
"""

from axadapters.sql.rollout.ddl import RolloutContext, RolloutRefused
from axadapters.sql.rollout.generator import generate_legacy
from axadapters.sql.rollout.plan import ALL, PLAN, STEPS, apply_step, status_lines, verify_step

__all__ = [
    "ALL",
    "PLAN",
    "STEPS",
    "RolloutContext",
    "RolloutRefused",
    "apply_step",
    "generate_legacy",
    "status_lines",
    "verify_step",
]
